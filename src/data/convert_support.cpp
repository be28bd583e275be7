// Implementation of convert_support.h.
#include "convert_support.h"

#include <filesystem>

#include "omnirm/core/error.h"

namespace omnirm::data::convert_detail {
namespace {

namespace fs = std::filesystem;

bool starts_with_directory(const fs::path& path, const fs::path& directory) {
  auto it = path.begin();
  for (const fs::path& component : directory) {
    if (component.empty()) continue;
    if (it == path.end() || *it != component) return false;
    ++it;
  }
  return true;
}

std::string join(const std::set<std::string>& names) {
  if (names.empty()) return "none";
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : "+") + name;
  return joined;
}

}  // namespace

void fail(const ConvertContext& context, const std::string& field, const std::string& what) {
  throw UserError(context.origin + ": " + field + ": " + what);
}

std::string json_type_name(const Json& value) {
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  return "a number";
}

const Json* find_field(const Json& object, const std::string& key) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

const Json& required_field(const Json& object, const std::string& key,
                           const ConvertContext& context) {
  const Json* value = find_field(object, key);
  if (value == nullptr) fail(context, key, "missing required field");
  return *value;
}

std::string string_value(const Json& value, const std::string& field,
                         const ConvertContext& context) {
  if (!value.is_string()) fail(context, field, "must be a string, got " + json_type_name(value));
  return value.get<std::string>();
}

std::string optional_string(const Json& object, const std::string& key,
                            const ConvertContext& context) {
  const Json* value = find_field(object, key);
  return value == nullptr ? "" : string_value(*value, key, context);
}

std::string record_id(const Json& object, const ConvertContext& context) {
  const Json* id = find_field(object, "id");
  if (id == nullptr) return context.default_id;
  if (id->is_string() && !id->get<std::string>().empty()) return id->get<std::string>();
  if (id->is_number_integer()) return std::to_string(id->get<int64_t>());
  fail(context, "id", "must be a non-empty string or an integer, got " + json_type_name(*id));
}

std::string media_path(const std::string& raw, const std::string& prefix, const std::string& field,
                       const ConvertContext& context) {
  if (raw.empty()) fail(context, field, "empty media path");
  fs::path path(raw);
  if (path.is_absolute()) {
    const fs::path root =
        fs::absolute(context.root.empty() ? "." : context.root).lexically_normal();
    const fs::path relative = path.lexically_normal().lexically_relative(root);
    if (relative.empty() || *relative.begin() == "..") {
      fail(context, field,
           "media path '" + raw + "' is outside the root '" + root.string() +
               "'; pass --root with the directory that holds the media");
    }
    return relative.generic_string();
  }
  fs::path normal = path.lexically_normal();
  if (!prefix.empty() && !starts_with_directory(normal, fs::path(prefix))) {
    normal = (fs::path(prefix) / normal).lexically_normal();
  }
  if (normal.empty() || *normal.begin() == ".." || normal == ".") {
    fail(context, field,
         "media path '" + raw + "' leaves the root; give paths inside the dataset directory");
  }
  return normal.generic_string();
}

ContentPart text_part(std::string text) {
  ContentPart part;
  part.type = "text";
  part.text = std::move(text);
  return part;
}

ContentPart media_part(std::string type, std::string path) {
  ContentPart part;
  part.type = std::move(type);
  part.path = std::move(path);
  return part;
}

std::set<std::string> media_types(const std::vector<ContentPart>& parts) {
  std::set<std::string> types;
  for (const ContentPart& part : parts) {
    if (part.type != "text") types.insert(part.type);
  }
  return types;
}

std::string infer_task(const std::set<std::string>& prompt_media,
                       const std::set<std::string>& response_media, const ConvertContext& context) {
  const auto only = [](const std::set<std::string>& set, const char* type) {
    return set.size() == 1 && *set.begin() == type;
  };
  if (response_media.empty()) {
    if (prompt_media.empty()) return "t2t";
    if (only(prompt_media, "image")) return "ti2t";
    if (only(prompt_media, "video")) return "tv2t";
    if (only(prompt_media, "audio")) return "ta2t";
  } else if (prompt_media.empty()) {
    if (only(response_media, "image")) return "t2i";
    if (only(response_media, "video")) return "t2v";
    if (only(response_media, "audio")) return "t2a";
  } else if (only(prompt_media, "image") && only(response_media, "image")) {
    return "ti2i";
  }
  fail(context, "task",
       "cannot tell the task from " + join(prompt_media) + " media in the prompt and " +
           join(response_media) + " in the responses; pass --task");
}

std::string resolve_task(const Example& example, const ConvertContext& context) {
  if (!context.task.empty()) return context.task;
  std::set<std::string> prompt_media;
  for (const Turn& turn : example.prompt) {
    for (const std::string& type : media_types(turn.content)) prompt_media.insert(type);
  }
  std::set<std::string> response_media = media_types(example.chosen);
  for (const std::string& type : media_types(example.rejected)) response_media.insert(type);
  return infer_task(prompt_media, response_media, context);
}

}  // namespace omnirm::data::convert_detail
