// Tests that the nine-task synthetic set says what its media show: every media file decodes
// with the project's decoders, the chosen response agrees with the decoded content (colour
// and shape, motion direction, pitch and beep count, 3D primitive and proportion), the
// rejected one of a content pair disagrees, criteria pairs follow their criteria, and (with
// held-out combinations) train never mentions a combination that eval is built on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/validate.h"
#include "omnirm/synth/omni_synth.h"
#include "support/test_support.h"
#include "unit/synth/media_probe.h"

namespace omnirm::synth {
namespace {

using data::Example;
using namespace omnirm::synth::testing;

constexpr int64_t kTrainPairs = 150;
constexpr int64_t kEvalPairs = 50;

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

// The first word of `text` found in `vocabulary`, or "".
std::string first_of(const std::string& text, const std::set<std::string>& vocabulary) {
  for (const std::string& word : words_of(text)) {
    if (vocabulary.count(word) != 0) return word;
  }
  return "";
}

bool has_any(const std::string& text, const std::set<std::string>& vocabulary) {
  return !first_of(text, vocabulary).empty();
}

bool has_tag(const Example& example, const std::string& tag) {
  return std::find(example.tags.begin(), example.tags.end(), tag) != example.tags.end();
}

const std::set<std::string> kColourWords = {"red", "green", "blue", "yellow"};
const std::set<std::string> kShapeWords = {"circle", "square", "triangle"};
const std::set<std::string> kDirectionWords = {"left", "right", "upwards", "downwards"};
const std::set<std::string> kPitchWords = {"low", "high"};
const std::set<std::string> kCountWords = {"one", "two", "three", "once", "twice"};
const std::set<std::string> kPrimitiveWords = {"cube", "sphere", "cone", "cylinder"};
const std::set<std::string> kStretchWords = {"tall", "flat"};

std::string direction_of(const std::string& text) {
  const std::string word = first_of(text, kDirectionWords);
  if (word == "upwards") return "up";
  if (word == "downwards") return "down";
  return word;
}

int count_of(const std::string& text) {
  const std::string word = first_of(text, kCountWords);
  if (word == "one" || word == "once") return 1;
  if (word == "two" || word == "twice") return 2;
  if (word == "three") return 3;
  return 0;
}

std::string prompt_text(const Example& example) {
  std::string text;
  for (const data::Turn& turn : example.prompt) text += data::text_of(turn.content);
  return text;
}

// The path of the first media part of the prompt, of the given type.
std::string prompt_media(const Example& example, const std::string& type) {
  for (const data::Turn& turn : example.prompt) {
    for (const data::ContentPart& part : turn.content) {
      if (part.type == type) return part.path;
    }
  }
  return "";
}

// Every field of every part, for exact comparisons.
std::string parts_key(const std::vector<data::ContentPart>& parts) {
  std::string key;
  for (const data::ContentPart& part : parts)
    key += part.type + "|" + part.text + "|" + part.path + "\n";
  return key;
}

std::string prompt_key(const Example& example) {
  std::string key;
  for (const data::Turn& turn : example.prompt) key += turn.role + ":" + parts_key(turn.content);
  return key;
}

// Which pole of an attribute the criteria ask for: +1 for the "more" pole (detailed, larger,
// faster, louder, lying), -1 for the other, 0 when the words do not say.
int criteria_pole(const std::string& criteria, const std::string& attribute) {
  const std::vector<std::string> words = words_of(criteria);
  auto has = [&](std::initializer_list<const char*> list) {
    for (const char* w : list) {
      if (std::find(words.begin(), words.end(), w) != words.end()) return true;
    }
    return false;
  };
  std::pair<bool, bool> poles{false, false};
  if (attribute == "brevity") {
    poles = {has({"detailed", "thorough", "detail"}), has({"brief", "short", "concise"})};
  } else if (attribute == "size") {
    poles = {has({"larger", "bigger"}), has({"smaller"})};
  } else if (attribute == "speed") {
    poles = {has({"faster", "quickly"}), has({"slower", "slowly"})};
  } else if (attribute == "loudness") {
    poles = {has({"louder", "loud"}), has({"quieter", "quiet", "soft"})};
  } else if (attribute == "pose") {
    poles = {has({"lying"}), has({"upright"})};
  }
  if (poles.first == poles.second) return 0;
  return poles.first ? 1 : -1;
}

class OmniSynthContent : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(omnirm::testing::make_temp_dir("synth-content"));
    OmniSynthOptions options;
    options.tasks = {"all"};
    options.train_pairs = kTrainPairs;
    options.eval_pairs = kEvalPairs;
    options.seed = 7;
    options.hold_out_combinations = true;
    write_omni_synth(options, *dir_);
    train_ = new std::vector<Example>(
        data::read_pairs_jsonl(*dir_ + "/train.jsonl", data::OnBadRecord::error).examples);
    eval_ = new std::vector<Example>(
        data::read_pairs_jsonl(*dir_ + "/eval.jsonl", data::OnBadRecord::error).examples);
  }
  static void TearDownTestSuite() {
    delete train_;
    delete eval_;
    delete dir_;
  }

