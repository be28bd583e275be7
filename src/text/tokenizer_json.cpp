// Implementation of tokenizer_json.h: every field omnirm reads is checked for its JSON type
// and every value that would change HF tokenizers' output in a way omnirm does not
// reproduce is rejected, so a file either loads and tokenizes as HF does or fails to load.
#include "tokenizer_json.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "omnirm/core/error.h"

namespace omnirm::text {
namespace {

using nlohmann::json;

// The pre-tokenizer regex of GPT-2, which ByteLevel applies itself when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw UserError("tokenizer '" + path_ + "': " + field + ": " + problem);
  }

  const json& member(const json& object, const std::string& key, const std::string& field) const {
    const auto found = object.find(key);
    if (found == object.end()) fail(field, "missing; the file is not a complete tokenizer.json");
    return *found;
  }

  const json* optional_member(const json& object, const std::string& key) const {
    const auto found = object.find(key);
    return found == object.end() || found->is_null() ? nullptr : &*found;
  }

  std::string string_of(const json& value, const std::string& field) const {
    if (!value.is_string())
      fail(field, "expected a string, found " + std::string(value.type_name()));
    return value.get<std::string>();
  }

  bool bool_of(const json& object, const std::string& key, const std::string& field,
               bool fallback) const {
    const json* value = optional_member(object, key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) {
      fail(field + "." + key, "expected true or false, found " + std::string(value->type_name()));
    }
    return value->get<bool>();
  }

