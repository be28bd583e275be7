// TensorBoard event files from real training runs: they hold every metrics.jsonl scalar under
// its key (read back by omnirm's reader, and by TensorBoard's own through
// tools/check_tensorboard.py where the tensorboard package is installed), a resumed run marks
// its restart, and `omnirm plot` draws one PNG per metric family.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "omnirm/eval/line_plot.h"
#include "omnirm/io/event_file.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;

using Scalars = std::map<std::pair<std::string, int64_t>, double>;  // (tag, step) -> value

// The numeric fields of metrics.jsonl, as float32 (what event files store); a later record of
// a step replaces an earlier one.
Scalars metrics_scalars(const std::string& run) {
  std::istringstream lines(read_file(run + "/metrics.jsonl"));
  Scalars scalars;
  std::string line;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    for (const auto& [key, value] : record.items()) {
      if (key != "step" && value.is_number()) {
        scalars[{key, record["step"].get<int64_t>()}] = static_cast<float>(value.get<double>());
      }
    }
  }
  return scalars;
}

// The omnirm venv's Python, where tools/setup.sh puts it (OMNIRM_PYTHON overrides).
std::string venv_python() {
  if (const char* python = std::getenv("OMNIRM_PYTHON")) return python;
  if (const char* home = std::getenv("OMNIRM_HOME")) return std::string(home) + "/venv/bin/python";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.local/share/omnirm/venv/bin/python";
}

struct Png {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // rows of width * 3 bytes
};

uint32_t big_endian(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// Decodes the 8-bit RGB, unfiltered PNGs that eval/png_canvas writes.
Png decode_png(const std::string& path) {
  const std::string bytes = read_file(path);
  Png png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n")) << path;
  std::string idat;
  for (size_t at = 8; at + 8 <= bytes.size();) {
    const uint32_t length = big_endian(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (type == "IHDR") {
      png.width = big_endian(bytes, at + 8);
      png.height = big_endian(bytes, at + 12);
    }
    if (type == "IDAT") idat += bytes.substr(at + 8, length);
    at += 12 + length;
  }
  const size_t row = 1 + size_t(png.width) * 3;
  std::vector<uint8_t> raw(row * png.height);
  uLongf size = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()),
            Z_OK);
  EXPECT_EQ(size, raw.size());
  for (uint32_t y = 0; y < png.height; ++y) {
    EXPECT_EQ(raw[y * row], 0) << "filter type of row " << y;
    png.rgb.insert(png.rgb.end(), raw.begin() + y * row + 1, raw.begin() + (y + 1) * row);
  }
  return png;
}

size_t pixels_of(const Png& png, omnirm::eval::Rgb colour) {
  size_t n = 0;
  for (size_t i = 0; i + 2 < png.rgb.size(); i += 3) {
    n += png.rgb[i] == colour.r && png.rgb[i + 1] == colour.g && png.rgb[i + 2] == colour.b;
  }
  return n;
}

class TensorBoard : public ::testing::Test {
 protected:
  // Three runs of the tiny setup: straight (evaluating every 4 steps), killed after step 6
  // and resumed from its step-4 checkpoint, and one with train.tensorboard: false.
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("tensorboard"));
    ASSERT_EQ(make_tiny_run_dir(*dir_, TinyRun{}), "");
    const std::string train =
        omnirm_binary() + " train -c " + *dir_ + "/tiny.yaml --set train.eval_every=4 ";
    results_ = new std::map<std::string, CommandResult>;
    (*results_)["straight"] = run_command(train + "--set train.output_dir=" + run("straight"));
    (*results_)["killed"] = run_command("OMNIRM_FAULT_KILL_AT_STEP=6 " + train +
                                        "--set train.output_dir=" + run("resumed"));
    (*results_)["resumed"] =
        run_command(train + "--set train.output_dir=" + run("resumed") + " --resume auto");
    (*results_)["off"] = run_command(train +
                                     "--set train.max_steps=2 --set train.tensorboard=false "
                                     "--set train.output_dir=" +
                                     run("off"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete results_;
  }

  static std::string run(const std::string& name) { return *dir_ + "/runs/" + name; }
  static void expect_trained(const std::string& name) {
    ASSERT_EQ(results_->at(name).exit_code, 0) << results_->at(name).output;
  }

  static std::string* dir_;
  static std::map<std::string, CommandResult>* results_;
};
std::string* TensorBoard::dir_ = nullptr;
std::map<std::string, CommandResult>* TensorBoard::results_ = nullptr;

TEST_F(TensorBoard, TheEventFileHoldsEveryMetricUnderItsKey) {
  expect_trained("straight");
  const std::vector<std::string> files = omnirm::io::event_files_in(run("straight") + "/tb");
  ASSERT_EQ(files.size(), 1u);
  const auto contents = omnirm::io::read_event_file(files[0]);
  ASSERT_FALSE(contents.events.empty());
  EXPECT_EQ(contents.events[0].file_version, "brain.Event:2");
  Scalars events;
  for (const auto& event : contents.events) {
    EXPECT_FALSE(event.session_start);
    for (const auto& scalar : event.scalars) {
      EXPECT_TRUE(events.emplace(std::pair{scalar.tag, event.step}, scalar.value).second)
          << scalar.tag << " twice at step " << event.step;
    }
  }
  const Scalars metrics = metrics_scalars(run("straight"));
  EXPECT_EQ(events, metrics);
  for (const char* tag : {"loss", "accuracy", "lr", "grad_norm", "tokens_per_s", "eval/loss",
                          "eval/accuracy", "eval/margin", "eval/reward_chosen"}) {
    EXPECT_TRUE(events.count({tag, 8})) << tag;
  }
  EXPECT_TRUE(events.count({"loss", 1}));
  EXPECT_TRUE(events.count({"eval/accuracy", 4}));
  EXPECT_FALSE(events.count({"eval/accuracy", 3}));
}

