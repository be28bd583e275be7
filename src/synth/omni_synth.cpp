// write_omni_synth: checks the options, runs the t2t generator of the data area and the media
// task generators of this area (each task and split on its own random stream), writes the
// media files through one pool, then the JSONL files and the tokenizer corpus.
#include "omnirm/synth/omni_synth.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/data/synth.h"
#include "synth_common.h"
#include "task_families.h"

namespace omnirm::synth {
namespace {

using detail::Split;

// Random streams of the media tasks: kFirstTaskStream + 2 * (task index) for train, + 1 for
// eval. data::synthesize (t2t) uses the streams below it.
constexpr uint64_t kFirstTaskStream = 16;
constexpr int kMinImageSize = 16;
constexpr int kMaxImageSize = 256;

std::string task_list() {
  std::string list;
  for (const std::string& task : omni_tasks()) list += (list.empty() ? "" : ", ") + task;
  return list;
}

// The asked tasks in omni_tasks() order, each once; "all" stands for every task.
std::vector<std::string> resolve_tasks(const std::vector<std::string>& asked) {
  if (asked.empty()) {
    throw UserError("data synth: no task given; name some of " + task_list() + ", or all");
  }
  std::vector<bool> wanted(omni_tasks().size(), false);
  for (const std::string& name : asked) {
    if (name == "all") {
      std::fill(wanted.begin(), wanted.end(), true);
      continue;
    }
    const auto found = std::find(omni_tasks().begin(), omni_tasks().end(), name);
    if (found == omni_tasks().end()) {
      throw UserError("data synth: unknown task '" + name + "'; use some of " + task_list() +
                      ", or all");
    }
    wanted[static_cast<size_t>(found - omni_tasks().begin())] = true;
  }
  std::vector<std::string> tasks;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i]) tasks.push_back(omni_tasks()[i]);
  }
  return tasks;
}

void check_options(const OmniSynthOptions& options, const std::vector<std::string>& tasks) {
  if (options.train_pairs < 0 || options.eval_pairs < 0) {
    throw UserError("data synth: pair counts must not be negative (train " +
                    std::to_string(options.train_pairs) + ", eval " +
                    std::to_string(options.eval_pairs) + "); give counts of 0 or more");
  }
  for (const auto& [task, count] : options.task_train_pairs) {
    if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) {
      throw UserError("data synth: training pairs are given for task '" + task +
                      "', which is not generated; add it to --tasks or drop its count");
    }
    if (count < 0) {
      throw UserError("data synth: training pairs for task '" + task + "' must not be negative (" +
                      std::to_string(count) + "); give a count of 0 or more");
    }
  }
  if (options.image_size < kMinImageSize || options.image_size > kMaxImageSize ||
      options.image_size % 2 != 0) {
    throw UserError("data synth: image size " + std::to_string(options.image_size) +
                    " is not an even number of pixels from " + std::to_string(kMinImageSize) +
                    " to " + std::to_string(kMaxImageSize) + "; pick one such as 32");
  }
}

std::unique_ptr<detail::TaskGenerator> make_generator(const std::string& task,
                                                      const detail::TaskSetup& setup) {
  if (task == "ti2t") return detail::make_ti2t(setup);
  if (task == "tv2t") return detail::make_tv2t(setup);
  if (task == "ta2t") return detail::make_ta2t(setup);
  if (task == "t2i") return detail::make_t2i(setup);
  if (task == "t2v") return detail::make_t2v(setup);
  if (task == "t2a") return detail::make_t2a(setup);
  if (task == "t23d") return detail::make_t23d(setup);
  return detail::make_ti2i(setup);
}

// Adds the distinct texts of `records` (criteria, prompt text, responses' text) to `corpus`.
void add_record_texts(const std::vector<data::Example>& records,
                      std::unordered_set<std::string>& seen, std::vector<std::string>& corpus) {
  auto add = [&](const std::string& text) {
    if (!text.empty() && seen.insert(text).second) corpus.push_back(text);
  };
  for (const data::Example& example : records) {
    add(example.criteria);
    for (const data::Turn& turn : example.prompt) add(data::text_of(turn.content));
    add(data::text_of(example.chosen));
    add(data::text_of(example.rejected));
  }
}

}  // namespace

const std::vector<std::string>& omni_tasks() {
  static const std::vector<std::string> tasks = {"t2t", "ti2t", "tv2t", "ta2t", "t2i",
                                                 "t2v", "t2a",  "t23d", "ti2i"};
  return tasks;
}

std::string write_omni_synth(const OmniSynthOptions& options, const std::string& out_dir) {
  const std::vector<std::string> tasks = resolve_tasks(options.tasks);
  check_options(options, tasks);
  auto train_pairs_of = [&](const std::string& task) {
    const auto found = options.task_train_pairs.find(task);
    return found == options.task_train_pairs.end() ? options.train_pairs : found->second;
  };
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error || !std::filesystem::is_directory(out_dir)) {
    throw UserError("cannot create output directory '" + out_dir +
                    "': " + (error ? error.message() : std::string("not a directory")) +
                    "; choose another path");
  }

  data::SynthSet set;
  if (tasks.front() == "t2t") {
    data::SynthOptions text_options;
    text_options.tasks = {"t2t"};
    text_options.train_pairs = train_pairs_of("t2t");
    text_options.eval_pairs = options.eval_pairs;
    text_options.seed = options.seed;
    set = data::synthesize(text_options);
  }
  std::unordered_set<std::string> seen(set.tokenizer_corpus.begin(), set.tokenizer_corpus.end());

  detail::MediaPool pool(out_dir);
  const detail::TaskSetup setup{options.seed, options.image_size, &pool,
                                options.hold_out_combinations};
  for (const std::string& task : tasks) {
    if (task == "t2t") continue;
    const auto index = static_cast<uint64_t>(
        std::find(omni_tasks().begin(), omni_tasks().end(), task) - omni_tasks().begin());
    const std::unique_ptr<detail::TaskGenerator> generator = make_generator(task, setup);
    detail::SynthRandom train_random =
        detail::SynthRandom::stream(options.seed, kFirstTaskStream + 2 * index);
    detail::SynthRandom eval_random =
        detail::SynthRandom::stream(options.seed, kFirstTaskStream + 2 * index + 1);
    std::vector<data::Example> train =
        detail::generate_pairs(*generator, task, Split::train, train_pairs_of(task), train_random);
    std::vector<data::Example> eval =
        detail::generate_pairs(*generator, task, Split::eval, options.eval_pairs, eval_random);
    add_record_texts(train, seen, set.tokenizer_corpus);
    add_record_texts(eval, seen, set.tokenizer_corpus);
    set.train.insert(set.train.end(), train.begin(), train.end());
    set.eval.insert(set.eval.end(), eval.begin(), eval.end());
  }
  data::write_synth_set(set, out_dir);

  std::string names;
  for (const std::string& task : tasks) names += (names.empty() ? "" : ",") + task;
  return "wrote " + std::to_string(set.train.size()) + " train and " +
         std::to_string(set.eval.size()) + " eval pairs (" + names + ") and " +
         std::to_string(pool.files_written()) + " media files to " + out_dir;
}

}  // namespace omnirm::synth
