// Canonical pair records from JSONL (simdjson, one line at a time) and back (nlohmann-json).
// Every rejected record names its origin and field: "file:line: field: what is wrong".
// Shorthands accepted on input: a string prompt (one user turn), string turn content, and a
// string or {"content": ...} response. to_json_line always writes the full canonical form.
#include "omnirm/data/jsonl_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "omnirm/core/error.h"
#include "omnirm/data/media_path.h"

namespace omnirm::data {
namespace {

constexpr std::string_view kSkipAdvice = "; fix the record or set data.on_bad_record: skip";
constexpr size_t kMaxProblems = 100;

constexpr std::array<std::string_view, 9> kTasks = {"t2t", "ti2t", "tv2t", "ta2t", "t2i",
                                                    "t2v", "t2a",  "t23d", "ti2i"};
constexpr std::array<std::string_view, 5> kMediaTypes = {"image", "video", "audio", "mesh",
                                                         "views"};

template <size_t N>
bool is_one_of(std::string_view value, const std::array<std::string_view, N>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string type_name(const simdjson::dom::element& element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "number";
    case simdjson::dom::element_type::STRING:
      return "string";
    case simdjson::dom::element_type::BOOL:
      return "boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// Converts one parsed JSON document into an Example; every failure throws
// UserError("<origin>: <field>: <what>").
class RecordParser {
 public:
  RecordParser(const std::string& origin, RecordUse use) : origin_(origin), use_(use) {}

  Example parse(const simdjson::dom::element& document) const {
    simdjson::dom::object record;
    if (document.get_object().get(record) != simdjson::SUCCESS) {
      fail("record", "must be a JSON object, got " + type_name(document));
    }
    Example example;
    example.origin = origin_;
    example.id = std::string(required_string(record, "id"));
    if (example.id.empty()) fail("id", "must not be empty");

    if (auto task = optional_field(record, "task")) {
      example.task = std::string(string_value(*task, "task"));
      if (!is_one_of(example.task, kTasks)) {
        fail("task", "unknown task " + quoted_for_message(example.task) +
                         "; use one of t2t, ti2t, tv2t, ta2t, t2i, t2v, t2a, t23d, ti2i");
      }
    }
    if (auto criteria = optional_field(record, "criteria")) {
      example.criteria = std::string(string_value(*criteria, "criteria"));
    }
    example.prompt = parse_prompt(required_field(record, "prompt"));
    example.chosen = parse_response(required_field(record, "chosen"), "chosen");
    example.rejected = parse_response(required_field(record, "rejected"), "rejected");
    if (auto preference = optional_field(record, "preference")) {
      std::string_view name = string_value(*preference, "preference");
      if (name == "chosen") {
        example.preference = Preference::chosen;
      } else if (name == "tie") {
        example.preference = Preference::tie;
      } else {
        fail("preference", quoted_for_message(name) + " is not valid; use chosen or tie");
      }
    }
    if (auto margin = optional_field(record, "margin")) {
      double value = 0.0;
      if (margin->get_double().get(value) != simdjson::SUCCESS) {
        fail("margin", "must be a number, got " + type_name(*margin));
      }
      if (!std::isfinite(value)) fail("margin", "must be a finite number");
      example.margin = value;
    }
    if (auto tags = optional_field(record, "tags")) example.tags = parse_tags(*tags);
    if (use_ == RecordUse::training && example.preference == Preference::chosen &&
        same_parts(example.chosen, example.rejected)) {
      fail("rejected", "identical to chosen; a preference pair needs two different responses");
    }
    return example;
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw UserError(origin_ + ": " + field + ": " + what);
  }

  // `field` is the full path used in messages; it defaults to the key itself.
  simdjson::dom::element required_field(const simdjson::dom::object& object, const std::string& key,
                                        const std::string& field = "") const {
    simdjson::dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS) {
      fail(field.empty() ? key : field, "missing required field");
    }
    return value;
  }

  // Absent and null both mean "use the default".
  std::optional<simdjson::dom::element> optional_field(const simdjson::dom::object& object,
                                                       const std::string& key) const {
    simdjson::dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) {
      return std::nullopt;
    }
    return value;
  }

  std::string_view string_value(const simdjson::dom::element& element,
                                const std::string& field) const {
    std::string_view value;
    if (element.get_string().get(value) != simdjson::SUCCESS) {
      fail(field, "must be a string, got " + type_name(element));
    }
    return value;
  }

  std::string_view required_string(const simdjson::dom::object& object,
                                   const std::string& key) const {
    return string_value(required_field(object, key), key);
  }

  std::vector<Turn> parse_prompt(const simdjson::dom::element& element) const {
    if (element.is_string()) {
      return {
          Turn{"user", {ContentPart{"text", std::string(string_value(element, "prompt")), ""}}}};
    }
    simdjson::dom::array turns;
    if (element.get_array().get(turns) != simdjson::SUCCESS) {
      fail("prompt", "must be a string or an array of turns, got " + type_name(element));
    }
    std::vector<Turn> prompt;
    for (simdjson::dom::element turn_element : turns) {
      const std::string field = "prompt[" + std::to_string(prompt.size()) + "]";
      simdjson::dom::object turn_object;
      if (turn_element.get_object().get(turn_object) != simdjson::SUCCESS) {
        fail(field, "must be an object with role and content, got " + type_name(turn_element));
      }
      Turn turn;
      turn.role = std::string(
          string_value(required_field(turn_object, "role", field + ".role"), field + ".role"));
      if (turn.role != "user" && turn.role != "assistant") {
        fail(field + ".role", quoted_for_message(turn.role) +
                                  " is not a valid role; use user or assistant (instructions "
                                  "for the judge go in criteria)");
      }
      turn.content = parse_parts(required_field(turn_object, "content", field + ".content"),
                                 field + ".content");
      prompt.push_back(std::move(turn));
    }
    if (prompt.empty()) fail("prompt", "must hold at least one turn");
    if (prompt.back().role != "user") {
      fail("prompt[" + std::to_string(prompt.size() - 1) + "].role",
           "the last prompt turn must be a user turn");
    }
    return prompt;
  }

  std::vector<ContentPart> parse_response(const simdjson::dom::element& element,
                                          const std::string& field) const {
    std::vector<ContentPart> parts;
    if (element.is_string()) {
      parts.push_back(ContentPart{"text", std::string(string_value(element, field)), ""});
    } else {
      simdjson::dom::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) {
        fail(field, "must be a string or an object with content, got " + type_name(element));
      }
      parts =
          parse_parts(required_field(object, "content", field + ".content"), field + ".content");
    }
    const bool has_media = std::any_of(parts.begin(), parts.end(),
                                       [](const ContentPart& part) { return part.type != "text"; });
    if (!has_media && is_blank(text_of(parts))) {
      fail(field, "empty response (no text and no media)");
    }
    return parts;
  }

