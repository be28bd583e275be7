// Implementation of eval/coverage.h.
#include "omnirm/eval/coverage.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace omnirm::eval {
namespace {

// A Markdown table cell: no line breaks, pipes escaped.
std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

}  // namespace

UnscoredEntry unreadable_record(const std::string& problem) {
  UnscoredEntry entry;
  const size_t colon = problem.find(": ");
  entry.origin = colon == std::string::npos ? "" : problem.substr(0, colon);
  entry.reason = colon == std::string::npos ? problem : problem.substr(colon + 2);
  return entry;
}

std::string coverage_line(const Coverage& c) {
  if (c.scored == c.items) return fmt::format("scored all {} items", c.items);
  return fmt::format("scored {} of {} items; {} not scored, listed in report.json", c.scored,
                     c.items, c.items - c.scored);
}

std::string add_coverage_json(const std::string& report_json, const Coverage& c) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(report_json);
  json["items"] = c.items;
  json["scored"] = c.scored;
  nlohmann::ordered_json unscored = nlohmann::ordered_json::array();
  for (const UnscoredEntry& e : c.unscored) {
    unscored.push_back(
        {{"id", e.id}, {"task", e.task}, {"origin", e.origin}, {"reason", e.reason}});
  }
  json["unscored"] = std::move(unscored);
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string coverage_markdown(const Coverage& c) {
  std::string out = fmt::format(
      "\nScored {} of {} items; the accuracies are over the scored items.\n", c.scored, c.items);
  if (c.unscored.empty()) return out;
  out += "\n| not scored | task | where | why |\n|---|---|---|---|\n";
  for (const UnscoredEntry& e : c.unscored) {
    out += fmt::format("| {} | {} | {} | {} |\n", cell(e.id), cell(e.task), cell(e.origin),
                       cell(e.reason));
  }
  return out;
}

}  // namespace omnirm::eval
