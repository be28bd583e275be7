// The scoring path depends downward only: the inference area, the reward server and the
// scoring commands include nothing of the trainer (train/, dist/) nor of the command line
// above them, and eval's metrics include nothing with torch. The link of
// omnirm_inference_link_check (tests/CMakeLists.txt) checks the same for the built code; this
// test names the file and the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;

struct Rule {
  std::vector<std::string> dirs;       // relative to the source tree
  std::vector<std::string> forbidden;  // include prefixes
};

// "file:line: #include ..." for every include of a forbidden prefix under the rule's dirs.
std::vector<std::string> violations(const Rule& rule) {
  std::vector<std::string> found;
  for (const std::string& dir : rule.dirs) {
    const fs::path root = fs::path(omnirm::testing::source_dir()) / dir;
    EXPECT_TRUE(fs::is_directory(root)) << root;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        if (!line.starts_with("#include")) continue;
        for (const std::string& prefix : rule.forbidden) {
          if (line.find("\"" + prefix) != std::string::npos ||
              line.find("<" + prefix) != std::string::npos) {
            found.push_back(dir + "/" + entry.path().filename().string() + ":" +
                            std::to_string(number) + ": " + line);
          }
        }
      }
    }
  }
  return found;
}

TEST(AreaDependencies, ScoringIncludesNoTrainingCode) {
  const Rule rule{{"src/infer", "include/omnirm/infer", "src/serve", "include/omnirm/serve",
                   "src/cli/inference"},
                  {"omnirm/train/", "omnirm/dist/", "omnirm/synth/"}};
  for (const std::string& violation : violations(rule)) ADD_FAILURE() << violation;
}

TEST(AreaDependencies, InferAndEvalIncludeNothingAboveThem) {
  const Rule infer{{"src/infer", "include/omnirm/infer"}, {"omnirm/serve/", "omnirm/cli/"}};
  for (const std::string& violation : violations(infer)) ADD_FAILURE() << violation;
  const Rule eval{{"src/eval", "include/omnirm/eval"},
                  {"omnirm/infer/", "omnirm/model/", "omnirm/ops/", "ATen/", "torch/"}};
  for (const std::string& violation : violations(eval)) ADD_FAILURE() << violation;
}

}  // namespace
