// Tests of the HF tokenizer.json (byte-level BPE) tokenizer against the parity fixtures of
// tools/make_bpe_fixtures.py: the ids of every corpus line equal HF tokenizers' ids (merges
// read in both JSON forms), decode(encode(x)) is NFC(x), special tokens are single ids,
// malformed or unsupported files fail with one line naming the field, and concurrent
// encoding gives the same ids.
#include "omnirm/text/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/text/unicode.h"
#include "support/test_support.h"

namespace omnirm::text {
namespace {

using nlohmann::json;

std::string fixture_dir() { return omnirm::testing::source_dir() + "/tests/fixtures/bpe"; }
std::string fixture_tokenizer() { return fixture_dir() + "/tokenizer.json"; }

struct Case {
  std::string text;
  std::string nfc;
  std::vector<int32_t> ids;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> loaded = [] {
    std::vector<Case> out;
    std::ifstream in(fixture_dir() + "/cases.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const json record = json::parse(line);
      out.push_back({record["text"].get<std::string>(), record["nfc"].get<std::string>(),
                     record["ids"].get<std::vector<int32_t>>()});
    }
    return out;
  }();
  return loaded;
}

json fixture_json() { return json::parse(omnirm::testing::read_file(fixture_tokenizer())); }

class BpeTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(omnirm::testing::make_temp_dir("bpe")); }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  // Writes `tokenizer` as dir/<name>.json and returns the path.
  static std::string write_json(const std::string& name, const json& tokenizer) {
    const std::string path = *dir_ + "/" + name + ".json";
    omnirm::testing::write_file(path, tokenizer.dump());
    return path;
  }
  // The fixture with `change` applied, written as dir/<name>.json.
  static std::string variant(const std::string& name, const std::function<void(json&)>& change) {
    json tokenizer = fixture_json();
    change(tokenizer);
    return write_json(name, tokenizer);
  }
  static std::string* dir_;
};
std::string* BpeTokenizerTest::dir_ = nullptr;

std::string show(const std::string& text) { return json(text).dump(); }

TEST(BpeFixture, HasTheCorpusTheScriptWrites) {
  // Guards against an empty or truncated fixture making the parity tests vacuous.
  const json meta = json::parse(omnirm::testing::read_file(fixture_dir() + "/meta.json"));
  EXPECT_EQ(static_cast<int64_t>(cases().size()), meta["cases"].get<int64_t>());
  EXPECT_GT(cases().size(), 100u);
}

TEST(BpeParity, IdsEqualHfTokenizersOnEveryLine) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  int mismatches = 0;
  for (size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    const std::vector<int32_t> ids = tokenizer.encode(c.text);
    EXPECT_EQ(ids, c.ids) << "cases.jsonl line " << i + 1 << ": " << show(c.text);
    mismatches += ids != c.ids;
  }
  EXPECT_EQ(mismatches, 0);
}

// Added tokens are cut out before normalisation (as in HF), so this holds for text where no
// combining mark follows an added token, which the corpus has none of.
TEST(BpeParity, DecodeOfEncodeIsTheNfcText) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  for (size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(c.text)), c.nfc)
        << "cases.jsonl line " << i + 1 << ": " << show(c.text);
  }
}

TEST(BpeParity, NfcAgreesWithPython) {
  for (size_t i = 0; i < cases().size(); ++i) {
    EXPECT_EQ(nfc(cases()[i].text), cases()[i].nfc) << "cases.jsonl line " << i + 1;
  }
  // Decomposed input really is composed (so the parity lines exercise NFC).
  EXPECT_EQ(nfc("cafe\u0301"), "caf\u00e9");
  EXPECT_EQ(nfc("\u212b"), "\u00c5");
  EXPECT_EQ(nfc("q\u0307\u0323"), "q\u0323\u0307");
}

TEST(BpeParity, StringFormMergesGiveTheSameIds) {
  // Older tokenizer.json files write merges as "a b" strings; the fixture has [a, b] pairs.
  json tokenizer = fixture_json();
  json& merges = tokenizer["model"]["merges"];
  ASSERT_TRUE(merges.at(0).is_array());
  for (json& merge : merges)
    merge = merge[0].get<std::string>() + " " + merge[1].get<std::string>();
  const std::string path = omnirm::testing::make_temp_dir("bpe-merges") + "/tokenizer.json";
  omnirm::testing::write_file(path, tokenizer.dump());
  const Tokenizer pairs = Tokenizer::load(fixture_tokenizer());
  const Tokenizer strings = Tokenizer::load(path);
  for (const Case& c : cases()) EXPECT_EQ(strings.encode(c.text), c.ids) << show(c.text);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(BpeTokenizer, SpecialTokensAreSingleIdsAnywhere) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  EXPECT_EQ(tokenizer.kind(), TokenizerKind::bpe_json);
  std::vector<int32_t> seen;
  for (const std::string& token : special_tokens()) {
    const int32_t id = tokenizer.piece_id(token);
    EXPECT_EQ(tokenizer.encode(token), std::vector<int32_t>{id}) << token;
    EXPECT_EQ(tokenizer.decode({id}), token);
    const std::vector<int32_t> inside = tokenizer.encode("word" + token + "word");
    EXPECT_EQ(std::count(inside.begin(), inside.end(), id), 1) << token;
    EXPECT_EQ(std::find(seen.begin(), seen.end(), id), seen.end()) << token;
    seen.push_back(id);
  }
  // Two markers back to back stay two ids; a near miss is plain text.
  const int32_t im_start = tokenizer.piece_id(kImStart);
  const int32_t im_end = tokenizer.piece_id(kImEnd);
  EXPECT_EQ(tokenizer.encode("<|im_end|><|im_start|>"), (std::vector<int32_t>{im_end, im_start}));
  const std::vector<int32_t> near = tokenizer.encode("<|im_start >");
  EXPECT_EQ(std::count(near.begin(), near.end(), im_start), 0);
}

