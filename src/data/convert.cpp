// convert_file and its helpers: reading a JSON array (simdjson, one element at a time) or a
// JSONL file (one line at a time), converting each record, checking the output with
// parse_pair_record, and writing the canonical JSONL beside the output before renaming it.
#include "omnirm/data/convert.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include "convert_support.h"
#include "line_reader.h"
#include "omnirm/core/error.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;
using convert_detail::Json;

constexpr size_t kMaxProblems = 100;

constexpr SourceFormat kFormats[] = {
    SourceFormat::llamafactory,   SourceFormat::omni_rewardbench,       SourceFormat::trl,
    SourceFormat::vl_rewardbench, SourceFormat::multimodal_rewardbench, SourceFormat::rewardbench};

// Short task names and the long names of the benchmark's files.
constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kTaskNames = {{
    {"t2t", "t2t"},
    {"ti2t", "ti2t"},
    {"tv2t", "tv2t"},
    {"ta2t", "ta2t"},
    {"t2i", "t2i"},
    {"t2v", "t2v"},
    {"t2a", "t2a"},
    {"t23d", "t23d"},
    {"ti2i", "ti2i"},
    {"text_image_to_image", "ti2i"},
    {"text_image_to_text", "ti2t"},
    {"text_video_to_text", "tv2t"},
    {"text_audio_to_text", "ta2t"},
    {"text_to_image", "t2i"},
    {"text_to_video", "t2v"},
    {"text_to_audio", "t2a"},
    {"text_to_text", "t2t"},
    {"text_to_3d", "t23d"},
}};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

// Calls visit(origin, number, json_text) for every record; `number` is the line (JSONL) or
// the 0-based index (JSON array).
using RecordVisitor =
    std::function<void(const std::string& origin, int64_t number, std::string_view json)>;

bool is_json_array_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  bool first = true;
  while (in.get(c)) {
    if (first && c == '\xEF') {  // a UTF-8 byte order mark
      in.ignore(2);
      first = false;
      continue;
    }
    first = false;
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '[';
  }
  return false;
}

// The line on which each top-level element of the JSON array in `text` starts (1-based).
// Strings are skipped with their escapes, so brackets inside them do not count.
std::vector<int64_t> array_element_lines(std::string_view text) {
  std::vector<int64_t> lines;
  int64_t line = 1;
  int depth = 0;
  bool in_string = false;
  bool expecting_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;  // an escaped character; never a newline in valid JSON
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (depth == 1 && expecting_element && c != ']') {
      lines.push_back(line);
      expecting_element = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      if (depth == 1) expecting_element = true;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expecting_element = true;
    }
  }
  return lines;
}

void for_each_array_record(const std::string& path, const RecordVisitor& visit) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) {
    throw UserError("cannot read '" + path + "'; check the path and its permissions");
  }
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  const simdjson::error_code error = parser.parse(text).get_array().get(array);
  if (error != simdjson::SUCCESS) {
    throw UserError(path + ": not a valid JSON array (" + simdjson::error_message(error) +
                    "); fix the file or convert it to JSONL");
  }
  const std::vector<int64_t> lines = array_element_lines(std::string_view(text));
  size_t index = 0;
  for (simdjson::dom::element element : array) {
    const std::string record = simdjson::to_string(element);
    const int64_t line = index < lines.size() ? lines[index] : 0;
    visit(path + ":" + std::to_string(line), static_cast<int64_t>(index), record);
    ++index;
  }
}

