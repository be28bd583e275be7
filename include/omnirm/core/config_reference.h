// The configuration key reference, generated from the key table that reading and writing use:
// every key with its type, default and meaning. docs/config.md is its Markdown
// (`omnirm config docs > docs/config.md`), and a test fails when the two differ or a key has
// no meaning written down.
#pragma once

#include <string>
#include <vector>

namespace omnirm {

struct ConfigKeyInfo {
  std::string path;           // "train.lr"
  std::string type;           // integer | number | boolean | string
  std::string default_value;  // as a YAML scalar would read: 1e-3 → "0.001", "" → ""
  std::string meaning;        // Markdown; empty when nobody wrote it
};

// Every key, in file order (model, data, train, lora, eval, dist).
std::vector<ConfigKeyInfo> config_key_reference();

// The whole docs/config.md: how a config is read and overridden, then one table per section.
std::string config_reference_markdown();

}  // namespace omnirm