TEST_F(TensorBoard, AResumedRunMarksItsRestart) {
  ASSERT_TRUE(results_->at("killed").signal == 9 || results_->at("killed").exit_code == 137)
      << results_->at("killed").output;
  expect_trained("resumed");
  const std::vector<std::string> files = omnirm::io::event_files_in(run("resumed") + "/tb");
  ASSERT_EQ(files.size(), 2u);
  // The newer file is the resumed process's: version, START at the first step after the
  // step-4 checkpoint, then steps 5 to 8.
  std::vector<omnirm::io::TbEvent> first = omnirm::io::read_event_file(files[0]).events;
  std::vector<omnirm::io::TbEvent> second = omnirm::io::read_event_file(files[1]).events;
  if (first[0].wall_time > second[0].wall_time) std::swap(first, second);
  EXPECT_EQ(first.back().step, 6);
  ASSERT_GE(second.size(), 3u);
  EXPECT_TRUE(second[1].session_start);
  EXPECT_EQ(second[1].step, 5);
  EXPECT_EQ(second[2].step, 5);
  EXPECT_EQ(second.back().step, 8);
}

TEST_F(TensorBoard, TensorBoardsOwnReaderAgreesWithMetricsJsonl) {
  expect_trained("straight");
  expect_trained("resumed");
  const std::string python = venv_python();
  if (::access(python.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "skipped: tensorboard not installed (no Python at " << python
                 << "; tools/setup.sh makes that venv)";
  }
  for (const char* name : {"straight", "resumed"}) {
    const CommandResult check = run_command(python + " " + omnirm::testing::source_dir() +
                                            "/tools/check_tensorboard.py " + run(name));
    if (check.exit_code == 77) GTEST_SKIP() << check.output;
    EXPECT_EQ(check.exit_code, 0) << name << "\n" << check.output;
    EXPECT_NE(check.output.find("ok: "), std::string::npos) << check.output;
  }
}

TEST_F(TensorBoard, PlotDrawsOnePngPerFamily) {
  expect_trained("straight");
  const CommandResult plot = run_command(omnirm_binary() + " plot " + run("straight"));
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  const std::string plots = run("straight") + "/plots";
  for (const char* family :
       {"loss", "accuracy", "lr", "grad_norm", "tokens_per_s", "margin", "reward", "epoch"}) {
    EXPECT_TRUE(fs::exists(plots + "/" + family + ".png")) << family << "\n" << plot.output;
  }
  // loss.png: "eval/loss" and "loss" on one chart, one legend row.
  const Png loss = decode_png(plots + "/loss.png");
  EXPECT_EQ(loss.width, uint32_t(omnirm::eval::kLinePlotWidth));
  EXPECT_EQ(loss.height, uint32_t(omnirm::eval::line_plot_height(1)));
  ASSERT_EQ(loss.rgb.size(), size_t(loss.width) * loss.height * 3);
  const size_t white = pixels_of(loss, {255, 255, 255});
  EXPECT_GT(loss.rgb.size() / 3 - white, 5000u);  // axes, labels and two curves
  EXPECT_GT(pixels_of(loss, omnirm::eval::line_plot_colour(0)), 150u);
  EXPECT_GT(pixels_of(loss, omnirm::eval::line_plot_colour(1)), 400u);
  EXPECT_NE(plot.output.find("loss.png (2 series)"), std::string::npos) << plot.output;
}

TEST_F(TensorBoard, PlotOfAResumedRunWritesWhereAsked) {
  expect_trained("resumed");
  const std::string out = *dir_ + "/resumed-plots";
  const CommandResult plot =
      run_command(omnirm_binary() + " plot " + run("resumed") + " --out " + out);
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  EXPECT_TRUE(fs::exists(out + "/loss.png"));
  EXPECT_FALSE(fs::exists(run("resumed") + "/plots"));
}

TEST_F(TensorBoard, SwitchedOffThereIsNoEventFileAndPlotSaysWhy) {
  expect_trained("off");
  EXPECT_TRUE(fs::exists(run("off") + "/metrics.jsonl"));
  EXPECT_FALSE(fs::exists(run("off") + "/tb"));
  const CommandResult plot = run_command(omnirm_binary() + " plot " + run("off"));
  EXPECT_EQ(plot.exit_code, 2) << plot.output;
  EXPECT_NE(plot.output.find("train.tensorboard"), std::string::npos) << plot.output;
  EXPECT_EQ(std::count(plot.output.begin(), plot.output.end(), '\n'), 1) << plot.output;
  const CommandResult missing = run_command(omnirm_binary() + " plot " + *dir_ + "/nowhere");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("not a directory"), std::string::npos) << missing.output;
}

}  // namespace