void for_each_line_record(const std::string& path, const RecordVisitor& visit) {
  LineReader reader(path);
  TextLine line;
  while (reader.next(line)) {
    if (is_blank(line.text)) continue;
    visit(path + ":" + std::to_string(line.number), line.number, line.text);
  }
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace

SourceFormat parse_source_format(const std::string& name, const std::string& option) {
  for (const SourceFormat format : kFormats) {
    if (name == source_format_name(format)) return format;
  }
  throw UserError(option + ": '" + name +
                  "' is not a known format; use llamafactory, omni-rewardbench, trl, "
                  "vl-rewardbench, multimodal-rewardbench or rewardbench");
}

std::string source_format_name(SourceFormat format) {
  switch (format) {
    case SourceFormat::llamafactory:
      return "llamafactory";
    case SourceFormat::omni_rewardbench:
      return "omni-rewardbench";
    case SourceFormat::trl:
      return "trl";
    case SourceFormat::vl_rewardbench:
      return "vl-rewardbench";
    case SourceFormat::multimodal_rewardbench:
      return "multimodal-rewardbench";
    case SourceFormat::rewardbench:
      return "rewardbench";
  }
  return "";
}

std::string normalize_task_name(const std::string& name) {
  const std::string wanted = lower(name);
  for (const auto& [spelling, task] : kTaskNames) {
    if (wanted == spelling) return std::string(task);
  }
  return "";
}

std::string task_from_file_name(const std::string& path) {
  const std::string stem = lower(stem_of(path));
  // A long name anywhere in the stem ("text_to_image_preferences").
  for (const auto& [spelling, task] : kTaskNames) {
    if (spelling.size() > 4 && stem.find(spelling) != std::string::npos) return std::string(task);
  }
  // Or a short name as one of the stem's words ("T2I_test", "t2i").
  size_t start = 0;
  while (start <= stem.size()) {
    size_t end = stem.find_first_of("_-. ", start);
    if (end == std::string::npos) end = stem.size();
    const std::string task = normalize_task_name(stem.substr(start, end - start));
    if (!task.empty()) return task;
    start = end + 1;
  }
  return "";
}

Example convert_record(SourceFormat format, std::string_view json, const ConvertContext& context) {
  Json record;
  try {
    record = Json::parse(json.begin(), json.end());
  } catch (const Json::exception& error) {  // parse_error, or out_of_range for huge numbers
    std::string what = error.what();
    const size_t detail = what.find("] ");
    throw UserError(context.origin + ": record: malformed JSON (" +
                    (detail == std::string::npos ? what : what.substr(detail + 2)) + ")");
  }
  switch (format) {
    case SourceFormat::llamafactory:
      return convert_detail::convert_llamafactory(record, context);
    case SourceFormat::omni_rewardbench:
      return convert_detail::convert_rewardbench(record, context);
    case SourceFormat::trl:
      return convert_detail::convert_trl(record, context);
    case SourceFormat::vl_rewardbench:
      return convert_detail::convert_vl_rewardbench(record, context);
    case SourceFormat::multimodal_rewardbench:
      return convert_detail::convert_multimodal_rewardbench(record, context);
    case SourceFormat::rewardbench:
      return convert_detail::convert_text_rewardbench(record, context);
  }
  throw UserError(context.origin + ": unknown source format");
}

ConvertSummary convert_each(const ConvertOptions& options,
                            const std::function<void(Example&& example)>& sink) {
  std::error_code error;
  if (!fs::is_regular_file(options.input, error)) {
    throw UserError("--in: '" + options.input + "' is not a file; check the path");
  }
  std::string task;
  if (!options.task.empty()) {
    task = normalize_task_name(options.task);
    if (task.empty()) {
      throw UserError("--task: '" + options.task +
                      "' is not a task; use t2t, ti2t, tv2t, ta2t, t2i, t2v, t2a, t23d or ti2i");
    }
  } else if (options.format == SourceFormat::omni_rewardbench) {
    task = task_from_file_name(options.input);
    if (task.empty()) {
      throw UserError("--in: the file name '" + fs::path(options.input).filename().string() +
                      "' names no task (e.g. t2i.json, T2I_test.jsonl); pass --task");
    }
  }

  ConvertContext context;
  context.task = task;
  context.root =
      options.root.empty() ? fs::path(options.input).parent_path().string() : options.root;
  context.media_dir = options.format == SourceFormat::omni_rewardbench ? options.media_dir : "";
  const std::string stem = stem_of(options.input);

  ConvertSummary summary;
  PairRecordParser checker(options.use);
  const RecordVisitor visit = [&](const std::string& origin, int64_t number,
                                  std::string_view json) {
    ++summary.records;
    context.origin = origin;
    context.default_id = stem + "-" + std::to_string(number);
    Example checked;
    try {
      const Example example = convert_record(options.format, json, context);
      // The canonical rules (non-empty, different responses, ...) through the reader itself.
      checked = checker.parse(to_json_line(example), origin);
    } catch (const UserError& problem) {
      if (options.on_bad_record == OnBadRecord::error) {
        throw UserError(std::string(problem.what()) + "; " + options.bad_record_hint);
      }
      ++summary.skipped;
      if (summary.problems.size() < kMaxProblems) summary.problems.emplace_back(problem.what());
      return;
    }
    ++summary.written;
    ++summary.per_task[checked.task];
    sink(std::move(checked));
  };
  if (is_json_array_file(options.input)) {
    for_each_array_record(options.input, visit);
  } else {
    for_each_line_record(options.input, visit);
  }
  return summary;
}

ConvertSummary convert_file(const ConvertOptions& options) {
  std::error_code error;
  if (!fs::is_regular_file(options.input, error)) {
    throw UserError("--in: '" + options.input + "' is not a file; check the path");
  }
  if (options.output.empty()) throw UserError("--out: give the output .jsonl path");
  if (fs::exists(options.output, error) && fs::equivalent(options.input, options.output, error)) {
    throw UserError("--out: '" + options.output + "' is the input file; write somewhere else");
  }
  const fs::path output(options.output);
  if (output.has_parent_path()) fs::create_directories(output.parent_path());
  const std::string temporary = options.output + ".partial";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError("--out: cannot write '" + temporary + "'; check the directory");
  ConvertSummary summary;
  try {
    summary =
        convert_each(options, [&](Example&& example) { out << to_json_line(example) << '\n'; });
    out.close();
    if (!out) throw UserError("--out: writing '" + temporary + "' failed; check the disk");
  } catch (...) {
    out.close();
    fs::remove(temporary, error);
    throw;
  }
  fs::rename(temporary, options.output);
  return summary;
}

}  // namespace omnirm::data
