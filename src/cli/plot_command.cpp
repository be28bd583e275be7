// `omnirm plot RUN_DIR [--out DIR]`: draws a run's training and evaluation curves as PNG files,
// one chart per family of scalars, read from the run's TensorBoard event files (RUN_DIR/tb/,
// or RUN_DIR itself when it holds them). Families: a tag's leading "eval/" or "train/" is set
// aside; a name with a '/' belongs to the family before its last '/' (eval/accuracy/task/t2t
// to accuracy/task, bench/overall to bench); names starting "reward_" share "reward"; any
// other name is its own family. So "loss" and "eval/loss" share loss.png.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/eval/line_plot.h"
#include "omnirm/io/event_file.h"

namespace omnirm::cli {

namespace {

namespace fs = std::filesystem;

// tag -> step -> value.
using RunScalars = std::map<std::string, std::map<int64_t, double>>;

std::string plot_family(const std::string& tag) {
  std::string name = tag;
  for (const char* split : {"eval/", "train/"}) {
    if (name.starts_with(split) && name.size() > std::string(split).size()) {
      name = name.substr(std::string(split).size());
    }
  }
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos && slash > 0) return name.substr(0, slash);
  if (name.starts_with("reward_")) return "reward";
  return name;
}

// "accuracy/task" -> "accuracy_task.png"; characters unsafe in file names become '_'.
std::string file_name_for(const std::string& family) {
  std::string name = family;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  }
  return name + ".png";
}

// The directory holding the run's event files: RUN_DIR/tb, else RUN_DIR.
std::vector<std::string> run_event_files(const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) {
    throw UserError(run_dir + ": not a directory; give a training run's train.output_dir");
  }
  std::vector<std::string> files = io::event_files_in((fs::path(run_dir) / "tb").string());
  if (files.empty()) files = io::event_files_in(run_dir);
  if (files.empty()) {
    throw UserError(run_dir + ": no TensorBoard event files in " +
                    (fs::path(run_dir) / "tb").string() +
                    "; was the run trained with train.tensorboard: false?");
  }
  return files;
}

// Every scalar of the files. Files are taken in the order they were started (their first
// event's wall time); a SessionLog START at step s (a resumed run) drops the values read so
// far for steps >= s, as TensorBoard does, and a repeated step replaces the earlier value.
RunScalars read_run_scalars(const std::vector<std::string>& files) {
  std::vector<std::pair<double, io::EventFileContents>> read;
  for (const std::string& file : files) {
    io::EventFileContents contents = io::read_event_file(file, io::TailPolicy::keep_complete);
    if (!contents.truncated_tail.empty()) {
      fmt::print(stderr, "omnirm: warning: {}; plotting the records before it\n",
                 contents.truncated_tail);
    }
    const double started = contents.events.empty() ? 0.0 : contents.events.front().wall_time;
    read.emplace_back(started, std::move(contents));
  }
  std::stable_sort(read.begin(), read.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  RunScalars scalars;
  for (const auto& [started, contents] : read) {
    for (const io::TbEvent& event : contents.events) {
      if (event.session_start) {
        for (auto& [tag, by_step] : scalars)
          by_step.erase(by_step.lower_bound(event.step), by_step.end());
      }
      for (const io::ScalarValue& scalar : event.scalars) {
        scalars[scalar.tag][event.step] = scalar.value;
      }
    }
  }
  return scalars;
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "plot", "Draw a run's training and evaluation curves as PNG (one chart per metric family)");
  struct Options {
    std::string run_dir, out;
  };
  auto o = std::make_shared<Options>();
  command->add_option("RUN_DIR", o->run_dir, "Training output directory (train.output_dir)")
      ->required();
  command->add_option("-o,--out", o->out, "Directory for the PNG files (default: RUN_DIR/plots)");
  command->callback([o] {
    const RunScalars scalars = read_run_scalars(run_event_files(o->run_dir));
    if (scalars.empty()) throw UserError(o->run_dir + ": the event files hold no scalars yet");
    std::map<std::string, std::vector<eval::LineSeries>> families;
    for (const auto& [tag, by_step] : scalars) {
      std::vector<eval::LineSeries>& family = families[plot_family(tag)];
      eval::LineSeries series{tag, {}, {}, eval::line_plot_colour(family.size())};
      for (const auto& [step, value] : by_step) {
        series.steps.push_back(double(step));
        series.values.push_back(value);
      }
      family.push_back(std::move(series));
    }
    const std::string out = o->out.empty() ? (fs::path(o->run_dir) / "plots").string() : o->out;
    std::error_code error;
    fs::create_directories(out, error);
    if (error) throw UserError("cannot create " + out + ": " + error.message());
    for (const auto& [family, series] : families) {
      const std::string path = (fs::path(out) / file_name_for(family)).string();
      eval::draw_line_plot(family, series).save_png(path);
      fmt::print("wrote {} ({} series)\n", path, series.size());
    }
    fmt::print("{} plots in {}\n", families.size(), out);
  });
}

}  // namespace omnirm::cli
