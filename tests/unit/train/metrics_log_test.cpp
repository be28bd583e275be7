// MetricsLog: each record is one JSON line and, when an event directory is given, one
// TensorBoard event at the record's step holding its other numeric fields under their keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "omnirm/io/event_file.h"
#include "omnirm/train/progress.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::make_temp_dir;
using omnirm::testing::read_file;

const nlohmann::json kTrain = {
    {"step", 10},   {"epoch", 0},        {"loss", 0.693},         {"accuracy", 0.625},
    {"lr", 2.5e-4}, {"grad_norm", 1.75}, {"tokens_per_s", 5.0e4}, {"note", "text is left out"}};
const nlohmann::json kEval = {{"step", 20}, {"eval/accuracy", 0.8125}, {"eval/pairs", 32}};

TEST(MetricsLog, EveryNumericFieldGoesToTheEventFileUnderItsKey) {
  const std::string dir = make_temp_dir("metrics");
  {
    omnirm::train::MetricsLog log(dir + "/metrics.jsonl", dir + "/tb");
    log.write(kTrain);
    log.write(kEval);
  }
  std::istringstream lines(read_file(dir + "/metrics.jsonl"));
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line)) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], kTrain);

  const std::vector<std::string> files = omnirm::io::event_files_in(dir + "/tb");
  ASSERT_EQ(files.size(), 1u);
  const auto contents = omnirm::io::read_event_file(files[0]);
  ASSERT_EQ(contents.events.size(), 3u);  // file_version, then one event per record
  EXPECT_EQ(contents.events[0].file_version, "brain.Event:2");
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& event = contents.events[i + 1];
    const nlohmann::json& record = records[i];
    EXPECT_EQ(event.step, record["step"].get<int64_t>());
    size_t numeric = 0;
    for (const auto& [key, value] : record.items()) {
      if (key == "step" || !value.is_number()) continue;
      ++numeric;
      const auto found = std::find_if(event.scalars.begin(), event.scalars.end(),
                                      [&](const auto& s) { return s.tag == key; });
      ASSERT_NE(found, event.scalars.end()) << key;
      EXPECT_EQ(found->value, static_cast<float>(value.get<double>())) << key;
    }
    EXPECT_EQ(event.scalars.size(), numeric);
  }
  EXPECT_EQ(contents.events[1].scalars.size(), 6u);  // "note" and "step" are not scalars
}

TEST(MetricsLog, NoEventDirectoryNoEventFile) {
  const std::string dir = make_temp_dir("metrics");
  omnirm::train::MetricsLog log(dir + "/metrics.jsonl");
  log.write(kTrain);
  EXPECT_FALSE(fs::exists(dir + "/tb"));
  EXPECT_TRUE(fs::exists(dir + "/metrics.jsonl"));
}

}  // namespace
