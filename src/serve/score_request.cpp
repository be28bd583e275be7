// Implementation of serve/score_request.h.
#include "omnirm/serve/score_request.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "omnirm/data/media_path.h"
#include "omnirm/serve/base64.h"

namespace omnirm::serve {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;  // a score request nests 5 levels; deeper is not one

[[noreturn]] void fail(const std::string& field, const std::string& what, int status = 400) {
  throw BadRequest(field + ": " + what, status);
}

std::string type_name(const json& value) { return value.type_name(); }

std::string string_field(const json& value, const std::string& field) {
  if (!value.is_string()) fail(field, "must be a string, got " + type_name(value));
  return value.get<std::string>();
}

bool is_media_type(const std::string& type) {
  return type == "image" || type == "video" || type == "audio" || type == "mesh" || type == "views";
}

// The bytes of an inline media part: base64, optionally behind a "data:<mime>;base64," prefix.
std::string inline_bytes(const std::string& text, const std::string& field,
                         const RequestLimits& limits) {
  std::string_view payload = text;
  if (payload.starts_with("data:")) {
    const size_t comma = payload.find(',');
    if (comma == std::string_view::npos ||
        payload.substr(0, comma).find(";base64") == std::string_view::npos) {
      fail(field, "a data URL must be 'data:<type>;base64,<base64>'");
    }
    payload.remove_prefix(comma + 1);
  }
  const int64_t bound = base64_decoded_bound(payload);
  if (bound > limits.max_media_bytes + 2) {
    fail(field,
         "about " + std::to_string(bound) + " bytes of media, over the limit of " +
             std::to_string(limits.max_media_bytes) + " (server option --max-media-bytes)",
         413);
  }
  Base64Result decoded = decode_base64(payload);
  if (!decoded.ok()) {
    fail(field, "not valid base64 (at character " +
                    std::to_string(decoded.bad_offset + static_cast<int64_t>(text.size()) -
                                   static_cast<int64_t>(payload.size())) +
                    "); send the file's bytes in standard base64");
  }
  if (decoded.bytes.empty()) fail(field, "empty media");
  if (static_cast<int64_t>(decoded.bytes.size()) > limits.max_media_bytes) {
    fail(field,
         std::to_string(decoded.bytes.size()) + " bytes of media, over the limit of " +
             std::to_string(limits.max_media_bytes) + " (server option --max-media-bytes)",
         413);
  }
  return std::move(decoded.bytes);
}

RequestPart parse_part(const json& value, const std::string& field, const RequestLimits& limits) {
  if (!value.is_object()) fail(field, "must be an object with a type, got " + type_name(value));
  RequestPart part;
  part.field = field;
  const auto type = value.find("type");
  if (type == value.end()) fail(field + ".type", "missing");
  part.type = string_field(*type, field + ".type");
  if (part.type == "text") {
    const auto text = value.find("text");
    if (text == value.end()) fail(field + ".text", "missing");
    part.text = string_field(*text, field + ".text");
    return part;
  }
  if (!is_media_type(part.type)) {
    fail(field + ".type",
         "'" + part.type + "' is not a part type; use text, image, video, audio, mesh or views");
  }
  const auto path = value.find("path");
  const auto data = value.find("data");
  if ((path == value.end()) == (data == value.end())) {
    fail(field,
         "a media part needs one of \"path\" (a file under the server's --media-root) or "
         "\"data\" (the file in base64)");
  }
  if (path != value.end()) {
    part.path = string_field(*path, field + ".path");
    if (!limits.media_paths) {
      fail(field + ".path",
           "this server has no --media-root, so it reads no media by path; send the file inline "
           "as \"data\" (base64)");
    }
    if (auto problem = data::media_path_problem(part.path, "--media-root")) {
      fail(field + ".path", *problem);
    }
  } else {
    part.data = inline_bytes(string_field(*data, field + ".data"), field + ".data", limits);
  }
  return part;
}

// Content: a string (one text part) or an array of parts.
std::vector<RequestPart> parse_content(const json& value, const std::string& field,
                                       const RequestLimits& limits) {
  if (value.is_string()) return {RequestPart{"text", value.get<std::string>(), "", "", field}};
  if (!value.is_array()) {
    fail(field, "must be a string or an array of content parts, got " + type_name(value));
  }
  std::vector<RequestPart> parts;
  for (size_t i = 0; i < value.size(); ++i) {
    parts.push_back(parse_part(value[i], field + "[" + std::to_string(i) + "]", limits));
  }
  return parts;
}

std::vector<RequestTurn> parse_turns(const json& value, const RequestLimits& limits) {
  if (value.is_string()) {
    return {RequestTurn{"user", {RequestPart{"text", value.get<std::string>(), "", "", "prompt"}}}};
  }
  if (!value.is_array()) {
    fail("prompt", "must be a string or an array of turns, got " + type_name(value));
  }
  if (value.empty()) fail("prompt", "must hold at least one turn");
  std::vector<RequestTurn> turns;
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
    RequestTurn parsed{string_field(*role, field + ".role"), {}};
    if (parsed.role != "user" && parsed.role != "assistant") {
      fail(field + ".role", "'" + parsed.role +
                                "' is not a role; use user or assistant (instructions for the "
                                "judge go in criteria)");
    }
    parsed.content = parse_content(*content, field + ".content", limits);
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

// A response: a string, an array of parts, or {"content": string | parts}; not empty.
std::vector<RequestPart> parse_response(const json& value, const std::string& field,
                                        const RequestLimits& limits) {
  std::vector<RequestPart> parts;
  if (value.is_object()) {
    const auto content = value.find("content");
    if (content == value.end()) fail(field + ".content", "missing");
    parts = parse_content(*content, field + ".content", limits);
  } else if (value.is_string() || value.is_array()) {
    parts = parse_content(value, field, limits);
  } else {
    fail(field, "must be a string, an array of content parts or {\"content\": ...}, got " +
                    type_name(value));
  }
  const bool has_media = std::any_of(parts.begin(), parts.end(),
                                     [](const RequestPart& part) { return part.is_media(); });
  std::string text;
  for (const RequestPart& part : parts) text += part.text;
  if (!has_media && is_blank(text)) fail(field, "empty response");
  return parts;
}

}  // namespace

void check_json_depth(std::string_view body) {
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

ScoreRequest parse_score_request(std::string_view body, const RequestLimits& limits) {
  check_json_depth(body);
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
  request.turns = parse_turns(*prompt, limits);

  const auto responses = value.find("responses");
  if (responses == value.end()) fail("responses", "missing; give an array of responses");
  if (!responses->is_array()) {
    fail("responses", "must be an array of responses, got " + type_name(*responses));
  }
  if (responses->empty()) fail("responses", "must hold at least one response");
  if (static_cast<int64_t>(responses->size()) > limits.max_responses) {
    fail("responses", std::to_string(responses->size()) + " responses; at most " +
                          std::to_string(limits.max_responses) +
                          " per request (server option --max-responses)");
  }
  for (size_t i = 0; i < responses->size(); ++i) {
    request.responses.push_back(
        parse_response((*responses)[i], "responses[" + std::to_string(i) + "]", limits));
  }
  return request;
}

std::vector<MediaPartRef> media_parts(const ScoreRequest& request) {
  std::vector<MediaPartRef> parts;
  for (const RequestTurn& turn : request.turns) {
    for (const RequestPart& part : turn.content) {
      if (part.is_media()) parts.push_back({&part, 0});
    }
  }
  for (size_t i = 0; i < request.responses.size(); ++i) {
    for (const RequestPart& part : request.responses[i]) {
      if (part.is_media()) parts.push_back({&part, static_cast<int8_t>(i + 1)});
    }
  }
  return parts;
}

}  // namespace omnirm::serve