  static std::vector<Example> records(const std::string& task, bool eval) {
    std::vector<Example> out;
    for (const Example& example : eval ? *eval_ : *train_) {
      if (example.task == task) out.push_back(example);
    }
    return out;
  }
  static std::vector<Example> all_records(const std::string& task) {
    std::vector<Example> out = records(task, false);
    const std::vector<Example> eval = records(task, true);
    out.insert(out.end(), eval.begin(), eval.end());
    return out;
  }
  static std::string path(const std::string& relative) { return *dir_ + "/" + relative; }

  // Probes, cached per file: pooled files are referenced many times.
  static PictureProbe picture(const std::string& relative) {
    static std::map<std::string, PictureProbe> cache;
    auto it = cache.find(relative);
    if (it == cache.end()) it = cache.emplace(relative, probe_picture_file(path(relative))).first;
    return it->second;
  }
  static MotionProbe motion(const std::string& relative) {
    static std::map<std::string, MotionProbe> cache;
    auto it = cache.find(relative);
    if (it == cache.end()) it = cache.emplace(relative, probe_motion_file(path(relative))).first;
    return it->second;
  }
  static ToneProbe tone(const std::string& relative) {
    static std::map<std::string, ToneProbe> cache;
    auto it = cache.find(relative);
    if (it == cache.end()) it = cache.emplace(relative, probe_tone_file(path(relative))).first;
    return it->second;
  }
  static ModelProbe model(const data::ContentPart& part) {
    static std::map<std::string, ModelProbe> cache;
    auto it = cache.find(part.path);
    if (it == cache.end()) {
      const ModelProbe probe = part.type == "views" ? probe_views_file(path(part.path))
                                                    : probe_mesh_file(path(part.path));
      it = cache.emplace(part.path, probe).first;
    }
    return it->second;
  }

  static std::string* dir_;
  static std::vector<Example>* train_;
  static std::vector<Example>* eval_;
};

std::string* OmniSynthContent::dir_ = nullptr;
std::vector<Example>* OmniSynthContent::train_ = nullptr;
std::vector<Example>* OmniSynthContent::eval_ = nullptr;

TEST_F(OmniSynthContent, EveryTaskHasItsCountsInBenchmarkOrder) {
  std::vector<std::string> order;
  for (const Example& example : *train_) {
    if (order.empty() || order.back() != example.task) order.push_back(example.task);
  }
  EXPECT_EQ(order, omni_tasks());
  for (const std::string& task : omni_tasks()) {
    EXPECT_EQ(records(task, false).size(), static_cast<size_t>(kTrainPairs)) << task;
    EXPECT_EQ(records(task, true).size(), static_cast<size_t>(kEvalPairs)) << task;
    if (task == "t2t") continue;
    // Both kinds of pairs, and flip twins among the criteria pairs.
    int64_t content = 0, criteria = 0, flips = 0;
    for (const Example& example : records(task, false)) {
      content += has_tag(example, "content");
      criteria += has_tag(example, "criteria");
      flips += has_tag(example, "criteria_flip");
    }
    EXPECT_EQ(content + criteria, kTrainPairs) << task;
    EXPECT_GT(content, kTrainPairs / 4) << task;
    EXPECT_GT(criteria, kTrainPairs / 4) << task;
    EXPECT_GT(flips, kTrainPairs / 8) << task;
  }
}

