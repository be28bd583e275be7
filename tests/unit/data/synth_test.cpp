// Tests of the synthetic t2t preference data: byte-identical output per seed, the promised
// counts and shares, criteria-flip twins, criteria that pick a style pole consistently,
// disjoint train/eval (topic, question) combinations, and records the reader accepts.
#include "omnirm/data/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

bool has_tag(const Example& example, const std::string& tag) {
  return std::find(example.tags.begin(), example.tags.end(), tag) != example.tags.end();
}

std::string prompt_text(const Example& example) {
  std::string text;
  for (const Turn& turn : example.prompt) text += text_of(turn.content);
  return text;
}

// The question closes the prompt, after the blank line that ends the context paragraph.
std::string question_of(const Example& example) {
  const std::string prompt = prompt_text(example);
  const size_t blank = prompt.rfind("\n\n");
  return blank == std::string::npos ? "" : prompt.substr(blank + 2);
}

// Lower-case words with punctuation removed.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

bool has_word(const std::string& text, const std::string& word) {
  const std::vector<std::string> words = words_of(text);
  return std::find(words.begin(), words.end(), word) != words.end();
}

// The style poles a response shows, read from the lexical markers the data promises:
// "In short" (concise), "First ... Second ... For example" (detailed), "Certainly."
// (formal), hey/yeah/gonna/totally (casual), "- " bullets, might/perhaps/seems (cautious),
// definitely/clearly (confident). Prose is a response with none of the format markers.
std::set<std::string> poles_of(const std::string& response) {
  std::set<std::string> poles;
  if (response.starts_with("In short")) poles.insert("concise");
  if (has_word(response, "first") && has_word(response, "second")) poles.insert("detailed");
  if (response.starts_with("Certainly.")) poles.insert("formal");
  for (const char* word : {"hey", "yeah", "gonna", "totally"}) {
    if (has_word(response, word)) poles.insert("casual");
  }
  if (response.starts_with("- ") || response.find("\n- ") != std::string::npos) {
    poles.insert("bullets");
  }
  for (const char* word : {"might", "perhaps", "seems"}) {
    if (has_word(response, word)) poles.insert("cautious");
  }
  for (const char* word : {"definitely", "clearly"}) {
    if (has_word(response, word)) poles.insert("confident");
  }
  if (poles.empty()) poles.insert("prose");
  return poles;
}

