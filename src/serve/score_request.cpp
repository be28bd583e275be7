// Implementation of serve/score_request.h.
#include "omnirm/serve/score_request.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "omnirm/core/error.h"

namespace omnirm::serve {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;  // a score request nests 4 levels; deeper is not one

[[noreturn]] void fail(const std::string& field, const std::string& what) {
  throw BadRequest(field + ": " + what);
}

std::string type_name(const json& value) { return value.type_name(); }

// Rejects bodies nested deeper than kMaxDepth before parsing them (brackets in strings are
// skipped), so no request can make the parser or the value's destructor recurse deeply.
void check_depth(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        fail("body", "nested deeper than " + std::to_string(kMaxDepth) + " levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

std::string string_field(const json& value, const std::string& field) {
  if (!value.is_string()) fail(field, "must be a string, got " + type_name(value));
  return value.get<std::string>();
}

// A turn's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_text(const json& value, const std::string& field) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) {
    fail(field, "must be a string or an array of content parts, got " + type_name(value));
  }
  std::string text;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string part_field = field + "[" + std::to_string(i) + "]";
    const json& part = value[i];
    if (!part.is_object())
      fail(part_field, "must be an object with a type, got " + type_name(part));
    const auto type = part.find("type");
    if (type == part.end()) fail(part_field + ".type", "missing");
    const std::string kind = string_field(*type, part_field + ".type");
    if (kind != "text") {
      fail(part_field + ".type", "'" + kind +
                                     "' parts are not served: this server scores text only; "
                                     "use {\"type\": \"text\", \"text\": ...}");
    }
    const auto part_text = part.find("text");
    if (part_text == part.end()) fail(part_field + ".text", "missing");
    text += string_field(*part_text, part_field + ".text");
  }
  return text;
}

std::vector<text::ChatTurn> parse_turns(const json& value) {
  if (value.is_string()) return {text::ChatTurn{"user", value.get<std::string>()}};
  if (!value.is_array()) {
    fail("prompt", "must be a string or an array of turns, got " + type_name(value));
  }
  if (value.empty()) fail("prompt", "must hold at least one turn");
  std::vector<text::ChatTurn> turns;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string field = "prompt[" + std::to_string(i) + "]";
    const json& turn = value[i];
    if (!turn.is_object()) {
      fail(field, "must be an object with role and content, got " + type_name(turn));
    }
    const auto role = turn.find("role");
    if (role == turn.end()) fail(field + ".role", "missing");
    const auto content = turn.find("content");
    if (content == turn.end()) fail(field + ".content", "missing");
    text::ChatTurn parsed{string_field(*role, field + ".role"),
                          content_text(*content, field + ".content")};
    if (parsed.role != "user" && parsed.role != "assistant") {
      fail(field + ".role", "'" + parsed.role +
                                "' is not a role; use user or assistant (instructions for the "
                                "judge go in criteria)");
    }
    turns.push_back(std::move(parsed));
  }
  if (turns.back().role != "user") {
    fail("prompt[" + std::to_string(turns.size() - 1) + "].role",
         "the last prompt turn must be a user turn");
  }
  return turns;
}

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

ScoreRequest parse_score_request(std::string_view body, const RequestLimits& limits) {
  check_depth(body);
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& error) {
    fail("body",
         "not valid JSON (error at byte " + std::to_string(error.byte) + "); send one JSON object");
  }
  if (!value.is_object()) fail("body", "must be a JSON object, got " + type_name(value));
  for (const auto& item : value.items()) {
    const std::string& key = item.key();
    if (key != "prompt" && key != "criteria" && key != "responses" && key != "id") {
      fail(key, "unknown field; a request has prompt, criteria, responses and id");
    }
  }
  ScoreRequest request;
  if (const auto id = value.find("id"); id != value.end()) request.id = string_field(*id, "id");
  if (const auto criteria = value.find("criteria"); criteria != value.end()) {
    request.criteria = string_field(*criteria, "criteria");
  }
  const auto prompt = value.find("prompt");
  if (prompt == value.end()) fail("prompt", "missing; give a string or an array of turns");
  request.turns = parse_turns(*prompt);

  const auto responses = value.find("responses");
  if (responses == value.end()) fail("responses", "missing; give an array of response strings");
  if (!responses->is_array())
    fail("responses", "must be an array of strings, got " + type_name(*responses));
  if (responses->empty()) fail("responses", "must hold at least one response");
  if (static_cast<int64_t>(responses->size()) > limits.max_responses) {
    fail("responses", std::to_string(responses->size()) + " responses; at most " +
                          std::to_string(limits.max_responses) +
                          " per request (server option --max-responses)");
  }
  for (size_t i = 0; i < responses->size(); ++i) {
    const std::string field = "responses[" + std::to_string(i) + "]";
    std::string response = string_field((*responses)[i], field);
    if (is_blank(response)) fail(field, "empty response");
    request.responses.push_back(std::move(response));
  }
  return request;
}

int64_t TokenizedRequest::tokens() const {
  int64_t total = static_cast<int64_t>(prompt.size());
  for (const std::vector<int32_t>& response : responses) {
    total += static_cast<int64_t>(response.size());
  }
  return total;
}

TokenizedRequest tokenize_score_request(const ScoreRequest& request,
                                        const text::Tokenizer& tokenizer,
                                        const RequestLimits& limits) {
  TokenizedRequest tokens;
  try {
    tokens.prompt = tokenizer.encode(text::render_prompt(request.criteria, request.turns));
  } catch (const UserError& error) {
    throw BadRequest(error.what());  // the template's own check names prompt[i].role
  }
  const auto prompt_length = static_cast<int64_t>(tokens.prompt.size());
  for (size_t i = 0; i < request.responses.size(); ++i) {
    tokens.responses.push_back(tokenizer.encode(text::render_response(request.responses[i])));
    const auto length = static_cast<int64_t>(tokens.responses.back().size());
    if (prompt_length + length > limits.max_length) {
      fail("responses[" + std::to_string(i) + "]",
           "prompt (" + std::to_string(prompt_length) + " tokens, criteria included) + response (" +
               std::to_string(length) + " tokens) exceed the model's max_length of " +
               std::to_string(limits.max_length) + " tokens; shorten them");
    }
  }
  if (tokens.tokens() > limits.max_request_tokens) {
    fail("responses", "the request is " + std::to_string(tokens.tokens()) +
                          " tokens (prompt once + every response), over the batch budget of " +
                          std::to_string(limits.max_request_tokens) +
                          " (server option --max-batch-tokens); send fewer responses per request");
  }
  return tokens;
}

}  // namespace omnirm::serve
