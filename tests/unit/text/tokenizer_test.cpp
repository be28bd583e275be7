// Tests of the sentencepiece tokenizer: lossless round trips, special tokens as single ids,
// load errors, training errors and deterministic training. A small model is trained once
// from a corpus written by the test.
#include "omnirm/text/tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm::text {
namespace {

// A few hundred lines mixing words, numbers, punctuation, whitespace runs, tabs, non-ASCII
// scripts and the special tokens.
std::string make_corpus() {
  const std::vector<std::string> words = {
      "the",  "reward", "model", "prefers", "answer",  "image",  "colour",   "red",
      "cube", "video",  "audio", "clip",    "helpful", "honest", "safe",     "criteria",
      "café", "naïve",  "Grüße", "straße",  "привет",  "мир",    "καλημέρα", "日本語",
      "中文", "한국어", "emoji", "🙂",    "✓",       "—",      "«quoted»", "x=y+z"};
  const std::vector<std::string> separators = {" ", "  ", "\t", ", ", "; ", "   ", " - "};
  std::string corpus;
  for (int line = 0; line < 400; ++line) {
    std::string text;
    const int length = 4 + line % 9;
    for (int i = 0; i < length; ++i) {
      if (i > 0) {
        text += separators[(line * 3 + i) % separators.size()];
      }
      text += words[(line * 7 + i * 5) % words.size()];
    }
    text += ' ';
    text += std::to_string(line * 37 % 1000);
    text += '.';
    text += std::to_string(line % 10);
    if (line % 5 == 0) {
      text = "<|im_start|>user " + text + "<|im_end|>";
    }
    if (line % 11 == 0) {
      text += " <image> <video> <audio> <mesh> <views>";
    }
    if (line % 13 == 0) {
      text += "?!()[]{}<>@#$%^&*_=+/\\|~`'\"";
    }
    corpus += text + "\n";
  }
  return corpus;
}

std::string train_model(const std::string& dir, const std::string& name,
                        const std::string& model_type, uint64_t seed) {
  TokenizerTrainOptions options;
  options.corpus_path = dir + "/corpus.txt";
  options.model_prefix = dir + "/" + name;
  options.vocab_size = 400;
  options.model_type = model_type;
  options.seed = seed;
  train_tokenizer(options);
  return options.model_prefix + ".model";
}

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(omnirm::testing::make_temp_dir("tokenizer"));
    omnirm::testing::write_file(*dir_ + "/corpus.txt", make_corpus());
    model_path_ = new std::string(train_model(*dir_, "unigram", "unigram", 7));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete model_path_;
  }
  static std::string* dir_;
  static std::string* model_path_;
};
std::string* TokenizerTest::dir_ = nullptr;
std::string* TokenizerTest::model_path_ = nullptr;

const std::vector<std::string>& round_trip_samples() {
  static const std::vector<std::string> samples = {
      "",
      "the reward model",
      " leading space",
      "   leading run and trailing run   ",
      "     ",
      "line one\nline two\n\nline four\n",
      "\n",
      "\ttab\tseparated\t\tvalues\t",
      "carriage\r\nreturn",
      "digits 0123456789 and 3.14159 and -42",
      "punctuation !?.,;:'\"()[]{}<>@#$%^&*-_=+/\\|~`",
      "café naïve Grüße привет καλημέρα 日本語 中文 한국어 🙂✓",
      "never seen: ß Ω ∑ 𝔘 ☃ 👩‍👩‍👧",
      "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>assistant\n",
      "text<image>more<video><audio><mesh><views>end",
      "<s></s><unk> are plain text here",
      "mixed\t  \n \t whitespace \n\n\n",
  };
  return samples;
}

TEST(SpecialTokensTest, ListsChatAndMediaTokens) {
  const std::vector<std::string> expected = {"<|im_start|>", "<|im_end|>", "<image>", "<video>",
                                             "<audio>",      "<mesh>",     "<views>"};
  EXPECT_EQ(special_tokens(), expected);
  EXPECT_EQ(std::string(kImStart), "<|im_start|>");
  EXPECT_EQ(std::string(kImEnd), "<|im_end|>");
}

TEST_F(TokenizerTest, RoundTripIsByteExact) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  for (const std::string& text : round_trip_samples()) {
    const std::vector<int32_t> ids = tokenizer.encode(text);
    EXPECT_EQ(tokenizer.decode(ids), text) << "sample: " << text;
  }
}

TEST_F(TokenizerTest, EmptyTextHasNoTokens) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  EXPECT_TRUE(tokenizer.encode("").empty());
  EXPECT_EQ(tokenizer.decode({}), "");
}

TEST_F(TokenizerTest, SpecialTokensAreSingleDistinctIds) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  std::set<int32_t> ids;
  for (const std::string& token : special_tokens()) {
    const int32_t id = tokenizer.piece_id(token);
    EXPECT_EQ(tokenizer.encode(token), std::vector<int32_t>{id}) << token;
    EXPECT_EQ(tokenizer.decode({id}), token);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), special_tokens().size());
}

TEST_F(TokenizerTest, SpecialTokensInsideTextComeOutAsTheirIds) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  const int32_t im_start = tokenizer.piece_id(kImStart);
  const int32_t im_end = tokenizer.piece_id(kImEnd);
  const int32_t image = tokenizer.piece_id("<image>");

  const std::string text = "<|im_start|>user\nlook<image>here<|im_end|>\n";
  const std::vector<int32_t> ids = tokenizer.encode(text);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), im_start);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_start), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_end), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), image), 1);
  // "<|im_end|>" is followed only by "\n", so the sequence ends with it and one more token.
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[ids.size() - 2], im_end);
  EXPECT_EQ(tokenizer.decode(ids), text);
}