bool is_rude_or_refusing(const std::string& response) {
  for (const char* marker :
       {"stupid", "will not help", "figure it out", "Nobody cares", "wasting my time", "refuse"}) {
    if (response.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::vector<Example> all_records(const SynthSet& set) {
  std::vector<Example> records = set.train;
  records.insert(records.end(), set.eval.begin(), set.eval.end());
  return records;
}

SynthSet small_set(uint64_t seed) {
  SynthOptions options;
  options.train_pairs = 1200;
  options.eval_pairs = 300;
  options.seed = seed;
  return synthesize(options);
}

TEST(Synth, SameSeedWritesIdenticalBytes) {
  const std::string first = testing::make_temp_dir("synth");
  const std::string second = testing::make_temp_dir("synth") + "/nested/out";
  write_synth_set(small_set(7), first);
  write_synth_set(small_set(7), second);
  for (const char* name : {"train.jsonl", "eval.jsonl", "corpus.txt"}) {
    const std::string a = testing::read_file(first + "/" + name);
    const std::string b = testing::read_file(second + "/" + name);
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_TRUE(a == b) << name << " differs between two runs with the same seed";
  }
  for (const auto& entry : std::filesystem::directory_iterator(second)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << "left behind " << entry.path();
  }
}

TEST(Synth, DifferentSeedGivesDifferentData) {
  const SynthSet a = small_set(1);
  const SynthSet b = small_set(2);
  std::string a_lines, b_lines;
  for (const Example& example : a.train) a_lines += to_json_line(example) + "\n";
  for (const Example& example : b.train) b_lines += to_json_line(example) + "\n";
  EXPECT_NE(a_lines, b_lines);
}

TEST(Synth, EvalDoesNotDependOnTheTrainCount) {
  SynthOptions options;
  options.eval_pairs = 100;
  options.train_pairs = 50;
  const SynthSet small = synthesize(options);
  options.train_pairs = 500;
  const SynthSet large = synthesize(options);
  ASSERT_EQ(small.eval.size(), large.eval.size());
  for (size_t i = 0; i < small.eval.size(); ++i) {
    EXPECT_EQ(to_json_line(small.eval[i]), to_json_line(large.eval[i]));
  }
}

TEST(Synth, CountsAndIdsMatchOptions) {
  SynthOptions options;  // the defaults: 4000 train, 600 eval
  const SynthSet set = synthesize(options);
  ASSERT_EQ(set.train.size(), 4000u);
  ASSERT_EQ(set.eval.size(), 600u);
  EXPECT_EQ(set.train.front().id, "t2t-train-000001");
  EXPECT_EQ(set.train.back().id, "t2t-train-004000");
  EXPECT_EQ(set.eval.front().id, "t2t-eval-000001");
  EXPECT_EQ(set.eval.back().id, "t2t-eval-000600");
  std::set<std::string> ids;
  for (const Example& example : all_records(set)) {
    EXPECT_EQ(example.task, "t2t");
    ids.insert(example.id);
  }
  EXPECT_EQ(ids.size(), 4600u);

  options.train_pairs = 3;  // odd and tiny: a twin must not overflow the count
  options.eval_pairs = 0;
  const SynthSet tiny = synthesize(options);
  EXPECT_EQ(tiny.train.size(), 3u);
  EXPECT_TRUE(tiny.eval.empty());
}

TEST(Synth, EveryRecordSurvivesTheReader) {
  const SynthSet set = small_set(11);
  for (const Example& example : all_records(set)) {
    const Example copy = parse_pair_record(to_json_line(example), "synth:1");
    EXPECT_EQ(copy.id, example.id);
    EXPECT_EQ(copy.criteria, example.criteria);
    EXPECT_EQ(prompt_text(copy), prompt_text(example));
    EXPECT_EQ(text_of(copy.chosen), text_of(example.chosen));
    EXPECT_EQ(text_of(copy.rejected), text_of(example.rejected));
    EXPECT_EQ(copy.tags, example.tags);
  }
  const std::string dir = testing::make_temp_dir("synth");
  write_synth_set(set, dir);
  const ReadResult train = read_pairs_jsonl(dir + "/train.jsonl", OnBadRecord::error);
  EXPECT_EQ(train.summary.records, 1200);
  const ReadResult eval = read_pairs_jsonl(dir + "/eval.jsonl", OnBadRecord::error);
  EXPECT_EQ(eval.summary.records, 300);
}

TEST(Synth, FlipTwinsShareThePromptAndSwapTheAnswers) {
  const SynthSet set = small_set(5);
  for (const std::vector<Example>* split : {&set.train, &set.eval}) {
    // Twins share a prompt and the same unordered pair of answers.
    std::map<std::string, std::vector<const Example*>> twins;
    for (const Example& example : *split) {
      if (!has_tag(example, "criteria_flip")) continue;
      EXPECT_TRUE(has_tag(example, "style")) << example.id;
      std::string a = text_of(example.chosen), b = text_of(example.rejected);
      if (b < a) std::swap(a, b);
      twins[prompt_text(example) + "\x1f" + a + "\x1f" + b].push_back(&example);
    }
    EXPECT_GT(twins.size(), split->size() / 10);
    for (const auto& [key, group] : twins) {
      ASSERT_EQ(group.size(), 2u) << group[0]->id;
      const Example& one = *group[0];
      const Example& other = *group[1];
      EXPECT_EQ(prompt_text(one), prompt_text(other));
      EXPECT_EQ(text_of(one.chosen), text_of(other.rejected));
      EXPECT_EQ(text_of(one.rejected), text_of(other.chosen));
      EXPECT_NE(one.criteria, other.criteria);
      EXPECT_NE(poles_of(text_of(one.chosen)), poles_of(text_of(other.chosen)));
    }
  }
}

TEST(Synth, EachCriteriaSentencePicksOneStylePole) {
  const SynthSet set = small_set(3);
  std::map<std::string, std::set<std::string>> chosen_poles_by_criteria;
  std::map<std::string, std::set<std::string>> rejected_poles_by_criteria;
  for (const Example& example : all_records(set)) {
    if (!has_tag(example, "style")) continue;
    const std::set<std::string> chosen = poles_of(text_of(example.chosen));
    const std::set<std::string> rejected = poles_of(text_of(example.rejected));
    ASSERT_EQ(chosen.size(), 1u) << text_of(example.chosen);
    ASSERT_EQ(rejected.size(), 1u) << text_of(example.rejected);
    EXPECT_NE(chosen, rejected) << example.id;
    chosen_poles_by_criteria[example.criteria].insert(*chosen.begin());
    rejected_poles_by_criteria[example.criteria].insert(*rejected.begin());
  }
  // 4 attributes x 2 poles, several paraphrases each.
  EXPECT_GE(chosen_poles_by_criteria.size(), 16u);
  std::set<std::string> poles_seen;
  for (const auto& [criteria, poles] : chosen_poles_by_criteria) {
    EXPECT_EQ(poles.size(), 1u) << "criteria '" << criteria << "' prefers several poles";
    EXPECT_EQ(rejected_poles_by_criteria[criteria].size(), 1u) << criteria;
    EXPECT_NE(*poles.begin(), *rejected_poles_by_criteria[criteria].begin()) << criteria;
    poles_seen.insert(*poles.begin());
  }
  EXPECT_EQ(poles_seen, (std::set<std::string>{"concise", "detailed", "formal", "casual", "bullets",
                                               "prose", "cautious", "confident"}));
}

TEST(Synth, QualityPairsPreferThePoliteAnswerUnderNeutralCriteria) {
  const SynthSet set = small_set(9);
  std::set<std::string> style_criteria, quality_criteria;
  for (const Example& example : all_records(set)) {
    EXPECT_NE(has_tag(example, "style"), has_tag(example, "quality")) << example.id;
    if (has_tag(example, "style")) {
      style_criteria.insert(example.criteria);
      EXPECT_FALSE(is_rude_or_refusing(text_of(example.chosen))) << example.id;
      EXPECT_FALSE(is_rude_or_refusing(text_of(example.rejected))) << example.id;
      continue;
    }
    quality_criteria.insert(example.criteria);
    EXPECT_FALSE(has_tag(example, "criteria_flip")) << example.id;
    EXPECT_FALSE(is_rude_or_refusing(text_of(example.chosen))) << text_of(example.chosen);
    EXPECT_TRUE(is_rude_or_refusing(text_of(example.rejected))) << text_of(example.rejected);
  }
  EXPECT_FALSE(quality_criteria.empty());
  for (const std::string& criteria : quality_criteria) {
    EXPECT_EQ(style_criteria.count(criteria), 0u) << criteria;
  }
}

TEST(Synth, SharesAndLengthsFollowTheRecipe) {
  SynthOptions options;
  const SynthSet set = synthesize(options);
  double quality = 0, style = 0, flips = 0, prompt_words = 0, response_words = 0;
  for (const Example& example : set.train) {
    quality += has_tag(example, "quality");
    style += has_tag(example, "style");
    flips += has_tag(example, "criteria_flip");
    prompt_words += static_cast<double>(words_of(prompt_text(example)).size());
    response_words += static_cast<double>(words_of(text_of(example.chosen)).size() +
                                          words_of(text_of(example.rejected)).size()) /
                      2;
  }
  const double count = static_cast<double>(set.train.size());
  EXPECT_NEAR(quality / count, 0.30, 0.05);
  EXPECT_NEAR(flips / style, 0.5, 0.08);
  const double mean_prompt = prompt_words / count;
  const double mean_response = response_words / count;
  EXPECT_GE(mean_prompt, 60);
  EXPECT_LE(mean_prompt, 120);
  EXPECT_GE(mean_response, 10);
  EXPECT_LE(mean_response, 30);
  EXPECT_GE(mean_prompt / mean_response, 3.0);
}

TEST(Synth, TrainAndEvalUseDisjointTopicQuestionCombinations) {
  const SynthSet set = small_set(13);
  std::set<std::string> train_questions, eval_questions;
  std::set<std::string> train_words;
  for (const Example& example : set.train) {
    train_questions.insert(question_of(example));
    for (const std::string& word : words_of(prompt_text(example))) train_words.insert(word);
  }
  for (const Example& example : set.eval) eval_questions.insert(question_of(example));
  EXPECT_FALSE(train_questions.count(""));
  EXPECT_GE(eval_questions.size(), 20u);
  EXPECT_GE(train_questions.size(), 100u);
  for (const std::string& question : eval_questions) {
    EXPECT_EQ(train_questions.count(question), 0u) << "in both splits: " << question;
    // Same vocabulary: only the combination is new.
    for (const std::string& word : words_of(question)) {
      EXPECT_EQ(train_words.count(word), 1u) << "eval-only word '" << word << "'";
    }
  }
  // Both splits have flip twins.
  EXPECT_TRUE(std::any_of(set.eval.begin(), set.eval.end(),
                          [](const Example& e) { return has_tag(e, "criteria_flip"); }));
}

TEST(Synth, TokenizerCorpusCoversEveryWord) {
  const SynthSet set = small_set(17);
  std::set<std::string> corpus_words;
  std::set<std::string> distinct_lines;
  bool has_digits = false;
  for (const std::string& line : set.tokenizer_corpus) {
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_TRUE(distinct_lines.insert(line).second) << "repeated line: " << line;
    for (const std::string& word : words_of(line)) corpus_words.insert(word);
    has_digits = has_digits || line.find_first_of("0123456789") != std::string::npos;
  }
  EXPECT_TRUE(has_digits);
  for (const Example& example : all_records(set)) {
    for (const std::string& text : {example.criteria, prompt_text(example), text_of(example.chosen),
                                    text_of(example.rejected)}) {
      for (const std::string& word : words_of(text)) {
        ASSERT_EQ(corpus_words.count(word), 1u) << "corpus misses '" << word << "'";
      }
    }
  }
}

TEST(Synth, RejectsUnknownTasksAndNegativeCounts) {
  SynthOptions options;
  options.tasks = {"t2t", "t2i"};
  try {
    synthesize(options);
    FAIL() << "expected a UserError";
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()),
              "task 't2i' is not available in data synth yet; available: t2t");
  }
  options.tasks = {};
  EXPECT_THROW(synthesize(options), UserError);
  options.tasks = {"t2t"};
  options.train_pairs = -1;
  EXPECT_THROW(synthesize(options), UserError);
}

}  // namespace
}  // namespace omnirm::data
