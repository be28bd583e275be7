// Implementation of data/benchmark.h: finding the benchmark's files, then convert_each over
// each of them with the format's media directory.
#include "omnirm/data/benchmark.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "omnirm/core/error.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOmniTasks[] = {"t2t", "ti2t", "tv2t", "ta2t", "t2i",
                                      "t2v", "t2a",  "t23d", "ti2i"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_data_file(const fs::path& path) {
  const std::string extension = lower(path.extension().string());
  return extension == ".json" || extension == ".jsonl";
}

size_t task_rank(const std::string& task) {
  for (size_t i = 0; i < std::size(kOmniTasks); ++i) {
    if (task == kOmniTasks[i]) return i;
  }
  return std::size(kOmniTasks);
}

// The per-task files of an Omni-RewardBench directory, in the benchmark's task order.
std::vector<std::string> omni_task_files(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw UserError("--data: '" + dir +
                    "' is not a directory; give the Omni-RewardBench directory holding the "
                    "per-task files (t2t.json, ...) and media_data/");
  }
  std::vector<std::pair<std::string, std::string>> found;  // task, path
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || !is_data_file(entry.path())) continue;
    const std::string task = task_from_file_name(entry.path().string());
    if (task.empty()) continue;
    for (const auto& [other_task, other_path] : found) {
      if (other_task == task) {
        throw UserError("--data: both '" + other_path + "' and '" + entry.path().string() +
                        "' hold task " + task + "; keep one file per task");
      }
    }
    found.emplace_back(task, entry.path().string());
  }
  if (found.empty()) {
    throw UserError("--data: '" + dir +
                    "' holds no task file; expected names such as t2t.json or TI2I.jsonl");
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return task_rank(a.first) < task_rank(b.first); });
  std::vector<std::string> files;
  for (const auto& [task, path] : found) files.push_back(path);
  return files;
}

// A single-file benchmark: the file itself, or the one data file in a directory
// (all_data.json first, Multimodal RewardBench's name).
std::string single_file(const std::string& path, SourceFormat format) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) return path;
  if (!fs::is_directory(path, error)) {
    throw UserError("--data: '" + path + "' does not exist; give the " +
                    source_format_name(format) + " file (JSON array or JSONL)");
  }
  if (fs::is_regular_file(fs::path(path) / "all_data.json")) {
    return (fs::path(path) / "all_data.json").string();
  }
  std::vector<std::string> candidates;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && is_data_file(entry.path())) {
      candidates.push_back(entry.path().string());
    }
  }
  if (candidates.size() != 1) {
    throw UserError("--data: '" + path + "' holds " + std::to_string(candidates.size()) +
                    " .json/.jsonl files; give the " + source_format_name(format) + " file itself");
  }
  return candidates.front();
}

}  // namespace

SourceFormat parse_benchmark_format(const std::string& name, const std::string& option) {
  const SourceFormat format = parse_source_format(name, option);
  if (format == SourceFormat::llamafactory || format == SourceFormat::trl) {
    throw UserError(option + ": '" + name +
                    "' is a training layout, not a benchmark; use omni-rewardbench, "
                    "vl-rewardbench, multimodal-rewardbench or rewardbench");
  }
  return format;
}

BenchmarkData read_benchmark(SourceFormat format, const std::string& path, OnBadRecord policy,
                             const std::string& hint) {
  BenchmarkData data;
  data.format = format;
  if (format == SourceFormat::omni_rewardbench) {
    data.root = path;
    data.files = omni_task_files(path);
  } else {
    const std::string file = single_file(path, format);
    data.root = fs::path(file).parent_path().string();
    data.files = {file};
  }
  for (const std::string& file : data.files) {
    ConvertOptions options;
    options.format = format;
    options.input = file;
    options.root = data.root;
    options.media_dir = format == SourceFormat::omni_rewardbench ? "media_data" : "";
    options.on_bad_record = policy;
    options.use = RecordUse::scoring;
    options.bad_record_hint = hint;
    const ConvertSummary summary = convert_each(
        options, [&](Example&& example) { data.examples.push_back(std::move(example)); });
    data.summary.records += summary.records;
    data.summary.written += summary.written;
    data.summary.skipped += summary.skipped;
    for (const auto& [task, count] : summary.per_task) data.summary.per_task[task] += count;
    for (const std::string& problem : summary.problems) {
      if (data.summary.problems.size() < 100) data.summary.problems.push_back(problem);
    }
  }
  return data;
}

}  // namespace omnirm::data
