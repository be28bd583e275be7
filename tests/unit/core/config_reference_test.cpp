// Tests of the configuration key reference: every key of the schema has its meaning written
// down, types and defaults are read off Config itself, and docs/config.md is exactly what
// `omnirm config docs` generates from the table.
#include "omnirm/core/config_reference.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "omnirm/core/config.h"
#include "support/test_support.h"

namespace omnirm {
namespace {

using testing::read_file;
using testing::source_dir;

TEST(ConfigReference, EveryKeyHasAMeaning) {
  const std::vector<ConfigKeyInfo> keys = config_key_reference();
  ASSERT_GT(keys.size(), 90u);
  for (const ConfigKeyInfo& key : keys) {
    EXPECT_GE(key.meaning.size(), 8u)
        << key.path << " is undocumented: write its meaning in its row of src/core/config_keys.cpp";
  }
}

TEST(ConfigReference, ListsEveryKeyThatDumpConfigWritesOnce) {
  // dump_config writes every key of the schema: "section:" lines, then "  name: value".
  std::set<std::string> dumped;
  std::istringstream lines(dump_config(Config{}));
  std::string line, section;
  while (std::getline(lines, line)) {
    if (!line.starts_with("  ")) {
      section = line.substr(0, line.find(':'));
      continue;
    }
    dumped.insert(section + "." + line.substr(2, line.find(':') - 2));
  }
  std::set<std::string> listed;
  for (const ConfigKeyInfo& key : config_key_reference()) {
    EXPECT_TRUE(listed.insert(key.path).second) << key.path << " listed twice";
  }
  EXPECT_EQ(listed, dumped);
}

TEST(ConfigReference, TypesAndDefaultsComeFromConfig) {
  std::map<std::string, ConfigKeyInfo> by_path;
  for (const ConfigKeyInfo& key : config_key_reference()) by_path[key.path] = key;
  EXPECT_EQ(by_path.at("train.lr").type, "number");
  EXPECT_EQ(by_path.at("train.lr").default_value, "0.001");
  EXPECT_EQ(by_path.at("model.hidden_size").type, "integer");
  EXPECT_EQ(by_path.at("model.hidden_size").default_value,
            std::to_string(Config{}.model.hidden_size));
  EXPECT_EQ(by_path.at("model.prefix_sharing").type, "boolean");
  EXPECT_EQ(by_path.at("model.prefix_sharing").default_value, "true");
  EXPECT_EQ(by_path.at("data.train").type, "string");
  EXPECT_EQ(by_path.at("data.train").default_value, "");
  EXPECT_EQ(by_path.at("model.attention_backend").default_value, "auto");
}

TEST(ConfigReference, MarkdownHasOneTableRowPerKeyWithPipesEscaped) {
  const std::string markdown = config_reference_markdown();
  for (const ConfigKeyInfo& key : config_key_reference()) {
    EXPECT_NE(markdown.find("\n| `" + key.path + "` | " + key.type + " | "), std::string::npos)
        << key.path;
  }
  // The pair-prefix row holds "[prompt | chosen | rejected]": escaped, it stays one cell.
  EXPECT_NE(markdown.find("`[prompt \\| chosen \\| rejected]`"), std::string::npos);
  for (const char* section : {"model", "data", "train", "lora", "eval", "dist"}) {
    EXPECT_NE(markdown.find(std::string("\n## ") + section + "\n"), std::string::npos) << section;
  }
}

TEST(ConfigReference, DocsConfigMdIsTheGeneratedReference) {
  const std::string path = source_dir() + "/docs/config.md";
  EXPECT_EQ(read_file(path), config_reference_markdown())
      << path << " is out of date: regenerate it with `omnirm config docs > docs/config.md`";
}

}  // namespace
}  // namespace omnirm