  std::vector<ContentPart> parse_parts(const simdjson::dom::element& element,
                                       const std::string& field) const {
    if (element.is_string()) {
      return {ContentPart{"text", std::string(string_value(element, field)), ""}};
    }
    simdjson::dom::array array;
    if (element.get_array().get(array) != simdjson::SUCCESS) {
      fail(field, "must be a string or an array of content parts, got " + type_name(element));
    }
    std::vector<ContentPart> parts;
    for (simdjson::dom::element part_element : array) {
      parts.push_back(parse_part(part_element, field + "[" + std::to_string(parts.size()) + "]"));
    }
    return parts;
  }

  ContentPart parse_part(const simdjson::dom::element& element, const std::string& field) const {
    simdjson::dom::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS) {
      fail(field, "must be an object with a type, got " + type_name(element));
    }
    ContentPart part;
    part.type =
        std::string(string_value(required_field(object, "type", field + ".type"), field + ".type"));
    if (part.type == "text") {
      part.text = std::string(
          string_value(required_field(object, "text", field + ".text"), field + ".text"));
    } else if (is_one_of(part.type, kMediaTypes)) {
      part.path = std::string(
          string_value(required_field(object, "path", field + ".path"), field + ".path"));
      check_media_path(part.path, field + ".path");
    } else {
      fail(field + ".type", "unknown content type " + quoted_for_message(part.type) +
                                "; use text, image, video, audio, mesh or views");
    }
    return part;
  }

  void check_media_path(const std::string& path, const std::string& field) const {
    if (std::optional<std::string> problem = media_path_problem(path)) fail(field, *problem);
  }

