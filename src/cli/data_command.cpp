// `omnirm data synth | convert | validate | stats`: the embedded synthetic data (t2t, and the
// media tasks where the build has media support), conversion from other tools' layouts,
// complete record and media checks, and what a file holds. Given a config, validate and stats
// render records as its training run does (its tokenizer, its adapters' media layout, and
// under model.arch minicpmo MiniCPM-o's layout from the decoded media).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "omnirm/cli/commands.h"
#include "omnirm/core/config.h"
#include "omnirm/core/error.h"
#include "omnirm/core/parse_scalar.h"
#include "omnirm/data/convert.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/stats.h"
#include "omnirm/data/synth.h"
#include "omnirm/data/validate.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/init_from.h"
#ifdef OMNIRM_WITH_MEDIA
#include "omnirm/synth/bench_layout_synth.h"
#include "omnirm/synth/omni_synth.h"
#endif

namespace omnirm::cli {

namespace {

struct SynthArguments {
  std::vector<std::string> tasks = {"t2t"};
  std::string out = "demo-data";
  int64_t train_pairs = 0;  // 0 until given: the defaults depend on the tasks
  int64_t eval_pairs = 0;
  std::vector<std::string> task_train_pairs;  // TASK=N entries
  uint64_t seed = 1234;
  int image_size = 32;
  bool hold_out_combinations = false;
  bool bench_layout = false;
};

[[maybe_unused]] bool text_only(const std::vector<std::string>& tasks) {
  return std::all_of(tasks.begin(), tasks.end(), [](const std::string& t) { return t == "t2t"; });
}

[[maybe_unused]] std::string comma_list(const std::vector<std::string>& items) {
  std::string list;
  for (const std::string& item : items) list += (list.empty() ? "" : ",") + item;
  return list;
}

// "TASK=N" entries of --task-train-pairs as a map; the synth checks the task names.
[[maybe_unused]] std::map<std::string, int64_t> parse_task_train_pairs(
    const std::vector<std::string>& entries) {
  std::map<std::string, int64_t> counts;
  for (const std::string& entry : entries) {
    const size_t equals = entry.find('=');
    const std::string task = entry.substr(0, equals);
    const std::string number = equals == std::string::npos ? "" : entry.substr(equals + 1);
    const std::optional<int64_t> count = parse_integer(number);
    if (task.empty() || !count || *count < 0) {
      throw UserError("data synth --task-train-pairs: '" + entry +
                      "' is not TASK=N with N a whole number of 0 or more; write e.g. "
                      "tv2t=4000,ta2t=4000");
    }
    if (!counts.emplace(task, *count).second) {
      throw UserError("data synth --task-train-pairs: task '" + task +
                      "' is given twice; give each task once");
    }
  }
  return counts;
}

// t2t alone: data::synthesize (4000 / 600 pairs by default).
void write_text_synth(const SynthArguments& args, bool train_given, bool eval_given) {
  data::SynthOptions options;
  options.tasks = args.tasks;  // data::synthesize names unknown tasks
  if (train_given) options.train_pairs = args.train_pairs;
  if (eval_given) options.eval_pairs = args.eval_pairs;
  options.seed = args.seed;
  const data::SynthSet set = data::synthesize(options);
  data::write_synth_set(set, args.out);
  fmt::print("wrote {} train and {} eval pairs to {}\n", set.train.size(), set.eval.size(),
             args.out);
}

void add_synth(CLI::App& data) {
  auto* command =
      data.add_subcommand("synth", "Generate the deterministic synthetic preference set");
  auto args = std::make_shared<SynthArguments>();
  command
      ->add_option("--tasks", args->tasks,
                   "Comma list of tasks (t2t ti2t tv2t ta2t t2i t2v t2a t23d ti2i) or all; "
                   "default t2t")
      ->delimiter(',');
  command->add_option("-o,--out", args->out,
                      "Output directory (train.jsonl, eval.jsonl, corpus.txt, media/)");
  auto* train = command->add_option("--train-pairs", args->train_pairs,
                                    "Training pairs per task (default 4000 for t2t alone, else "
                                    "400 per task)");
  auto* eval = command->add_option("--eval-pairs", args->eval_pairs,
                                   "Held-out pairs per task (default 600 for t2t alone, else 100 "
                                   "per task)");
  command->add_option("--seed", args->seed, "Seed; the same seed gives the same files");
  [[maybe_unused]] auto* tasks = command->get_option("--tasks");
#ifdef OMNIRM_WITH_MEDIA
  command
      ->add_option("--task-train-pairs", args->task_train_pairs,
                   "Media sets: training pairs of single tasks in place of --train-pairs, as "
                   "TASK=N,... (e.g. tv2t=4000,ta2t=4000)")
      ->delimiter(',');
  command->add_option("--image-size", args->image_size,
                      "Side of generated images and video frames in pixels (even, 16..256)");
  command->add_flag("--hold-out-combinations", args->hold_out_combinations,
                    "Media tasks: eval content combinations (e.g. a colour with a shape) never "
                    "occur in training; by default eval pairs are new pairs over new files");
  command->add_flag("--bench-layout", args->bench_layout,
                    "Write a small benchmark in the Omni-RewardBench layout instead (one file "
                    "per task, media under media_data/, --eval-pairs pairs per task (default "
                    "12) plus a quarter as many gold ties; all tasks unless --tasks)");
#endif
  command->callback([args, train, eval, tasks] {
    const bool train_given = train->count() > 0;
    const bool eval_given = eval->count() > 0;
#ifdef OMNIRM_WITH_MEDIA
    if (args->bench_layout) {
      synth::BenchLayoutOptions options;
      if (tasks->count() > 0) options.tasks = args->tasks;
      if (eval_given) options.pairs_per_task = args->eval_pairs;
      options.ties_per_task = std::max<int64_t>(1, options.pairs_per_task / 4);
      options.seed = args->seed;
      options.image_size = args->image_size;
      fmt::print("{}\n", synth::write_bench_layout(options, args->out));
      return;
    }
    if (text_only(args->tasks)) {
      if (!args->task_train_pairs.empty()) {
        throw UserError(
            "data synth --task-train-pairs: the text set has one task; give its "
            "count with --train-pairs");
      }
      write_text_synth(*args, train_given, eval_given);
      return;
    }
    synth::OmniSynthOptions options;
    options.tasks = args->tasks;
    if (train_given) options.train_pairs = args->train_pairs;
    if (eval_given) options.eval_pairs = args->eval_pairs;
    options.task_train_pairs = parse_task_train_pairs(args->task_train_pairs);
    options.seed = args->seed;
    options.image_size = args->image_size;
    options.hold_out_combinations = args->hold_out_combinations;
    fmt::print("{}\n", synth::write_omni_synth(options, args->out));
#else
    const char* media_tasks[] = {"all", "ti2t", "tv2t", "ta2t", "t2i",
                                 "t2v", "t2a",  "t23d", "ti2i"};
    for (const std::string& task : args->tasks) {
      if (std::find(std::begin(media_tasks), std::end(media_tasks), task) !=
          std::end(media_tasks)) {
        throw UserError("data synth --tasks " + comma_list(args->tasks) +
                        ": this build has no media support (built without the media libraries); "
                        "generate --tasks t2t, or use a build with media");
      }
    }
    write_text_synth(*args, train_given, eval_given);
#endif
  });
}

struct ConvertArguments {
  std::string format;
  std::string input;
  std::string output;
  std::string root;
  std::string task;
  std::string media_dir = "media_data";
  std::string on_bad_record = "error";
};

void add_convert(CLI::App& data) {
  auto* command = data.add_subcommand(
      "convert", "Convert LLaMA-Factory, Omni-RewardBench or TRL preference data to pair JSONL");
  auto args = std::make_shared<ConvertArguments>();
  command
      ->add_option("--from", args->format,
                   "llamafactory | omni-rewardbench | trl | vl-rewardbench | "
                   "multimodal-rewardbench | rewardbench")
      ->required();
  command->add_option("--in", args->input, "Input: a JSON array file or JSONL")->required();
  command->add_option("--out", args->output, "Output pair JSONL")->required();
  command->add_option("--root", args->root,
                      "Media root: absolute media paths must lie inside it (default: the input's "
                      "directory)");
  command->add_option("--task", args->task,
                      "Task of every record (default: inferred from the media, or from an "
                      "Omni-RewardBench file name)");
  command->add_option("--media-dir", args->media_dir,
                      "omni-rewardbench: directory under the root holding the media");
  command->add_option("--on-bad-record", args->on_bad_record, "error (default) | skip");
  command->callback([args] {
    data::ConvertOptions options;
    options.format = data::parse_source_format(args->format);
    options.input = args->input;
    options.output = args->output;
    options.root = args->root;
    options.task = args->task;
    options.media_dir = args->media_dir;
    options.on_bad_record = data::parse_on_bad_record(args->on_bad_record);
    const data::ConvertSummary summary = data::convert_file(options);
    for (const std::string& problem : summary.problems) fmt::print("skipped {}\n", problem);
    if (summary.skipped > static_cast<int64_t>(summary.problems.size())) {
      fmt::print("... and {} more skipped\n",
                 summary.skipped - static_cast<int64_t>(summary.problems.size()));
    }
    std::string tasks;
    for (const auto& [task, count] : summary.per_task) {
      tasks += fmt::format("{}{} {}", tasks.empty() ? "" : ", ", task, count);
    }
    fmt::print("{}: {} records, {} written to {} ({}), {} skipped\n", args->input, summary.records,
               summary.written, args->output, tasks.empty() ? "none" : tasks, summary.skipped);
  });
}

// What `config`'s training run renders records with: its tokenizer (train.init_from's when
// data.tokenizer is empty) and its media layout.
struct RunRendering {
  Config config;
  std::unique_ptr<text::Tokenizer> tokenizer;  // null without data.tokenizer
  infer::MediaSetup media;
};

RunRendering run_rendering(const ConfigOptions& options, const std::string& command) {
  RunRendering run;
  run.config = train::resolve_init_from(load_config(options.path, options.overrides));
  if (run.config.data.tokenizer.empty()) return run;
  run.tokenizer =
      std::make_unique<text::Tokenizer>(text::Tokenizer::load(run.config.data.tokenizer));
  if (run.config.model.arch == "minicpmo" && !infer::media_decoding_available()) {
    throw UserError("omnirm data " + command +
                    ": the MiniCPM-o layout is made from the decoded media and this build has "
                    "no media decoding (GPU build profile); run it on a full build");
  }
  Config setup = run.config;
  setup.data.media_store.clear();  // read-only here: nothing is decoded into a store
  run.media = infer::make_media_setup(setup, *run.tokenizer);
  return run;
}

// The media root a run of `config` reads `file`'s media under.
std::string media_root_of(const Config& config, const std::string& file) {
  return config.data.root.empty() ? std::filesystem::path(file).parent_path().string()
                                  : config.data.root;
}

void add_validate(CLI::App& data) {
  auto* command = data.add_subcommand(
      "validate", "Check pair files: every bad record and every missing or escaping media file");
  auto files = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<data::ValidateOptions>();
  auto no_media = std::make_shared<bool>(false);
  command->add_option("files", *files, "Pair JSONL files")->required();
  auto config_options = std::make_shared<ConfigOptions>();
  command->add_option("--root", options->root,
                      "Media root (default: the config's data.root, else each file's directory)");
  command->add_flag("--no-media-check", *no_media, "Check the records only");
  add_config_options(*command, *config_options);
  command->callback([files, options, no_media, config_options] {
    data::ValidateOptions checked = *options;
    checked.check_media = !*no_media;
    // With a config: every good record is also rendered and tokenized as its run does it.
    std::optional<RunRendering> run;
    std::unique_ptr<data::PairEncoder> encoder;
    if (!config_options->path.empty() || !config_options->overrides.empty()) {
      run = run_rendering(*config_options, "validate");
      if (!run->tokenizer) {
        throw UserError(
            "omnirm data validate: the config has no data.tokenizer (nor "
            "train.init_from); set one to render the records");
      }
      encoder =
          std::make_unique<data::PairEncoder>(*run->tokenizer, std::numeric_limits<int32_t>::max(),
                                              text::TruncationPolicy::truncate, run->media.layout);
      if (run->media.minicpmo) encoder->set_minicpmo_layout(*run->media.minicpmo);
      checked.encoder = encoder.get();
    }
    int64_t bad = 0;
    int64_t problems = 0;
    for (const std::string& file : *files) {
      if (run && options->root.empty()) checked.root = media_root_of(run->config, file);
      const data::ValidateSummary summary = data::validate_pairs_file(
          file, checked, [](const std::string& problem) { fmt::print("{}\n", problem); });
      fmt::print("{}: {} records, {} bad, {} problems, {} media files checked", file,
                 summary.records, summary.bad_records, summary.problems, summary.media_checked);
      if (encoder) {
        fmt::print("; {} rendered as the config's run renders them (longest pair {} tokens)",
                   summary.rendered, summary.max_tokens);
      }
      fmt::print("\n");
      bad += summary.bad_records;
      problems += summary.problems;
    }
    if (problems > 0) {
      throw UserError(
          fmt::format("{} problems in {} records; fix them, or train with "
                      "data.on_bad_record: skip to leave bad records out",
                      problems, bad));
    }
  });
}

void add_stats(CLI::App& data) {
  auto* command = data.add_subcommand(
      "stats", "Pairs per task and modality, token-length percentiles, truncation under a config");
  auto file = std::make_shared<std::string>();
  auto config_options = std::make_shared<ConfigOptions>();
  command->add_option("file", *file, "Pair JSONL file")->required();
  add_config_options(*command, *config_options);
  command->callback([file, config_options] {
    const RunRendering run = run_rendering(*config_options, "stats");
    data::StatsMedia media;
    media.layout = run.media.layout;
    media.minicpmo = run.media.minicpmo;
    media.root = media_root_of(run.config, *file);
    fmt::print("{}", data::format_stats(
                         data::compute_stats(*file, run.tokenizer.get(), run.config.data, media)));
  });
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Data tools: synth, convert, validate, stats");
  data->require_subcommand(1);
  add_synth(*data);
  add_convert(*data);
  add_validate(*data);
  add_stats(*data);
}

}  // namespace omnirm::cli
