// Tests of TokenCache: the same ids as the tokenizer on awkward text (runs of spaces,
// newlines, markers, non-ASCII, long words), hits on repeats, exactness after the cache
// empties, the fallback for a model whose pieces cross spaces, and exactness with an HF
// tokenizer.json (byte-level BPE).
#include "omnirm/data/token_cache.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data_test_support.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

const std::vector<std::string> kTexts = {
    "",
    " ",
    "   ",
    "what is the sky",
    "  leading spaces and trailing  ",
    "two  spaces   three    four",
    "<|im_start|>system\nPrefer the answer.<|im_end|>\n<|im_start|>user\n hi <image>\n",
    "café 日本 🙂 colour, answer: 42?",
    "line one\n line two\n\n  line four\t tab",
    "averyveryverylongwordwithoutanyspacesthatgoesonandonandonandonforalongtimeindeed end",
    "1 23 456 7890 12345678901234567890",
};

TEST(TokenCache, SameIdsAsTheTokenizer) {
  const text::Tokenizer& tokenizer = testing::shared_tokenizer();
  TokenCache cache(tokenizer);
  ASSERT_TRUE(cache.enabled());
  for (int round = 0; round < 2; ++round) {
    for (const std::string& text : kTexts) {
      EXPECT_EQ(cache.encode(text), tokenizer.encode(text)) << "'" << text << "'";
    }
  }
  EXPECT_GT(cache.hits(), 0);
  EXPECT_GT(cache.misses(), 0);

  std::vector<int32_t> appended = {7};
  cache.encode_append("what is", appended);
  std::vector<int32_t> expected = {7};
  const std::vector<int32_t> direct = tokenizer.encode("what is");
  expected.insert(expected.end(), direct.begin(), direct.end());
  EXPECT_EQ(appended, expected);
}

TEST(TokenCache, StaysExactWhenItEmptiesItself) {
  const text::Tokenizer& tokenizer = testing::shared_tokenizer();
  TokenCache cache(tokenizer, /*max_entries=*/3);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i % 17) + (i % 5 ? " " : "  ");
  EXPECT_EQ(cache.encode(text), tokenizer.encode(text));
  EXPECT_EQ(cache.encode(text), tokenizer.encode(text));
}

TEST(TokenCache, PassesThroughForPiecesAcrossSpaces) {
  // A model trained without splitting at spaces learns pieces such as "▁the▁sky".
  const std::string dir = omnirm::testing::make_temp_dir("token-cache");
  std::string corpus;
  for (int i = 0; i < 400; ++i)
    corpus += "the sky is blue and the sky is wide " + std::to_string(i % 10) + "\n";
  omnirm::testing::write_file(dir + "/corpus.txt", corpus);
  std::string symbols;
  for (const std::string& token : text::special_tokens())
    symbols += (symbols.empty() ? "" : ",") + token;
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + dir + "/corpus.txt --model_prefix=" + dir +
      "/joined --vocab_size=340 --model_type=bpe --split_by_whitespace=false "
      "--add_dummy_prefix=false --byte_fallback=true --minloglevel=2 --user_defined_symbols=" +
      symbols);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const text::Tokenizer joined = text::Tokenizer::load(dir + "/joined.model");
  ASSERT_NE(joined.encode("the sky").size(),
            joined.encode("the").size() + joined.encode(" sky").size())
      << "the model was expected to join words";

  TokenCache cache(joined);
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(TokenCache::segmentable(joined));
  EXPECT_EQ(cache.encode("the sky is blue"), joined.encode("the sky is blue"));
  EXPECT_TRUE(TokenCache::segmentable(testing::shared_tokenizer()));
  std::filesystem::remove_all(dir);
}

TEST(TokenCache, SameIdsAsAByteLevelBpeTokenizer) {
  // The HF tokenizer.json parity fixture: whatever cuts the cache takes for its vocabulary,
  // every line of the parity corpus, and the corpus as one text, tokenize as without it.
  const std::string fixture = omnirm::testing::source_dir() + "/tests/fixtures/bpe";
  const text::Tokenizer tokenizer = text::Tokenizer::load(fixture + "/tokenizer.json");
  TokenCache cache(tokenizer);
  std::ifstream in(fixture + "/cases.jsonl");
  std::string line;
  std::string all;
  int lines = 0;
  while (std::getline(in, line)) {
    const std::string text = nlohmann::json::parse(line)["text"].get<std::string>();
    EXPECT_EQ(cache.encode(text), tokenizer.encode(text)) << line;
    all += text + "\n";
    ++lines;
  }
  EXPECT_GT(lines, 100);
  EXPECT_EQ(cache.encode(all), tokenizer.encode(all));
  for (const std::string& text : kTexts) EXPECT_EQ(cache.encode(text), tokenizer.encode(text));
}

}  // namespace
}  // namespace omnirm::data
