// Tests of PairEncoder: the token runs decode back to the rendered chat template, closing
// tokens end each response, and the truncation policy decides the counts.
#include "omnirm/data/pair_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

std::string make_corpus() {
  const std::vector<std::string> words = {"what", "colour", "is",     "the",    "sky",
                                          "blue", "green",  "answer", "prefer", "accurate",
                                          "café", "日本",   "🙂",   "42",     "?"};
  std::string corpus;
  for (int line = 0; line < 300; ++line) {
    std::string text = "<|im_start|>user ";
    for (int i = 0; i < 3 + line % 7; ++i) {
      text += words[(line * 5 + i * 3) % words.size()];
      text += (i % 3 == 0) ? "  " : " ";
    }
    text += "<|im_end|> <image>";
    corpus += text + "\n";
  }
  return corpus;
}

ContentPart text_part(const std::string& text) {
  ContentPart part;
  part.type = "text";
  part.text = text;
  return part;
}

ContentPart image_part(const std::string& path) {
  ContentPart part;
  part.type = "image";
  part.path = path;
  return part;
}

std::string repeat_words(const std::string& word, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += word;
    text += ' ';
  }
  return text;
}

Example make_example(const std::string& question, const std::string& chosen,
                     const std::string& rejected) {
  Example example;
  example.id = "pair-1";
  example.origin = "pairs.jsonl:3";
  example.criteria = "Prefer the accurate answer.";
  example.prompt = {Turn{"user", {text_part(question)}}};
  example.chosen = {text_part(chosen)};
  example.rejected = {text_part(rejected)};
  return example;
}

// Prompt plus the longer response, encoded without a length limit.
int64_t full_length(const text::Tokenizer& tokenizer, const Example& example) {
  EncodeCounts counts;
  const auto pair =
      PairEncoder(tokenizer, 1000000, text::TruncationPolicy::drop).encode(example, counts);
  return static_cast<int64_t>(pair->prompt.size() +
                              std::max(pair->chosen.size(), pair->rejected.size()));
}

class PairEncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(omnirm::testing::make_temp_dir("pair-encoder"));
    omnirm::testing::write_file(*dir_ + "/corpus.txt", make_corpus());
    text::TokenizerTrainOptions options;
    options.corpus_path = *dir_ + "/corpus.txt";
    options.model_prefix = *dir_ + "/tok";
    options.vocab_size = 350;
    text::train_tokenizer(options);
    tokenizer_ = new text::Tokenizer(text::Tokenizer::load(options.model_prefix + ".model"));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static const text::Tokenizer& tokenizer() { return *tokenizer_; }

  static std::string* dir_;
  static text::Tokenizer* tokenizer_;
};
std::string* PairEncoderTest::dir_ = nullptr;
text::Tokenizer* PairEncoderTest::tokenizer_ = nullptr;