TEST_F(TokenizerTest, DigitsAreSplitOnePerToken) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  const std::vector<int32_t> ids = tokenizer.encode("9081726354");
  ASSERT_EQ(ids.size(), 10u);
  EXPECT_EQ(tokenizer.decode({ids[0]}), "9");
  EXPECT_EQ(tokenizer.decode({ids[9]}), "4");
}

TEST_F(TokenizerTest, VocabSizeAndPathAreReported) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  EXPECT_GT(tokenizer.vocab_size(), 256 + static_cast<int64_t>(special_tokens().size()));
  EXPECT_LE(tokenizer.vocab_size(), 400);
  EXPECT_EQ(tokenizer.path(), *model_path_);
}

TEST_F(TokenizerTest, PieceIdOfAbsentPieceThrows) {
  const Tokenizer tokenizer = Tokenizer::load(*model_path_);
  EXPECT_THROW(tokenizer.piece_id("<not-a-piece-anywhere>"), UserError);
}

TEST_F(TokenizerTest, MovedTokenizerStillWorks) {
  Tokenizer first = Tokenizer::load(*model_path_);
  const std::vector<int32_t> ids = first.encode("the reward model");
  Tokenizer second = std::move(first);
  EXPECT_EQ(second.encode("the reward model"), ids);
  Tokenizer third = Tokenizer::load(*model_path_);
  third = std::move(second);
  EXPECT_EQ(third.decode(ids), "the reward model");
}

TEST_F(TokenizerTest, BpeModelRoundTripsToo) {
  const std::string bpe_path = train_model(*dir_, "bpe", "bpe", 7);
  const Tokenizer tokenizer = Tokenizer::load(bpe_path);
  for (const std::string& text : round_trip_samples()) {
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), text) << "sample: " << text;
  }
  EXPECT_EQ(tokenizer.encode("<mesh>"), std::vector<int32_t>{tokenizer.piece_id("<mesh>")});
}

TEST_F(TokenizerTest, TrainingIsDeterministic) {
  // The model file records its own prefix, so both trainings write to the same one.
  const std::string path = train_model(*dir_, "again", "unigram", 7);
  const std::string first_bytes = omnirm::testing::read_file(path);
  const Tokenizer first = Tokenizer::load(path);
  train_model(*dir_, "again", "unigram", 7);
  EXPECT_EQ(omnirm::testing::read_file(path), first_bytes);

  const Tokenizer second = Tokenizer::load(path);
  const Tokenizer original = Tokenizer::load(*model_path_);
  for (const std::string& text : round_trip_samples()) {
    EXPECT_EQ(first.encode(text), second.encode(text)) << "sample: " << text;
    EXPECT_EQ(first.encode(text), original.encode(text)) << "sample: " << text;
  }
}

TEST_F(TokenizerTest, LoadOfMissingFileNamesThePath) {
  const std::string path = *dir_ + "/no_such.model";
  try {
    Tokenizer::load(path);
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(TokenizerTest, LoadOfDirectoryIsAnError) { EXPECT_THROW(Tokenizer::load(*dir_), UserError); }

TEST_F(TokenizerTest, LoadOfGarbageFileNamesThePath) {
  const std::string path = *dir_ + "/garbage.model";
  omnirm::testing::write_file(path, "this is not a sentencepiece model\n\x01\x02\xff\xfe");
  try {
    Tokenizer::load(path);
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not a sentencepiece model"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(TokenizerTest, LoadOfModelWithoutSpecialTokensIsRejected) {
  const std::string prefix = *dir_ + "/plain";
  const auto status = sentencepiece::SentencePieceTrainer::Train({{"input", *dir_ + "/corpus.txt"},
                                                                  {"model_prefix", prefix},
                                                                  {"vocab_size", "300"},
                                                                  {"hard_vocab_limit", "false"},
                                                                  {"num_threads", "1"},
                                                                  {"minloglevel", "2"}});
  ASSERT_TRUE(status.ok()) << status.ToString();
  try {
    Tokenizer::load(prefix + ".model");
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(prefix + ".model"), std::string::npos) << message;
    EXPECT_NE(message.find("special tokens"), std::string::npos) << message;
    EXPECT_NE(message.find("omnirm tokenizer train"), std::string::npos) << message;
  }
}

TEST_F(TokenizerTest, TrainingFromMissingCorpusNamesThePath) {
  TokenizerTrainOptions options;
  options.corpus_path = *dir_ + "/missing_corpus.txt";
  options.model_prefix = *dir_ + "/never";
  try {
    train_tokenizer(options);
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find(options.corpus_path), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(options.model_prefix + ".model"));
}

TEST_F(TokenizerTest, TrainingWithUnknownModelTypeFails) {
  TokenizerTrainOptions options;
  options.corpus_path = *dir_ + "/corpus.txt";
  options.model_prefix = *dir_ + "/wordmodel";
  options.model_type = "wordpiece";
  EXPECT_THROW(train_tokenizer(options), UserError);
}

TEST_F(TokenizerTest, SentencepieceFailureBecomesUserError) {
  // Too small for the byte pieces and the corpus characters.
  TokenizerTrainOptions options;
  options.corpus_path = *dir_ + "/corpus.txt";
  options.model_prefix = *dir_ + "/tiny";
  options.vocab_size = 20;
  try {
    train_tokenizer(options);
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(options.corpus_path), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace omnirm::text
