// Helpers shared by the record converters: typed field access that fails with
// "origin: field: what", media paths made relative to the root, content parts from text
// with media placeholders, and task inference from the media a pair carries.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "omnirm/data/convert.h"
#include "omnirm/data/example.h"

namespace omnirm::data::convert_detail {

using Json = nlohmann::json;

[[noreturn]] void fail(const ConvertContext& context, const std::string& field,
                       const std::string& what);

// "a string", "an array", ... for messages.
std::string json_type_name(const Json& value);

// The value at `key`, or nullptr when absent or null.
const Json* find_field(const Json& object, const std::string& key);
const Json& required_field(const Json& object, const std::string& key,
                           const ConvertContext& context);
std::string string_value(const Json& value, const std::string& field,
                         const ConvertContext& context);
// Absent or null: empty.
std::string optional_string(const Json& object, const std::string& key,
                            const ConvertContext& context);
// An id given as a string or an integer; absent: context.default_id.
std::string record_id(const Json& object, const ConvertContext& context);

// A media path from a source record, relative to the root: absolute paths must lie inside
// context.root; `prefix` (a directory under the root) is put in front of relative paths
// that do not already start with it; ".." may not leave the root.
std::string media_path(const std::string& raw, const std::string& prefix, const std::string& field,
                       const ConvertContext& context);

ContentPart text_part(std::string text);
ContentPart media_part(std::string type, std::string path);

// Splits `text` around "<image>", "<video>" and "<audio>"; each placeholder becomes the
// part `take(kind)` returns (kind is "image", "video" or "audio"); empty text is left out.
template <typename Take>
std::vector<ContentPart> split_placeholders(const std::string& text, Take&& take);

// Which media types appear in the parts (text excluded).
std::set<std::string> media_types(const std::vector<ContentPart>& parts);

// t2t ti2t tv2t ta2t t2i t2v t2a ti2i from the media of the prompt and the responses;
// fails naming both when no task fits.
std::string infer_task(const std::set<std::string>& prompt_media,
                       const std::set<std::string>& response_media, const ConvertContext& context);

// context.task when given, else infer_task over the example's media.
std::string resolve_task(const Example& example, const ConvertContext& context);

// The record converters, one file each.
Example convert_llamafactory(const Json& record, const ConvertContext& context);
Example convert_rewardbench(const Json& record, const ConvertContext& context);
Example convert_trl(const Json& record, const ConvertContext& context);
Example convert_vl_rewardbench(const Json& record, const ConvertContext& context);
Example convert_multimodal_rewardbench(const Json& record, const ConvertContext& context);
Example convert_text_rewardbench(const Json& record, const ConvertContext& context);

// ------------------------------------------------------------------------------------
// Template definition.

template <typename Take>
std::vector<ContentPart> split_placeholders(const std::string& text, Take&& take) {
  static const std::string kPlaceholders[] = {"<image>", "<video>", "<audio>"};
  std::vector<ContentPart> parts;
  size_t start = 0;
  for (;;) {
    size_t found = std::string::npos;
    const std::string* which = nullptr;
    for (const std::string& placeholder : kPlaceholders) {
      const size_t at = text.find(placeholder, start);
      if (at < found) {
        found = at;
        which = &placeholder;
      }
    }
    const size_t end = found == std::string::npos ? text.size() : found;
    if (end > start) parts.push_back(text_part(text.substr(start, end - start)));
    if (found == std::string::npos) break;
    parts.push_back(take(which->substr(1, which->size() - 2)));
    start = found + which->size();
  }
  return parts;
}

}  // namespace omnirm::data::convert_detail