TEST_F(OmniSynthContent, RecordsPassTheValidatorWithTheMediaRoot) {
  for (const char* file : {"train.jsonl", "eval.jsonl"}) {
    data::ValidateOptions options;
    options.root = *dir_;
    std::vector<std::string> problems;
    const data::ValidateSummary summary = data::validate_pairs_file(
        path(file), options, [&](const std::string& problem) { problems.push_back(problem); });
    EXPECT_EQ(summary.problems, 0) << (problems.empty() ? "" : problems.front());
    EXPECT_GT(summary.media_checked, summary.records / 2) << file;
  }
}

TEST_F(OmniSynthContent, CriteriaFlipTwinsAreExactSwaps) {
  for (const std::vector<Example>* split : {train_, eval_}) {
    int64_t twins = 0;
    for (size_t i = 0; i < split->size(); ++i) {
      const Example& first = (*split)[i];
      if (!has_tag(first, "criteria_flip")) continue;
      ASSERT_LT(i + 1, split->size()) << first.id;
      const Example& second = (*split)[i + 1];
      ASSERT_TRUE(has_tag(second, "criteria_flip")) << first.id;
      EXPECT_EQ(first.task, second.task);
      EXPECT_EQ(prompt_text(first), prompt_text(second)) << first.id;
      EXPECT_EQ(prompt_key(first), prompt_key(second)) << first.id;
      EXPECT_EQ(parts_key(first.chosen), parts_key(second.rejected)) << first.id;
      EXPECT_EQ(parts_key(first.rejected), parts_key(second.chosen)) << first.id;
      EXPECT_NE(first.criteria, second.criteria) << first.id;
      if (first.task != "t2t") {
        const std::string attribute = first.tags[1];
        EXPECT_EQ(criteria_pole(first.criteria, attribute),
                  -criteria_pole(second.criteria, attribute))
            << first.id;
      }
      ++twins;
      ++i;  // the twin's second record
    }
    EXPECT_GT(twins, 50);
  }
}

TEST_F(OmniSynthContent, TextAnswersFollowBrevityCriteria) {
  for (const char* task : {"ti2t", "tv2t", "ta2t"}) {
    int64_t checked = 0;
    for (const Example& example : all_records(task)) {
      if (!has_tag(example, "criteria")) continue;
      ASSERT_EQ(example.tags[1], "brevity");
      const int pole = criteria_pole(example.criteria, "brevity");
      ASSERT_NE(pole, 0) << example.criteria;
      const size_t chosen = data::text_of(example.chosen).size();
      const size_t rejected = data::text_of(example.rejected).size();
      EXPECT_EQ(pole > 0, chosen > rejected) << example.id;
      ++checked;
    }
    EXPECT_GT(checked, 30) << task;
  }
}

TEST_F(OmniSynthContent, Ti2tChosenNamesWhatThePictureShows) {
  int64_t content = 0;
  for (const Example& example : all_records("ti2t")) {
    const PictureProbe seen = picture(prompt_media(example, "image"));
    ASSERT_FALSE(seen.colour.empty()) << example.id;
    const std::string chosen = data::text_of(example.chosen);
    EXPECT_EQ(first_of(chosen, kColourWords), seen.colour) << example.id << ": " << chosen;
    EXPECT_EQ(first_of(chosen, kShapeWords), seen.shape) << example.id << ": " << chosen;
    if (has_tag(example, "content")) {
      const std::string rejected = data::text_of(example.rejected);
      EXPECT_FALSE(first_of(rejected, kColourWords) == seen.colour &&
                   first_of(rejected, kShapeWords) == seen.shape)
          << example.id << ": " << rejected;
      ++content;
    } else {
      const std::string rejected = data::text_of(example.rejected);
      EXPECT_EQ(first_of(rejected, kColourWords), seen.colour) << example.id;
      EXPECT_EQ(first_of(rejected, kShapeWords), seen.shape) << example.id;
    }
  }
  EXPECT_GT(content, 50);
}