TEST_F(PairEncoderTest, TokensDecodeToTheRenderedTemplate) {
  const PairEncoder encoder(tokenizer(), 4096, text::TruncationPolicy::truncate);
  EncodeCounts counts;
  const auto pair =
      encoder.encode(make_example("What colour is the sky?", "Blue.", "Green,  mostly."), counts);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(tokenizer().decode(pair->prompt),
            "<|im_start|>system\nPrefer the accurate answer.<|im_end|>\n"
            "<|im_start|>user\nWhat colour is the sky?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(tokenizer().decode(pair->chosen), "Blue.<|im_end|>\n");
  EXPECT_EQ(tokenizer().decode(pair->rejected), "Green,  mostly.<|im_end|>\n");
  EXPECT_EQ(counts.encoded, 1);
  EXPECT_EQ(counts.truncated, 0);
  EXPECT_EQ(counts.dropped, 0);
}

TEST_F(PairEncoderTest, MarkersAreSingleIdsAtTheEnds) {
  const PairEncoder encoder(tokenizer(), 4096, text::TruncationPolicy::truncate);
  EncodeCounts counts;
  const auto pair = encoder.encode(make_example("Is 42 the answer?", "Yes.", "No."), counts);
  ASSERT_TRUE(pair.has_value());
  const int32_t im_start = tokenizer().piece_id(text::kImStart);
  const int32_t im_end = tokenizer().piece_id(text::kImEnd);
  EXPECT_EQ(pair->prompt.front(), im_start);
  EXPECT_EQ(std::count(pair->prompt.begin(), pair->prompt.end(), im_start), 3);
  const std::vector<int32_t> closing = tokenizer().encode("<|im_end|>\n");
  ASSERT_EQ(closing.front(), im_end);
  for (const std::vector<int32_t>* response : {&pair->chosen, &pair->rejected}) {
    ASSERT_GT(response->size(), closing.size());
    EXPECT_TRUE(std::equal(closing.begin(), closing.end(), response->end() - closing.size()));
  }
}

TEST_F(PairEncoderTest, MultiTurnPromptWithoutCriteriaAndMediaParts) {
  const PairEncoder encoder(tokenizer(), 4096, text::TruncationPolicy::drop);
  Example example = make_example("unused", "It is blue.", "It is green.");
  example.criteria.clear();
  example.prompt = {Turn{"user", {image_part("media/sky.png"), text_part("What is this?")}},
                    Turn{"assistant", {text_part("The sky.")}},
                    Turn{"user", {text_part("Its colour?")}}};
  example.chosen = {image_part("media/a.png"), text_part("It is blue.")};
  EncodeCounts counts;
  const auto pair = encoder.encode(example, counts);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(tokenizer().decode(pair->prompt),
            "<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n"
            "<|im_start|>assistant\nThe sky.<|im_end|>\n"
            "<|im_start|>user\nIts colour?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(tokenizer().decode(pair->chosen), "<image>\nIt is blue.<|im_end|>\n");
  EXPECT_EQ(counts.encoded, 1);
}

TEST_F(PairEncoderTest, MediaLayoutExpandsPlaceholdersAndNeverCutsThroughMedia) {
  const MediaLayout layout = MediaLayout::of(tokenizer(), 5, 12, 3, 4);
  Example example = make_example("unused", "It is blue.", "green");
  example.prompt = {Turn{"user", {image_part("media/sky.png"), text_part("Colour?")}}};
  example.chosen = {text_part("It is blue."), image_part("media/a.png")};
  EncodeCounts counts;
  const auto plain =
      PairEncoder(tokenizer(), 4096, text::TruncationPolicy::truncate).encode(example, counts);
  const auto expanded = PairEncoder(tokenizer(), 4096, text::TruncationPolicy::truncate, layout)
                            .encode(example, counts);
  ASSERT_TRUE(plain.has_value() && expanded.has_value());
  auto count_of = [](const std::vector<int32_t>& ids, int32_t id) {
    return std::count(ids.begin(), ids.end(), id);
  };
  EXPECT_EQ(count_of(plain->prompt, layout.image_id), 1);
  EXPECT_EQ(count_of(expanded->prompt, layout.image_id), 5);
  EXPECT_EQ(count_of(expanded->chosen, layout.image_id), 5);
  EXPECT_EQ(expanded->prompt.size(), plain->prompt.size() + 4);
  EXPECT_EQ(expanded->rejected, plain->rejected);

  // Every budget either keeps both images whole or drops the pair; never a partial run.
  const auto full = static_cast<int64_t>(expanded->prompt.size() + expanded->chosen.size());
  int64_t truncated_whole = 0, dropped = 0;
  for (int64_t budget = 1; budget < full; ++budget) {
    EncodeCounts cut_counts;
    const auto cut = PairEncoder(tokenizer(), budget, text::TruncationPolicy::truncate, layout)
                         .encode(example, cut_counts);
    if (!cut) {
      ++dropped;
      continue;
    }
    ++truncated_whole;
    EXPECT_EQ(count_of(cut->prompt, layout.image_id), 5) << "budget " << budget;
    EXPECT_EQ(count_of(cut->chosen, layout.image_id), 5) << "budget " << budget;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_GT(truncated_whole, 0);  // some cuts only take text
}

TEST_F(PairEncoderTest, TruncatePolicyCutsOverLongPairs) {
  const Example example =
      make_example(repeat_words("what colour is the sky", 20), repeat_words("blue", 80), "green");
  EncodeCounts full_counts;
  const auto full = PairEncoder(tokenizer(), 100000, text::TruncationPolicy::truncate)
                        .encode(example, full_counts);
  ASSERT_TRUE(full.has_value());

  const int64_t max_length = 64;
  ASSERT_GT(static_cast<int64_t>(full->prompt.size() + full->chosen.size()), max_length);
  const PairEncoder encoder(tokenizer(), max_length, text::TruncationPolicy::truncate);
  EncodeCounts counts;
  const auto pair = encoder.encode(example, counts);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(counts.encoded, 1);
  EXPECT_EQ(counts.truncated, 1);
  EXPECT_EQ(counts.dropped, 0);

  EXPECT_LE(static_cast<int64_t>(pair->prompt.size() +
                                 std::max(pair->chosen.size(), pair->rejected.size())),
            max_length);
  // The prompt keeps its end (the assistant header), the chosen response its closing tokens.
  EXPECT_TRUE(std::equal(pair->prompt.rbegin(), pair->prompt.rend(), full->prompt.rbegin()));
  const std::string prompt_text = tokenizer().decode(pair->prompt);
  EXPECT_TRUE(prompt_text.ends_with("<|im_end|>\n<|im_start|>assistant\n")) << prompt_text;
  const std::string chosen_text = tokenizer().decode(pair->chosen);
  EXPECT_TRUE(chosen_text.starts_with("blue blue")) << chosen_text;
  EXPECT_TRUE(chosen_text.ends_with("<|im_end|>\n")) << chosen_text;
  EXPECT_EQ(pair->rejected, full->rejected);
}

TEST_F(PairEncoderTest, DropPolicyDropsOverLongPairs) {
  const Example example =
      make_example(repeat_words("what colour is the sky", 20), repeat_words("blue", 80), "green");
  const PairEncoder encoder(tokenizer(), 64, text::TruncationPolicy::drop);
  EncodeCounts counts;
  EXPECT_FALSE(encoder.encode(example, counts).has_value());
  EXPECT_EQ(counts.encoded, 0);
  EXPECT_EQ(counts.truncated, 0);
  EXPECT_EQ(counts.dropped, 1);
}

TEST_F(PairEncoderTest, TruncatePolicyDropsWhatCannotBeCut) {
  // Three tokens: the prompt keeps one, leaving two, too few for one token plus closing.
  const Example example = make_example("what colour is the sky", "blue blue blue", "green");
  const PairEncoder encoder(tokenizer(), 3, text::TruncationPolicy::truncate);
  EncodeCounts counts;
  EXPECT_FALSE(encoder.encode(example, counts).has_value());
  EXPECT_EQ(counts.encoded, 0);
  EXPECT_EQ(counts.truncated, 0);
  EXPECT_EQ(counts.dropped, 1);
}

TEST_F(PairEncoderTest, CountsAccumulateOverExamples) {
  const int64_t max_length = 128;
  const Example fits = make_example("the sky?", "blue", "green");
  const Example too_long =
      make_example(repeat_words("what colour is the sky", 30), repeat_words("blue", 150), "green");
  ASSERT_LE(full_length(tokenizer(), fits), max_length);
  ASSERT_GT(full_length(tokenizer(), too_long), max_length);

  const PairEncoder encoder(tokenizer(), max_length, text::TruncationPolicy::truncate);
  EncodeCounts counts;
  EXPECT_TRUE(encoder.encode(fits, counts).has_value());
  EXPECT_TRUE(encoder.encode(too_long, counts).has_value());
  EXPECT_TRUE(encoder.encode(fits, counts).has_value());
  EXPECT_EQ(counts.encoded, 3);
  EXPECT_EQ(counts.truncated, 1);
  EXPECT_EQ(counts.dropped, 0);

  const PairEncoder tiny(tokenizer(), 3, text::TruncationPolicy::truncate);
  EXPECT_FALSE(tiny.encode(too_long, counts).has_value());
  EXPECT_EQ(counts.encoded, 3);
  EXPECT_EQ(counts.truncated, 1);
  EXPECT_EQ(counts.dropped, 1);
}

TEST_F(PairEncoderTest, BadRoleNamesTheRecord) {
  const PairEncoder encoder(tokenizer(), 4096, text::TruncationPolicy::truncate);
  Example example = make_example("hi", "a", "b");
  example.prompt[0].role = "bot";
  EncodeCounts counts;
  try {
    encoder.encode(example, counts);
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("pairs.jsonl:3"), std::string::npos) << message;
    EXPECT_NE(message.find("prompt[0].role"), std::string::npos) << message;
  }
  EXPECT_EQ(counts.encoded, 0);
}

}  // namespace
}  // namespace omnirm::data
