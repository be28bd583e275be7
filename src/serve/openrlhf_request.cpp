// Implementation of serve/openrlhf_request.h.
#include "omnirm/serve/openrlhf_request.h"

#include <nlohmann/json.hpp>

#include <map>

namespace omnirm::serve {
namespace {

using nlohmann::json;

constexpr std::string_view kStart = "<|im_start|>";
constexpr std::string_view kEnd = "<|im_end|>";
constexpr std::string_view kEndOfText = "<|endoftext|>";
constexpr int64_t kQueriesPerResponseLimit = 8;

[[noreturn]] void fail(const std::string& field, const std::string& what) {
  throw BadRequest(field + ": " + what);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_end(std::string_view text) {
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The query without what follows the response: padding and end-of-text tokens, the closing
// <|im_end|> and the whitespace around them.
std::string_view strip_tail(std::string_view text) {
  while (true) {
    const std::string_view trimmed = trim_end(text);
    if (trimmed.ends_with(kEndOfText)) {
      text = trimmed.substr(0, trimmed.size() - kEndOfText.size());
      continue;
    }
    if (trimmed.ends_with(kEnd)) return trimmed.substr(0, trimmed.size() - kEnd.size());
    return text;
  }
}

RequestPart text_part(std::string text, const std::string& field) {
  return RequestPart{"text", std::move(text), "", "", field};
}

// The grouping key of a prompt: criteria and every turn.
std::string prompt_key(const std::string& criteria, const std::vector<RequestTurn>& turns) {
  json key = json::array({criteria});
  for (const RequestTurn& turn : turns) key.push_back({turn.role, turn.content.front().text});
  return key.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::optional<ChatmlConversation> split_chatml(std::string_view text, const std::string& field) {
  const size_t first = text.find(kStart);
  if (first == std::string_view::npos) return std::nullopt;
  for (size_t i = 0; i < first; ++i) {
    if (!is_space(text[i])) return std::nullopt;  // text before the first turn
  }
  const std::string_view body = strip_tail(text.substr(first));
  ChatmlConversation conversation;
  size_t at = 0;
  bool last = false;
  while (!last) {
    // body[at] starts a turn: <|im_start|>role\n content (<|im_end|>\n<|im_start|>... | end)
    at += kStart.size();
    const size_t newline = body.find('\n', at);
    if (newline == std::string_view::npos) return std::nullopt;
    const std::string role(body.substr(at, newline - at));
    const size_t content_start = newline + 1;
    const size_t next = body.find(kStart, content_start);
    last = next == std::string_view::npos;
    std::string_view content =
        body.substr(content_start, (last ? body.size() : next) - content_start);
    if (!last) {
      // A turn before the last ends with <|im_end|> and a newline.
      const std::string_view closed = trim_end(content);
      if (!closed.ends_with(kEnd)) return std::nullopt;
      content = closed.substr(0, closed.size() - kEnd.size());
    }
    if (last) {
      if (role != "assistant") return std::nullopt;
      conversation.response = std::string(content);
      break;
    }
    if (role == "system") {
      if (!conversation.turns.empty() || !conversation.system.empty()) {
        fail(field, "a system turn after the first turn; only the first turn may be the system's");
      }
      conversation.system = std::string(content);
    } else if (role == "user" || role == "assistant") {
      conversation.turns.push_back(RequestTurn{role, {text_part(std::string(content), field)}});
    } else {
      fail(field, "a turn of role '" + role + "'; a query holds system, user and assistant turns");
    }
    at = next;
  }
  if (conversation.turns.empty() || conversation.turns.back().role != "user") {
    fail(field, "the turn before the response must be the user's");
  }
  return conversation;
}

RewardQueries parse_reward_queries(std::string_view body, const RequestLimits& limits) {
  check_json_depth(body);
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& error) {
    fail("body",
         "not valid JSON (error at byte " + std::to_string(error.byte) + "); send one JSON object");
  }
  if (!value.is_object())
    fail("body", "must be a JSON object, got " + std::string(value.type_name()));
  const auto query = value.find("query");
  if (query == value.end()) fail("query", "missing; give an array of query strings");
  if (!query->is_array()) fail("query", "must be an array of strings");
  if (query->empty()) fail("query", "must hold at least one query");
  const int64_t most = limits.max_responses * kQueriesPerResponseLimit;
  if (static_cast<int64_t>(query->size()) > most) {
    fail("query", std::to_string(query->size()) + " queries; at most " + std::to_string(most) +
                      " per request (8 × server option --max-responses)");
  }
  const json* prompts = nullptr;
  if (const auto found = value.find("prompts"); found != value.end() && !found->is_null()) {
    if (!found->is_array() || found->size() != query->size()) {
      fail("prompts", "must be an array of strings, one per query");
    }
    prompts = &*found;
  }
  if (const auto labels = value.find("labels"); labels != value.end() && !labels->is_null()) {
    if (!labels->is_array()) fail("labels", "must be an array");
  }

  RewardQueries out;
  std::map<std::string, size_t> request_of;  // prompt key → the request now filling up
  for (size_t i = 0; i < query->size(); ++i) {
    const std::string field = "query[" + std::to_string(i) + "]";
    if (!(*query)[i].is_string()) {
      fail(field, "must be a string, got " + std::string((*query)[i].type_name()));
    }
    const std::string text = (*query)[i].get<std::string>();
    std::string criteria, response;
    std::vector<RequestTurn> turns;
    if (std::optional<ChatmlConversation> chatml = split_chatml(text, field)) {
      criteria = std::move(chatml->system);
      turns = std::move(chatml->turns);
      response = std::move(chatml->response);
    } else {
      const std::string prompt_field = "prompts[" + std::to_string(i) + "]";
      if (prompts == nullptr || !(*prompts)[i].is_string()) {
        fail(field,
             "not a ChatML conversation ending in the assistant's response, and no "
             "prompts[" +
                 std::to_string(i) +
                 "] to split it at; send prompts or use a "
                 "ChatML chat template");
      }
      const std::string prompt = (*prompts)[i].get<std::string>();
      if (!text.starts_with(prompt)) {
        fail(field, "does not start with " + prompt_field +
                        "; the response is what follows the "
                        "prompt");
      }
      turns.push_back(RequestTurn{"user", {text_part(prompt, field)}});
      response = std::string(strip_tail(std::string_view(text).substr(prompt.size())));
    }
    if (trim_end(response).empty()) fail(field, "empty response");
    const std::string key = prompt_key(criteria, turns);
    auto found = request_of.find(key);
    if (found == request_of.end() ||
        static_cast<int64_t>(out.requests[found->second].responses.size()) >=
            limits.max_responses) {
      ScoreRequest request;
      request.criteria = std::move(criteria);
      request.turns = std::move(turns);
      out.requests.push_back(std::move(request));
      found = request_of.insert_or_assign(key, out.requests.size() - 1).first;
    }
    ScoreRequest& request = out.requests[found->second];
    request.responses.push_back({text_part(std::move(response), field)});
    out.where.emplace_back(found->second, request.responses.size() - 1);
  }
  return out;
}

}  // namespace omnirm::serve