TEST_F(OmniSynthContent, T2iChosenPictureMatchesThePrompt) {
  for (const Example& example : all_records("t2i")) {
    const std::string prompt = prompt_text(example);
    const std::string colour = first_of(prompt, kColourWords);
    const std::string shape = first_of(prompt, kShapeWords);
    const PictureProbe chosen = picture(example.chosen.at(0).path);
    const PictureProbe rejected = picture(example.rejected.at(0).path);
    EXPECT_EQ(chosen.colour, colour) << example.id;
    EXPECT_EQ(chosen.shape, shape) << example.id;
    if (has_tag(example, "content")) {
      EXPECT_FALSE(rejected.colour == colour && rejected.shape == shape) << example.id;
    } else {
      EXPECT_EQ(rejected.colour, colour) << example.id;
      EXPECT_EQ(rejected.shape, shape) << example.id;
      const int pole = criteria_pole(example.criteria, "size");
      ASSERT_NE(pole, 0) << example.criteria;
      EXPECT_EQ(pole > 0, chosen.ink > rejected.ink) << example.id;
    }
  }
}

TEST_F(OmniSynthContent, Ti2iChosenPictureCarriesOutTheEditInPlace) {
  int64_t unchanged = 0;
  for (const Example& example : all_records("ti2i")) {
    const std::string source_path = prompt_media(example, "image");
    const PictureProbe source = picture(source_path);
    const std::string instruction = prompt_text(example);
    const std::string new_colour = first_of(instruction, kColourWords);
    const std::string new_shape = first_of(instruction, kShapeWords);
    const std::string colour = new_colour.empty() ? source.colour : new_colour;
    const std::string shape = new_shape.empty() ? source.shape : new_shape;
    // Exactly one attribute changes.
    EXPECT_NE(colour == source.colour, shape == source.shape) << example.id << ": " << instruction;
    const PictureProbe chosen = picture(example.chosen.at(0).path);
    const PictureProbe rejected = picture(example.rejected.at(0).path);
    EXPECT_EQ(chosen.colour, colour) << example.id;
    EXPECT_EQ(chosen.shape, shape) << example.id;
    if (has_tag(example, "content")) {
      // Same size and place as the source; only the edited attribute changes.
      EXPECT_NEAR(chosen.centre_x, source.centre_x, 2.0) << example.id;
      EXPECT_NEAR(chosen.centre_y, source.centre_y, 2.0) << example.id;
      EXPECT_FALSE(rejected.colour == colour && rejected.shape == shape) << example.id;
      unchanged += example.rejected.at(0).path == source_path;
    } else {
      EXPECT_EQ(rejected.colour, colour) << example.id;
      EXPECT_EQ(rejected.shape, shape) << example.id;
      EXPECT_EQ(criteria_pole(example.criteria, "size") > 0, chosen.ink > rejected.ink)
          << example.id;
    }
  }
  EXPECT_GT(unchanged, 10);
}

TEST_F(OmniSynthContent, Tv2tChosenNamesTheDirectionOfMotion) {
  for (const Example& example : all_records("tv2t")) {
    const MotionProbe seen = motion(prompt_media(example, "video"));
    EXPECT_EQ(seen.frames, 4) << example.id;
    const std::string chosen = data::text_of(example.chosen);
    EXPECT_EQ(direction_of(chosen), seen.direction) << example.id << ": " << chosen;
    const std::string colour = first_of(chosen, kColourWords);
    if (!colour.empty()) {
      EXPECT_EQ(colour, seen.colour) << example.id;
    }
    if (has_tag(example, "content")) {
      EXPECT_NE(direction_of(data::text_of(example.rejected)), seen.direction) << example.id;
    }
  }
}

TEST_F(OmniSynthContent, T2vChosenClipMatchesThePrompt) {
  for (const Example& example : all_records("t2v")) {
    const std::string prompt = prompt_text(example);
    const std::string colour = first_of(prompt, kColourWords);
    const std::string direction = direction_of(prompt);
    const MotionProbe chosen = motion(example.chosen.at(0).path);
    const MotionProbe rejected = motion(example.rejected.at(0).path);
    EXPECT_EQ(chosen.colour, colour) << example.id;
    EXPECT_EQ(chosen.direction, direction) << example.id;
    if (has_tag(example, "content")) {
      EXPECT_FALSE(rejected.colour == colour && rejected.direction == direction) << example.id;
    } else {
      EXPECT_EQ(rejected.direction, direction) << example.id;
      const int pole = criteria_pole(example.criteria, "speed");
      ASSERT_NE(pole, 0) << example.criteria;
      EXPECT_EQ(pole > 0, chosen.distance > rejected.distance) << example.id;
      EXPECT_GT(std::abs(chosen.distance - rejected.distance), 4.0) << example.id;
    }
  }
}

