// Implementation of data_test_support.h.
#include "data_test_support.h"

#include <filesystem>
#include <memory>

#include "support/test_support.h"

namespace omnirm::data::testing {
namespace {

const std::vector<std::string> kWords = {
    "what",   "colour", "is",    "the",     "sky",    "blue",   "green",  "answer", "prefer",
    "river",  "moving", "quiet", "harbour", "market", "engine", "garden", "winter", "honey",
    "people", "often",  "say",   "that",    "it",     "was",    "a",      "of",     "and"};

std::string corpus() {
  std::string text;
  for (int line = 0; line < 600; ++line) {
    text += "<|im_start|>user\n";
    for (int i = 0; i < 4 + line % 9; ++i) {
      text += kWords[(line * 7 + i * 5) % kWords.size()];
      text += (i % 4 == 3) ? ",  " : " ";
    }
    text += std::to_string(line) + "? <|im_end|>\n<image> café\n";
  }
  return text;
}

}  // namespace

const text::Tokenizer& shared_tokenizer() {
  static const std::unique_ptr<text::Tokenizer> tokenizer = [] {
    const std::string dir = omnirm::testing::make_temp_dir("data-tokenizer");
    omnirm::testing::write_file(dir + "/corpus.txt", corpus());
    text::TokenizerTrainOptions options;
    options.corpus_path = dir + "/corpus.txt";
    options.model_prefix = dir + "/tok";
    options.vocab_size = 400;
    text::train_tokenizer(options);
    auto loaded =
        std::make_unique<text::Tokenizer>(text::Tokenizer::load(options.model_prefix + ".model"));
    std::filesystem::remove_all(dir);  // the model is in memory now
    return loaded;
  }();
  return *tokenizer;
}

std::string pair_line(const std::string& id, const std::string& prompt, const std::string& chosen,
                      const std::string& rejected, const std::string& extra) {
  std::string line = R"({"id": ")" + id + R"(", "prompt": ")" + prompt + R"(", "chosen": ")" +
                     chosen + R"(", "rejected": ")" + rejected + "\"";
  if (!extra.empty()) line += ", " + extra;
  return line + "}";
}

std::vector<std::string> numbered_pairs(const std::string& prefix, int count) {
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    std::string prompt = "Question " + std::to_string(i) + ":";
    for (int w = 0; w < 3 + (i * 7) % 23; ++w) prompt += " " + kWords[(i + w * 3) % kWords.size()];
    lines.push_back(pair_line(prefix + "-" + std::to_string(i), prompt + "?",
                              "The answer is " + std::to_string(i) + ".",
                              "It was " + kWords[i % kWords.size()] + "."));
  }
  return lines;
}

std::string write_lines(const std::string& dir, const std::string& name,
                        const std::vector<std::string>& lines) {
  std::string content;
  for (const std::string& line : lines) content += line + "\n";
  const std::string path = dir + "/" + name;
  omnirm::testing::write_file(path, content);
  return path;
}

}  // namespace omnirm::data::testing