  std::vector<std::string> parse_tags(const simdjson::dom::element& element) const {
    simdjson::dom::array array;
    if (element.get_array().get(array) != simdjson::SUCCESS) {
      fail("tags", "must be an array of strings, got " + type_name(element));
    }
    std::vector<std::string> tags;
    for (simdjson::dom::element tag : array) {
      tags.emplace_back(string_value(tag, "tags[" + std::to_string(tags.size()) + "]"));
    }
    return tags;
  }

  static bool same_parts(const std::vector<ContentPart>& a, const std::vector<ContentPart>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const ContentPart& x, const ContentPart& y) {
                        return x.type == y.type && x.text == y.text && x.path == y.path;
                      });
  }

  const std::string& origin_;
  RecordUse use_;
};

Example parse_with(simdjson::dom::parser& parser, std::string_view json_line,
                   const std::string& origin, RecordUse use) {
  simdjson::dom::element document;
  const simdjson::error_code error = parser.parse(json_line.data(), json_line.size()).get(document);
  if (error != simdjson::SUCCESS) {
    throw UserError(origin + ": record: malformed JSON (" +
                    std::string(simdjson::error_message(error)) + ")");
  }
  return RecordParser(origin, use).parse(document);
}

nlohmann::ordered_json parts_to_json(const std::vector<ContentPart>& parts) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const ContentPart& part : parts) {
    nlohmann::ordered_json object;
    object["type"] = part.type;
    if (part.type == "text") {
      object["text"] = part.text;
    } else {
      object["path"] = part.path;
    }
    array.push_back(std::move(object));
  }
  return array;
}

}  // namespace

OnBadRecord parse_on_bad_record(const std::string& name) {
  if (name == "error") return OnBadRecord::error;
  if (name == "skip") return OnBadRecord::skip;
  throw UserError("data.on_bad_record: " + quoted_for_message(name) +
                  " is not valid; use error or skip");
}

Example parse_pair_record(std::string_view json_line, const std::string& origin, RecordUse use) {
  simdjson::dom::parser parser;
  return parse_with(parser, json_line, origin, use);
}

PairRecordParser::PairRecordParser(RecordUse use)
    : parser_(std::make_unique<simdjson::dom::parser>()), use_(use) {}
PairRecordParser::~PairRecordParser() = default;

Example PairRecordParser::parse(std::string_view json_line, const std::string& origin) {
  return parse_with(*parser_, json_line, origin, use_);
}

ReadResult read_pairs_jsonl(const std::string& path, OnBadRecord policy, RecordUse use) {
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (!std::filesystem::exists(status)) {
    throw UserError("data file '" + path + "' does not exist; check the data path");
  }
  if (std::filesystem::is_directory(status)) {
    throw UserError("data file '" + path + "' is a directory; give the path of a .jsonl file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UserError("cannot open data file '" + path + "': " + std::strerror(errno) +
                    "; check the path and its permissions");
  }

  simdjson::dom::parser parser;
  ReadResult result;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (is_blank(line)) continue;
    ++result.summary.lines;
    const std::string origin = path + ":" + std::to_string(line_number);
    try {
      result.examples.push_back(parse_with(parser, line, origin, use));
      ++result.summary.records;
    } catch (const UserError& error) {
      if (policy == OnBadRecord::error) throw UserError(error.what() + std::string(kSkipAdvice));
      ++result.summary.skipped;
      if (result.summary.problems.size() < kMaxProblems) {
        result.summary.problems.emplace_back(error.what());
      }
    }
  }
  if (in.bad()) {
    throw UserError("read error in data file '" + path + "' after line " +
                    std::to_string(line_number) + "; check the file and the disk");
  }
  return result;
}

std::string to_json_line(const Example& example) {
  nlohmann::ordered_json record;
  record["id"] = example.id;
  record["task"] = example.task;
  record["criteria"] = example.criteria;
  nlohmann::ordered_json prompt = nlohmann::ordered_json::array();
  for (const Turn& turn : example.prompt) {
    nlohmann::ordered_json turn_json;
    turn_json["role"] = turn.role;
    turn_json["content"] = parts_to_json(turn.content);
    prompt.push_back(std::move(turn_json));
  }
  record["prompt"] = std::move(prompt);
  record["chosen"] = {{"content", parts_to_json(example.chosen)}};
  record["rejected"] = {{"content", parts_to_json(example.rejected)}};
  record["preference"] = example.preference == Preference::tie ? "tie" : "chosen";
  record["margin"] = example.margin;
  record["tags"] = example.tags;
  return record.dump();
}

}  // namespace omnirm::data