TEST_F(OmniSynthContent, Ta2tChosenDescribesTheTone) {
  for (const Example& example : all_records("ta2t")) {
    const ToneProbe seen = tone(prompt_media(example, "audio"));
    ASSERT_GE(seen.beeps, 1) << example.id;
    auto agrees = [&](const std::string& text) {
      const std::string pitch = first_of(text, kPitchWords);
      const int count = count_of(text);
      return (pitch.empty() || pitch == seen.pitch) && (count == 0 || count == seen.beeps);
    };
    const std::string chosen = data::text_of(example.chosen);
    EXPECT_TRUE(has_any(chosen, kPitchWords) || count_of(chosen) != 0) << chosen;
    EXPECT_TRUE(agrees(chosen)) << example.id << " (" << seen.pitch << ", " << seen.beeps
                                << " beeps): " << chosen;
    const std::string rejected = data::text_of(example.rejected);
    EXPECT_EQ(agrees(rejected), has_tag(example, "criteria")) << example.id << ": " << rejected;
  }
}

TEST_F(OmniSynthContent, T2aChosenClipMatchesThePrompt) {
  for (const Example& example : all_records("t2a")) {
    const std::string prompt = prompt_text(example);
    const std::string pitch = first_of(prompt, kPitchWords);
    const int count = count_of(prompt);
    const ToneProbe chosen = tone(example.chosen.at(0).path);
    const ToneProbe rejected = tone(example.rejected.at(0).path);
    EXPECT_EQ(chosen.pitch, pitch) << example.id;
    EXPECT_EQ(chosen.beeps, count) << example.id;
    if (has_tag(example, "content")) {
      EXPECT_FALSE(rejected.pitch == pitch && rejected.beeps == count) << example.id;
    } else {
      EXPECT_EQ(rejected.pitch, pitch) << example.id;
      EXPECT_EQ(rejected.beeps, count) << example.id;
      const int pole = criteria_pole(example.criteria, "loudness");
      ASSERT_NE(pole, 0) << example.criteria;
      EXPECT_EQ(pole > 0, chosen.peak > 2.0 * rejected.peak) << example.id;
    }
  }
}

TEST_F(OmniSynthContent, T23dChosenModelMatchesThePrompt) {
  std::set<std::string> types;
  for (const Example& example : all_records("t23d")) {
    const std::string prompt = prompt_text(example);
    const std::string primitive = first_of(prompt, kPrimitiveWords);
    const bool tall = first_of(prompt, kStretchWords) == "tall";
    const ModelProbe chosen = model(example.chosen.at(0));
    const ModelProbe rejected = model(example.rejected.at(0));
    types.insert(example.chosen.at(0).type);
    EXPECT_EQ(example.chosen.at(0).type, example.rejected.at(0).type);
    if (has_tag(example, "content")) {
      EXPECT_EQ(chosen.primitive, primitive) << example.id << " " << example.chosen.at(0).path;
      EXPECT_EQ(chosen.taller_than_wide, tall) << example.id;
      EXPECT_FALSE(rejected.primitive == primitive && rejected.taller_than_wide == tall)
          << example.id << " " << example.rejected.at(0).path;
    } else {
      // Upright keeps the asked proportion along y; lying turns it onto x.
      const bool wants_lying = criteria_pole(example.criteria, "pose") > 0;
      EXPECT_EQ(chosen.taller_than_wide, tall != wants_lying) << example.id;
      EXPECT_EQ(rejected.taller_than_wide, tall == wants_lying) << example.id;
    }
  }
  EXPECT_EQ(types, (std::set<std::string>{"mesh", "views"}));
}