TEST(BpeTokenizer, VocabSizeCoversTheAddedTokens) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  const json meta = json::parse(omnirm::testing::read_file(fixture_dir() + "/meta.json"));
  EXPECT_EQ(tokenizer.vocab_size(), meta["vocab_size"].get<int64_t>());
  EXPECT_THROW(tokenizer.decode({static_cast<int32_t>(tokenizer.vocab_size())}),
               std::runtime_error);
  EXPECT_THROW(tokenizer.decode({-1}), std::runtime_error);
}

TEST(BpeTokenizer, IllFormedUtf8IsEncodedAsReplacementCharacters) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  EXPECT_EQ(to_valid_utf8("a\xC3(b\xE2\x82"), "a\xEF\xBF\xBD(b\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x99\x82 ok"), "\xF0\x9F\x99\x82 ok");
  EXPECT_EQ(tokenizer.encode("x\xFFy"), tokenizer.encode("x\xEF\xBF\xBDy"));
  // Ids that cut a character decode to U+FFFD, not to ill-formed bytes.
  // U+1D518, absent from the training corpus, is its four bytes.
  const std::vector<int32_t> rare = tokenizer.encode("\xF0\x9D\x94\x98");
  ASSERT_EQ(rare.size(), 4u);
  EXPECT_EQ(tokenizer.decode({rare[0]}), "\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer.decode({rare[0], rare[1], rare[2]}), "\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer.decode(rare), "\xF0\x9D\x94\x98");
}

TEST(BpeTokenizer, ConcurrentEncodingGivesTheSameIds) {
  const Tokenizer tokenizer = Tokenizer::load(fixture_tokenizer());
  std::vector<std::vector<std::vector<int32_t>>> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (const Case& c : cases()) results[t].push_back(tokenizer.encode(c.text));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& result : results) {
    ASSERT_EQ(result.size(), 3 * cases().size());
    for (size_t i = 0; i < result.size(); ++i)
      EXPECT_EQ(result[i], cases()[i % cases().size()].ids);
  }
}

TEST_F(BpeTokenizerTest, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  // "qqqq" is in the vocabulary without a merge path to it: only ignore_merges finds it.
  const auto with_word = [](bool ignore) {
    return [ignore](json& t) {
      t["model"]["vocab"]["qqqq"] = 5000;
      t["model"]["ignore_merges"] = ignore;
    };
  };
  const Tokenizer merged = Tokenizer::load(variant("merges", with_word(false)));
  const Tokenizer whole = Tokenizer::load(variant("whole", with_word(true)));
  EXPECT_GT(merged.encode("qqqq").size(), 1u);
  EXPECT_EQ(whole.encode("qqqq"), std::vector<int32_t>{5000});
  EXPECT_EQ(whole.decode({5000}), "qqqq");
  EXPECT_EQ(whole.vocab_size(), 5001);
}

