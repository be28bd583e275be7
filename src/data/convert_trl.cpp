// TRL / OpenRLHF preference records:
//   explicit prompt  {"prompt": P, "chosen": C, "rejected": R, "margin": m}
//   implicit prompt  {"chosen": [messages], "rejected": [messages]}  (a shared prefix)
// P, C and R are strings or message lists [{"role": ..., "content": ...}]; content is a string
// or a list of parts {"type": "text", "text": ...} / {"type": "image"} (the next path of the
// record's "images"). An implicit prompt is the longest common prefix of the two
// conversations; what follows it must be one assistant message on each side. A leading
// system message becomes the criteria.
#include <tuple>

#include "convert_support.h"

namespace omnirm::data::convert_detail {
namespace {

struct Message {
  std::string role;
  std::vector<ContentPart> content;
};

class MessageReader {
 public:
  MessageReader(const Json& record, const ConvertContext& context) : context_(context) {
    images_ = find_field(record, "images");
    if (images_ != nullptr && !images_->is_array()) {
      fail(context, "images", "must be an array of paths, got " + json_type_name(*images_));
    }
  }

  std::vector<ContentPart> content(const Json& value, const std::string& field) {
    if (value.is_string()) return {text_part(value.get<std::string>())};
    if (!value.is_array()) {
      fail(context_, field, "must be a string or a list of parts, got " + json_type_name(value));
    }
    std::vector<ContentPart> parts;
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string part_field = field + "[" + std::to_string(i) + "]";
      const Json& part = value[i];
      if (!part.is_object()) fail(context_, part_field, "must be an object with a type");
      const std::string type =
          string_value(required_field(part, "type", context_), part_field + ".type", context_);
      if (type == "text") {
        parts.push_back(text_part(
            string_value(required_field(part, "text", context_), part_field + ".text", context_)));
      } else if (type == "image") {
        parts.push_back(next_image(part_field));
      } else {
        fail(context_, part_field + ".type",
             "'" + type + "' parts are not supported; use text or image");
      }
    }
    return parts;
  }

  Message message(const Json& value, const std::string& field) {
    if (!value.is_object()) fail(context_, field, "must be a message {\"role\", \"content\"}");
    Message message;
    message.role = string_value(required_field(value, "role", context_), field + ".role", context_);
    if (message.role != "system" && message.role != "user" && message.role != "assistant") {
      fail(context_, field + ".role",
           "'" + message.role + "' is not supported; use system, user or assistant");
    }
    message.content = content(required_field(value, "content", context_), field + ".content");
    return message;
  }

  std::vector<Message> messages(const Json& value, const std::string& field) {
    std::vector<Message> list;
    for (size_t i = 0; i < value.size(); ++i) {
      list.push_back(message(value[i], field + "[" + std::to_string(i) + "]"));
    }
    return list;
  }

  void check_all_used() const {
    if (images_ != nullptr && image_next_ < images_->size()) {
      fail(context_, "images",
           std::to_string(images_->size()) + " paths but only " + std::to_string(image_next_) +
               " image parts use them");
    }
  }

 private:
  ContentPart next_image(const std::string& field) {
    if (images_ == nullptr || image_next_ >= images_->size()) {
      fail(context_, field, "an image part without a path left in \"images\"");
    }
    const std::string key = "images[" + std::to_string(image_next_) + "]";
    const std::string raw = string_value((*images_)[image_next_++], key, context_);
    return media_part("image", media_path(raw, "", key, context_));
  }

  const ConvertContext& context_;
  const Json* images_ = nullptr;
  size_t image_next_ = 0;
};

bool same_parts(const std::vector<ContentPart>& a, const std::vector<ContentPart>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].text != b[i].text || a[i].path != b[i].path) return false;
  }
  return true;
}

// The single assistant message a response must be.
std::vector<ContentPart> response_content(const std::vector<Message>& messages,
                                          const std::string& field, const ConvertContext& context) {
  if (messages.size() != 1 || messages[0].role != "assistant") {
    fail(context, field,
         "the response must be one assistant message, got " + std::to_string(messages.size()) +
             (messages.size() == 1 ? " " + messages[0].role + " message" : " messages"));
  }
  return messages[0].content;
}

// Prompt messages into criteria and turns.
void set_prompt(Example& example, std::vector<Message> prompt, const ConvertContext& context) {
  size_t first = 0;
  if (!prompt.empty() && prompt[0].role == "system") {
    for (const ContentPart& part : prompt[0].content) {
      if (part.type != "text") fail(context, "prompt[0]", "a system message holds text only");
      example.criteria += part.text;
    }
    first = 1;
  }
  for (size_t i = first; i < prompt.size(); ++i) {
    if (prompt[i].role == "system") {
      fail(context, "prompt[" + std::to_string(i) + "].role",
           "a system message may only come first");
    }
    example.prompt.push_back(Turn{prompt[i].role, std::move(prompt[i].content)});
  }
}

}  // namespace

Example convert_trl(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  Example example;
  example.id = record_id(record, context);
  MessageReader reader(record, context);
  const Json& chosen = required_field(record, "chosen", context);
  const Json& rejected = required_field(record, "rejected", context);

  if (const Json* prompt = find_field(record, "prompt")) {
    if (prompt->is_string()) {
      example.prompt.push_back(Turn{"user", {text_part(prompt->get<std::string>())}});
    } else if (prompt->is_array()) {
      set_prompt(example, reader.messages(*prompt, "prompt"), context);
    } else {
      fail(context, "prompt",
           "must be a string or a list of messages, got " + json_type_name(*prompt));
    }
    for (const auto& [json, field, out] : {std::tuple{&chosen, "chosen", &example.chosen},
                                           std::tuple{&rejected, "rejected", &example.rejected}}) {
      if (json->is_string()) {
        *out = {text_part(json->get<std::string>())};
      } else if (json->is_array()) {
        *out = response_content(reader.messages(*json, field), field, context);
      } else {
        fail(context, field,
             "must be a string or a list of messages, got " + json_type_name(*json));
      }
    }
  } else {
    if (!chosen.is_array() || !rejected.is_array()) {
      fail(context, "prompt",
           "missing; without a prompt, chosen and rejected must be full conversations (lists of "
           "messages) that share the prompt");
    }
    std::vector<Message> chosen_messages = reader.messages(chosen, "chosen");
    std::vector<Message> rejected_messages = reader.messages(rejected, "rejected");
    size_t shared = 0;
    while (shared < chosen_messages.size() && shared < rejected_messages.size() &&
           chosen_messages[shared].role == rejected_messages[shared].role &&
           same_parts(chosen_messages[shared].content, rejected_messages[shared].content)) {
      ++shared;
    }
    if (shared == 0) fail(context, "chosen", "chosen and rejected share no prompt messages");
    std::vector<Message> shared_prompt(chosen_messages.begin(), chosen_messages.begin() + shared);
    example.chosen = response_content({chosen_messages.begin() + shared, chosen_messages.end()},
                                      "chosen", context);
    example.rejected = response_content(
        {rejected_messages.begin() + shared, rejected_messages.end()}, "rejected", context);
    set_prompt(example, std::move(shared_prompt), context);
  }
  reader.check_all_used();

  if (const Json* margin = find_field(record, "margin")) {
    if (!margin->is_number())
      fail(context, "margin", "must be a number, got " + json_type_name(*margin));
    example.margin = margin->get<double>();
  }
  example.task = resolve_task(example, context);
  return example;
}

}  // namespace omnirm::data::convert_detail