// The content combinations each record is built on (`truth`) and every one it mentions.
struct Mentions {
  std::set<std::string> truth;
  std::set<std::string> all;
};

TEST_F(OmniSynthContent, TrainNeverMentionsAnEvalCombination) {
  auto gather = [&](const std::string& task, bool eval) {
    Mentions m;
    for (const Example& example : records(task, eval)) {
      const std::string prompt = prompt_text(example);
      std::string truth;
      std::vector<std::string> others;
      if (task == "ti2t") {
        const PictureProbe seen = picture(prompt_media(example, "image"));
        truth = seen.colour + " " + seen.shape;
        const std::string rejected = data::text_of(example.rejected);
        others.push_back(first_of(rejected, kColourWords) + " " + first_of(rejected, kShapeWords));
      } else if (task == "t2i" || task == "ti2i") {
        const PictureProbe chosen = picture(example.chosen.at(0).path);
        const PictureProbe rejected = picture(example.rejected.at(0).path);
        truth = chosen.colour + " " + chosen.shape;
        others.push_back(rejected.colour + " " + rejected.shape);
        if (task == "ti2i") {
          const PictureProbe source = picture(prompt_media(example, "image"));
          others.push_back(source.colour + " " + source.shape);
        }
      } else if (task == "tv2t" || task == "t2v") {
        const MotionProbe seen = task == "tv2t" ? motion(prompt_media(example, "video"))
                                                : motion(example.chosen.at(0).path);
        truth = seen.colour + " " + seen.direction;
        if (task == "t2v") {
          const MotionProbe rejected = motion(example.rejected.at(0).path);
          others.push_back(rejected.colour + " " + rejected.direction);
        } else {
          others.push_back(seen.colour + " " + direction_of(data::text_of(example.rejected)));
        }
      } else if (task == "ta2t" || task == "t2a") {
        const ToneProbe seen =
            task == "ta2t" ? tone(prompt_media(example, "audio")) : tone(example.chosen.at(0).path);
        truth = seen.pitch + " " + std::to_string(seen.beeps);
        if (task == "t2a") {
          const ToneProbe rejected = tone(example.rejected.at(0).path);
          others.push_back(rejected.pitch + " " + std::to_string(rejected.beeps));
        }
      } else if (task == "t23d") {
        truth = first_of(prompt, kStretchWords) + " " + first_of(prompt, kPrimitiveWords);
        if (has_tag(example, "content")) {
          const ModelProbe rejected = model(example.rejected.at(0));
          others.push_back(std::string(rejected.taller_than_wide ? "tall" : "flat") + " " +
                           rejected.primitive);
        }
      }
      m.truth.insert(truth);
      m.all.insert(truth);
      m.all.insert(others.begin(), others.end());
    }
    return m;
  };
  for (const std::string& task : omni_tasks()) {
    if (task == "t2t") continue;
    const Mentions train = gather(task, false);
    const Mentions eval = gather(task, true);
    ASSERT_FALSE(eval.truth.empty()) << task;
    for (const std::string& combo : eval.truth) {
      EXPECT_EQ(train.all.count(combo), 0u) << task << ": train mentions eval's " << combo;
    }
  }
}

TEST_F(OmniSynthContent, MediaFilesArePooledPerSplit) {
  std::set<std::string> train_files, eval_files;
  int64_t references = 0;
  auto collect = [&](const std::vector<Example>& split, std::set<std::string>& files) {
    for (const Example& example : split) {
      auto add = [&](const std::vector<data::ContentPart>& parts) {
        for (const data::ContentPart& part : parts) {
          if (part.type == "text") continue;
          files.insert(part.path);
          ++references;
        }
      };
      for (const data::Turn& turn : example.prompt) add(turn.content);
      add(example.chosen);
      add(example.rejected);
    }
  };
  collect(*train_, train_files);
  collect(*eval_, eval_files);
  for (const std::string& file : eval_files) EXPECT_EQ(train_files.count(file), 0u) << file;
  // Files are shared between pairs, so a decode cache keyed by content pays off.
  EXPECT_LT(static_cast<int64_t>(train_files.size() + eval_files.size()) * 2, references);
}

}  // namespace
}  // namespace omnirm::synth