// The one-line UserError of loading `path`, checked to name the path and `field`.
void expect_load_error(const std::string& path, const std::string& field) {
  const std::string message = omnirm::testing::user_error_of([&] { Tokenizer::load(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(field), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(BpeTokenizerTest, MalformedFilesNameTheField) {
  expect_load_error(variant("no-model", [](json& t) { t.erase("model"); }), "model");
  expect_load_error(variant("unigram", [](json& t) { t["model"]["type"] = "Unigram"; }),
                    "model.type");
  expect_load_error(variant("no-vocab", [](json& t) { t["model"].erase("vocab"); }), "model.vocab");
  expect_load_error(variant("merge-oov",
                            [](json& t) {
                              t["model"]["merges"][3] = json::array({"Ġ", "⊥⊥"});
                            }),
                    "model.merges[3]");
  expect_load_error(variant("merge-one-token", [](json& t) { t["model"]["merges"][5] = "ab"; }),
                    "model.merges[5]");
  expect_load_error(variant("merge-number", [](json& t) { t["model"]["merges"][0] = 7; }),
                    "model.merges[0]");
  expect_load_error(variant("id", [](json& t) { t["model"]["vocab"]["a"] = -3; }),
                    "model.vocab['a']");
  expect_load_error(
      variant("no-byte-level", [](json& t) { t["pre_tokenizer"]["pretokenizers"].erase(1); }),
      "pre_tokenizer");
  expect_load_error(variant("bad-regex",
                            [](json& t) {
                              t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(\\p{L";
                            }),
                    "pre_tokenizer.pretokenizers[0]");
  expect_load_error(variant("added-id", [](json& t) { t["added_tokens"][0].erase("id"); }),
                    "added_tokens[0].id");
  const std::string garbage = *dir_ + "/garbage.json";
  omnirm::testing::write_file(garbage, "{\"model\": [1, 2,");
  expect_load_error(garbage, "not valid JSON");
  expect_load_error(write_json("array", json::array({1, 2})), "top level");
}

TEST_F(BpeTokenizerTest, UnsupportedFeaturesNameTheField) {
  expect_load_error(variant("nfkc", [](json& t) { t["normalizer"]["type"] = "NFKC"; }),
                    "normalizer.type");
  expect_load_error(variant("dropout", [](json& t) { t["model"]["dropout"] = 0.1; }),
                    "model.dropout");
  expect_load_error(variant("fallback", [](json& t) { t["model"]["byte_fallback"] = true; }),
                    "model.byte_fallback");
  expect_load_error(variant("suffix", [](json& t) { t["model"]["end_of_word_suffix"] = "</w>"; }),
                    "model.end_of_word_suffix");
  expect_load_error(
      variant("prefix-space",
              [](json& t) { t["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true; }),
      "pre_tokenizer.pretokenizers[1].add_prefix_space");
  expect_load_error(variant("merged",
                            [](json& t) {
                              t["pre_tokenizer"]["pretokenizers"][0]["behavior"] =
                                  "MergedWithPrevious";
                            }),
                    "pre_tokenizer.pretokenizers[0].behavior");
  expect_load_error(variant("digits",
                            [](json& t) {
                              t["pre_tokenizer"]["pretokenizers"].insert(
                                  t["pre_tokenizer"]["pretokenizers"].begin(),
                                  json{{"type", "Digits"}, {"individual_digits", true}});
                            }),
                    "pre_tokenizer.pretokenizers[0].type");
  expect_load_error(variant("lstrip", [](json& t) { t["added_tokens"][1]["lstrip"] = true; }),
                    "added_tokens[1].lstrip");
  expect_load_error(variant("template",
                            [](json& t) {
                              t["post_processor"] = {{"type", "TemplateProcessing"}};
                            }),
                    "post_processor.type");
  expect_load_error(variant("wordpiece-decoder",
                            [](json& t) {
                              t["decoder"] = {{"type", "WordPiece"}};
                            }),
                    "decoder");
}

TEST_F(BpeTokenizerTest, MissingChatTokenIsNamed) {
  const std::string path = variant("no-im-end", [](json& t) {
    json kept = json::array();
    for (const json& token : t["added_tokens"]) {
      if (token["content"] != "<|im_end|>") kept.push_back(token);
    }
    t["added_tokens"] = kept;
  });
  const std::string message = omnirm::testing::user_error_of([&] { Tokenizer::load(path); });
  EXPECT_NE(message.find("'<|im_end|>'"), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("added_tokens"), std::string::npos) << message;
}

TEST_F(BpeTokenizerTest, MissingMediaTokenIsNamedWhenAsked) {
  // A text-only tokenizer (like Qwen2's own) loads; a media placeholder it lacks is named
  // when a model with media adapters asks for it.
  const std::string path = variant("no-mesh", [](json& t) {
    json kept = json::array();
    for (const json& token : t["added_tokens"]) {
      if (token["content"] != "<mesh>") kept.push_back(token);
    }
    t["added_tokens"] = kept;
  });
  const Tokenizer tokenizer = Tokenizer::load(path);
  const std::string message = omnirm::testing::user_error_of([&] { tokenizer.piece_id("<mesh>"); });
  EXPECT_NE(message.find("'<mesh>'"), std::string::npos) << message;
  EXPECT_GT(tokenizer.encode("<mesh>").size(), 1u);
}

TEST(TokenizerKinds, ChosenByFileName) {
  EXPECT_EQ(tokenizer_kind_of("dir/tokenizer.json"), TokenizerKind::bpe_json);
  EXPECT_EQ(tokenizer_kind_of("Qwen.JSON"), TokenizerKind::bpe_json);
  EXPECT_EQ(tokenizer_kind_of("dir/tokenizer.model"), TokenizerKind::sentencepiece);
  EXPECT_EQ(tokenizer_kind_of("tok"), TokenizerKind::sentencepiece);
  EXPECT_EQ(checkpoint_tokenizer_name("/x/qwen.json"), "tokenizer.json");
  EXPECT_EQ(checkpoint_tokenizer_name("/x/tok.model"), "tokenizer.model");

  const std::string dir = omnirm::testing::make_temp_dir("bpe-kinds");
  EXPECT_EQ(checkpoint_tokenizer_file(dir), dir + "/tokenizer.model");
  omnirm::testing::write_file(dir + "/tokenizer.json", "{}");
  EXPECT_EQ(checkpoint_tokenizer_file(dir), dir + "/tokenizer.json");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnirm::text