  int32_t id_of(const json& value, const std::string& field) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      fail(field, "expected a token id (a non-negative integer), found " + value.dump());
    }
    return static_cast<int32_t>(value.get<int64_t>());
  }

  std::string type_of(const json& object, const std::string& field) const {
    if (!object.is_object())
      fail(field, "expected an object, found " + std::string(object.type_name()));
    return string_of(member(object, "type", field + ".type"), field + ".type");
  }

  void read_model(const json& model, BpeModelSpec& spec) const {
    if (!model.is_object())
      fail("model", "expected an object, found " + std::string(model.type_name()));
    const json* type = optional_member(model, "type");
    if (type != nullptr && string_of(*type, "model.type") != "BPE") {
      fail("model.type", "'" + type->get<std::string>() +
                             "' is not supported: omnirm reads BPE tokenizer.json files (use a "
                             "sentencepiece .model for other kinds)");
    }
    const json& vocab = member(model, "vocab", "model.vocab");
    if (!vocab.is_object()) fail("model.vocab", "expected an object of token: id");
    spec.vocab.reserve(vocab.size());
    for (const auto& [token, id] : vocab.items()) {
      spec.vocab.emplace(token, id_of(id, "model.vocab['" + token + "']"));
    }
    const json& merges = member(model, "merges", "model.merges");
    if (!merges.is_array()) fail("model.merges", "expected an array");
    spec.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      spec.merges.push_back(merge_of(merges[i], "model.merges[" + std::to_string(i) + "]"));
    }
    if (const json* dropout = optional_member(model, "dropout")) {
      if (!dropout->is_number() || dropout->get<double>() != 0.0) {
        fail("model.dropout",
             dropout->dump() + " is not supported (BPE dropout is random); set null");
      }
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (const json* affix = optional_member(model, key)) {
        if (!string_of(*affix, std::string("model.") + key).empty()) {
          fail(std::string("model.") + key,
               "'" + affix->get<std::string>() + "' is not supported by byte-level BPE; set null");
        }
      }
    }
    if (bool_of(model, "byte_fallback", "model", false)) {
      fail("model.byte_fallback", "true is not supported by byte-level BPE; set false");
    }
    if (const json* unk = optional_member(model, "unk_token")) {
      spec.unk_token = string_of(*unk, "model.unk_token");
    }
    spec.fuse_unk = bool_of(model, "fuse_unk", "model", false);
    spec.ignore_merges = bool_of(model, "ignore_merges", "model", false);
  }

  std::pair<std::string, std::string> merge_of(const json& merge, const std::string& field) const {
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
          text.find(' ', space + 1) != std::string::npos) {
        fail(field, "'" + text + "' is not two tokens separated by one space");
      }
      return {text.substr(0, space), text.substr(space + 1)};
    }
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      return {merge[0].get<std::string>(), merge[1].get<std::string>()};
    }
    fail(field, "expected \"a b\" or [\"a\", \"b\"], found " + merge.dump());
  }

  void read_added_tokens(const json& tokens, std::vector<AddedTokenSpec>& out) const {
    if (!tokens.is_array()) fail("added_tokens", "expected an array");
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      const json& token = tokens[i];
      if (!token.is_object()) fail(field, "expected an object");
      AddedTokenSpec spec;
      spec.id = id_of(member(token, "id", field + ".id"), field + ".id");
      spec.content = string_of(member(token, "content", field + ".content"), field + ".content");
      if (spec.content.empty()) fail(field + ".content", "empty");
      spec.special = bool_of(token, "special", field, false);
      spec.normalized = bool_of(token, "normalized", field, !spec.special);
      for (const char* key : {"single_word", "lstrip", "rstrip"}) {
        if (bool_of(token, key, field, false)) {
          fail(field + "." + key, "true is not supported; set false");
        }
      }
      out.push_back(std::move(spec));
    }
  }

  void read_normalizer(const json& normalizer, const std::string& field, bool& nfc) const {
    const std::string type = type_of(normalizer, field);
    if (type == "NFC") {
      nfc = true;
    } else if (type == "Sequence") {
      const json& steps = member(normalizer, "normalizers", field + ".normalizers");
      if (!steps.is_array()) fail(field + ".normalizers", "expected an array");
      for (size_t i = 0; i < steps.size(); ++i) {
        read_normalizer(steps[i], field + ".normalizers[" + std::to_string(i) + "]", nfc);
      }
    } else {
      fail(field + ".type", "'" + type + "' is not supported (omnirm supports NFC or none)");
    }
  }

  void read_split(const json& step, const std::string& field, std::vector<SplitSpec>& out) const {
    SplitSpec split;
    split.field = field;
    const json& pattern = member(step, "pattern", field + ".pattern");
    if (pattern.is_object() && pattern.contains("Regex")) {
      split.pattern = string_of(pattern["Regex"], field + ".pattern.Regex");
    } else if (pattern.is_object() && pattern.contains("String")) {
      split.pattern = string_of(pattern["String"], field + ".pattern.String");
      split.literal = true;
    } else {
      fail(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    const std::string behavior =
        string_of(member(step, "behavior", field + ".behavior"), field + ".behavior");
    if (behavior == "Removed") {
      split.removed = true;
    } else if (behavior != "Isolated") {
      fail(field + ".behavior", "'" + behavior + "' is not supported (Isolated or Removed)");
    }
    split.invert = bool_of(step, "invert", field, false);
    out.push_back(std::move(split));
  }

  // ByteLevel must come last: the splits before it see text, the BPE model after it sees
  // the byte-level spelling.
  void read_pre_tokenizer(const json& pre, TokenizerJson& out) const {
    const std::string type = type_of(pre, "pre_tokenizer");
    std::vector<std::pair<const json*, std::string>> steps;
    if (type == "Sequence") {
      const json& list = member(pre, "pretokenizers", "pre_tokenizer.pretokenizers");
      if (!list.is_array()) fail("pre_tokenizer.pretokenizers", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) {
        steps.emplace_back(&list[i], "pre_tokenizer.pretokenizers[" + std::to_string(i) + "]");
      }
    } else {
      steps.emplace_back(&pre, "pre_tokenizer");
    }
    bool byte_level = false;
    for (const auto& [step, field] : steps) {
      const std::string step_type = type_of(*step, field);
      if (byte_level) fail(field, "a " + step_type + " step after ByteLevel is not supported");
      if (step_type == "Split") {
        read_split(*step, field, out.splits);
      } else if (step_type == "ByteLevel") {
        byte_level = true;
        if (bool_of(*step, "add_prefix_space", field, true)) {
          fail(field + ".add_prefix_space", "true is not supported; set false");
        }
        if (bool_of(*step, "use_regex", field, true)) {
          out.splits.push_back({kGpt2Pattern, false, false, false, field + ".use_regex"});
        }
      } else {
        fail(field + ".type", "'" + step_type + "' is not supported (Split or ByteLevel)");
      }
    }
    if (!byte_level) {
      fail("pre_tokenizer", "no ByteLevel step; omnirm reads byte-level BPE tokenizers only");
    }
  }

  TokenizerJson read(const json& root) const {
    if (!root.is_object()) fail("(top level)", "expected a JSON object");
    TokenizerJson out;
    read_model(member(root, "model", "model"), out.model);
    if (const json* added = optional_member(root, "added_tokens")) {
      read_added_tokens(*added, out.added_tokens);
    }
    if (const json* normalizer = optional_member(root, "normalizer")) {
      read_normalizer(*normalizer, "normalizer", out.nfc);
    }
    const json* pre = optional_member(root, "pre_tokenizer");
    if (pre == nullptr) fail("pre_tokenizer", "missing; a byte-level BPE needs ByteLevel");
    read_pre_tokenizer(*pre, out);
    const json* decoder = optional_member(root, "decoder");
    if (decoder == nullptr || type_of(*decoder, "decoder") != "ByteLevel") {
      fail("decoder", "expected a ByteLevel decoder");
    }
    if (const json* post = optional_member(root, "post_processor")) {
      const std::string type = type_of(*post, "post_processor");
      if (type != "ByteLevel") {
        fail("post_processor.type", "'" + type +
                                        "' is not supported: omnirm adds no tokens around a "
                                        "text; set null or ByteLevel");
      }
    }
    return out;
  }

 private:
  std::string path_;
};

}  // namespace

TokenizerJson read_tokenizer_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UserError("tokenizer '" + path + "' cannot be read: check the path and permissions");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  json root;
  try {
    root = json::parse(buffer.str());
  } catch (const json::exception& error) {
    throw UserError("tokenizer '" + path + "' is not valid JSON (" + error.what() +
                    "): use an HF tokenizers tokenizer.json");
  }
  const Reader reader(path);
  TokenizerJson spec = reader.read(root);
  return spec;
}

}  // namespace omnirm::text
