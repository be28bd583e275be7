// Tests of write_omni_synth as a whole: the same options give byte-identical files (JSONL,
// corpus and every media file), another seed gives other files, bad options are one-line
// UserErrors, t2t alone matches data::synthesize, and the full default-size set is quick.
#include "omnirm/synth/omni_synth.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/synth.h"
#include "support/test_support.h"

namespace omnirm::synth {
namespace {

namespace fs = std::filesystem;

// Every regular file under `dir` by relative path, with its bytes.
std::map<std::string, std::string> tree_of(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), dir).string()] = omnirm::testing::read_file(entry.path());
  }
  return files;
}

OmniSynthOptions small_options(uint64_t seed) {
  OmniSynthOptions options;
  options.tasks = {"all"};
  options.train_pairs = 40;
  options.eval_pairs = 12;
  options.seed = seed;
  return options;
}

std::string user_error_of(const OmniSynthOptions& options, const std::string& dir) {
  try {
    write_omni_synth(options, dir);
  } catch (const UserError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

TEST(OmniSynth, TaskListIsTheBenchmarkOrder) {
  EXPECT_EQ(omni_tasks(), (std::vector<std::string>{"t2t", "ti2t", "tv2t", "ta2t", "t2i", "t2v",
                                                    "t2a", "t23d", "ti2i"}));
}

TEST(OmniSynth, SameSeedGivesTheSameBytesInEveryFile) {
  const std::string first = omnirm::testing::make_temp_dir("synth-same-a");
  const std::string second = omnirm::testing::make_temp_dir("synth-same-b");
  const std::string other = omnirm::testing::make_temp_dir("synth-other");
  write_omni_synth(small_options(11), first);
  write_omni_synth(small_options(11), second);
  write_omni_synth(small_options(12), other);

  const auto a = tree_of(first);
  const auto b = tree_of(second);
  const auto c = tree_of(other);
  int64_t media = 0;
  for (const auto& [name, bytes] : a) media += name.rfind("media/", 0) == 0;
  EXPECT_GT(media, 100);
  for (const char* kind : {".png", ".mp4", ".wav", ".flac", ".ply", ".obj"}) {
    bool found = false;
    for (const auto& [name, bytes] : a) found = found || name.ends_with(kind);
    EXPECT_TRUE(found) << "no " << kind << " file";
  }
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) {
    ASSERT_EQ(b.count(name), 1u) << name;
    EXPECT_TRUE(bytes == b.at(name)) << name << " differs between two runs";
  }
  EXPECT_NE(a.at("train.jsonl"), c.at("train.jsonl"));
  EXPECT_NE(a.at("eval.jsonl"), c.at("eval.jsonl"));
  // Another seed draws other positions, timings and held-out combinations.
  int64_t differing_media = 0;
  for (const auto& [name, bytes] : a) {
    if (name.rfind("media/", 0) != 0) continue;
    differing_media += c.count(name) == 0 || c.at(name) != bytes;
  }
  EXPECT_GT(differing_media, media / 2);
}

TEST(OmniSynth, TextOnlyMatchesTheDataAreaGenerator) {
  const std::string dir = omnirm::testing::make_temp_dir("synth-t2t");
  OmniSynthOptions options;
  options.tasks = {"t2t"};
  options.train_pairs = 30;
  options.eval_pairs = 10;
  options.seed = 5;
  write_omni_synth(options, dir);
  const std::string reference = omnirm::testing::make_temp_dir("synth-t2t-reference");
  data::SynthOptions text;
  text.train_pairs = 30;
  text.eval_pairs = 10;
  text.seed = 5;
  data::write_synth_set(data::synthesize(text), reference);
  EXPECT_EQ(tree_of(dir), tree_of(reference));
}

TEST(OmniSynth, OneTaskAlone) {
  const std::string dir = omnirm::testing::make_temp_dir("synth-t2a");
  OmniSynthOptions options;
  options.tasks = {"t2a"};
  options.train_pairs = 20;
  options.eval_pairs = 5;
  const std::string summary = write_omni_synth(options, dir);
  EXPECT_NE(summary.find("20 train and 5 eval"), std::string::npos) << summary;
  EXPECT_EQ(summary.find('\n'), std::string::npos);
  EXPECT_TRUE(fs::is_directory(dir + "/media/audio"));
  EXPECT_FALSE(fs::exists(dir + "/media/image"));
}

// The lines of `task`'s records in a JSONL file written by write_omni_synth, in file order.
std::vector<std::string> records_of(const std::string& jsonl, const std::string& task) {
  std::istringstream text(omnirm::testing::read_file(jsonl));
  const std::string key = "\"task\":\"" + task + "\"";
  std::vector<std::string> records;
  for (std::string line; std::getline(text, line);) {
    if (line.find(key) != std::string::npos) records.push_back(line);
  }
  return records;
}

TEST(OmniSynth, TaskTrainPairsReplaceTheCountOfTheTasksNamed) {
  const std::string dir = omnirm::testing::make_temp_dir("synth-task-pairs");
  const std::string plain_dir = omnirm::testing::make_temp_dir("synth-task-pairs-plain");
  OmniSynthOptions options;
  options.tasks = {"t2t", "t2a", "ta2t"};
  options.train_pairs = 10;
  options.eval_pairs = 5;
  write_omni_synth(options, plain_dir);
  options.task_train_pairs = {{"ta2t", 30}, {"t2t", 4}};
  const std::string summary = write_omni_synth(options, dir);
  EXPECT_NE(summary.find("44 train and 15 eval"), std::string::npos) << summary;
  EXPECT_EQ(records_of(dir + "/train.jsonl", "t2t").size(), 4u);
  EXPECT_EQ(records_of(dir + "/train.jsonl", "ta2t").size(), 30u);
  EXPECT_EQ(records_of(plain_dir + "/train.jsonl", "ta2t").size(), 10u);
  // Each task draws from its own stream: a task not named and the eval split are unchanged.
  const std::vector<std::string> t2a = records_of(dir + "/train.jsonl", "t2a");
  EXPECT_EQ(t2a.size(), 10u);
  EXPECT_EQ(t2a, records_of(plain_dir + "/train.jsonl", "t2a"));
  EXPECT_EQ(omnirm::testing::read_file(dir + "/eval.jsonl"),
            omnirm::testing::read_file(plain_dir + "/eval.jsonl"));
}

TEST(OmniSynth, BadOptionsAreOneLineUserErrors) {
  const std::string dir = omnirm::testing::make_temp_dir("synth-bad");
  OmniSynthOptions options = small_options(1);
  options.tasks = {"ti2t", "t2x"};
  std::string message = user_error_of(options, dir);
  EXPECT_NE(message.find("'t2x'"), std::string::npos) << message;
  EXPECT_NE(message.find("ti2i"), std::string::npos) << message;

  options = small_options(1);
  options.tasks = {};
  EXPECT_NE(user_error_of(options, dir).find("no task"), std::string::npos);

  options = small_options(1);
  options.image_size = 33;
  message = user_error_of(options, dir);
  EXPECT_NE(message.find("33"), std::string::npos) << message;

  options = small_options(1);
  options.eval_pairs = -1;
  EXPECT_NE(user_error_of(options, dir).find("negative"), std::string::npos);

  options = small_options(1);
  options.task_train_pairs = {{"ta2t", -3}};
  message = user_error_of(options, dir);
  EXPECT_NE(message.find("'ta2t' must not be negative"), std::string::npos) << message;

  options = small_options(1);
  options.tasks = {"t2a"};
  options.task_train_pairs = {{"tv2t", 30}};
  message = user_error_of(options, dir);
  EXPECT_NE(message.find("'tv2t', which is not generated"), std::string::npos) << message;

  omnirm::testing::write_file(dir + "/occupied", "a file");
  options = small_options(1);
  message = user_error_of(options, dir + "/occupied/out");
  EXPECT_NE(message.find("occupied"), std::string::npos) << message;
  for (const std::string& text : {message}) EXPECT_EQ(text.find('\n'), std::string::npos);
}

// "blue-square" of "media/image/eval/blue-square-small-1.png": the content combination.
std::set<std::string> image_combos(const std::map<std::string, std::string>& files,
                                   const std::string& split) {
  std::set<std::string> combos;
  const std::string prefix = "media/image/" + split + "/";
  for (const auto& [path, bytes] : files) {
    if (!path.starts_with(prefix)) continue;
    const std::string name = path.substr(prefix.size());
    const size_t second_dash = name.find('-', name.find('-') + 1);
    combos.insert(name.substr(0, second_dash));
  }
  return combos;
}

TEST(OmniSynth, EvalMediaAreNewFilesWithOrWithoutHeldOutCombinations) {
  for (const bool hold_out : {false, true}) {
    const std::string dir = omnirm::testing::make_temp_dir("synth-split");
    OmniSynthOptions options = small_options(5);
    options.hold_out_combinations = hold_out;
    write_omni_synth(options, dir);
    const auto files = tree_of(dir);
    std::set<std::string> train_bytes;
    for (const auto& [path, bytes] : files) {
      if (path.starts_with("media/") && path.find("/train/") != std::string::npos) {
        train_bytes.insert(bytes);
      }
    }
    int eval_files = 0;
    for (const auto& [path, bytes] : files) {
      if (!path.starts_with("media/") || path.find("/eval/") == std::string::npos) continue;
      ++eval_files;
      EXPECT_EQ(train_bytes.count(bytes), 0u) << path << " repeats a training file";
    }
    EXPECT_GT(eval_files, 0);
    const std::set<std::string> train = image_combos(files, "train");
    const std::set<std::string> eval = image_combos(files, "eval");
    ASSERT_FALSE(eval.empty());
    size_t shared = 0;
    for (const std::string& combo : eval) shared += train.count(combo);
    // Held-out combinations are checked on the records (media_content_test.cpp).
    if (!hold_out) {
      EXPECT_GT(shared, 0u);
    }
    fs::remove_all(dir);
  }
}

TEST(OmniSynth, FullDefaultSizeSetIsQuick) {
  const std::string dir = omnirm::testing::make_temp_dir("synth-full");
  OmniSynthOptions options;
  options.tasks = {"all"};
  const auto start = std::chrono::steady_clock::now();
  const std::string summary = write_omni_synth(options, dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s in %.2f s\n", summary.c_str(), seconds);
  EXPECT_NE(summary.find("3600 train and 900 eval"), std::string::npos) << summary;
  EXPECT_LT(seconds, 60.0);
}

}  // namespace
}  // namespace omnirm::synth
