// Implementation of data/validate.h: LineReader + PairRecordParser, then a filesystem check
// of each media part against the root (weakly_canonical, so symbolic links are followed).
#include "omnirm/data/validate.h"

#include <algorithm>
#include <filesystem>

#include "line_reader.h"
#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/loader.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

bool inside(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != "..";
}

class MediaChecker {
 public:
  MediaChecker(const fs::path& root, const std::string& origin, ValidateSummary& summary,
               const std::function<void(const std::string&)>& report)
      : root_(root), origin_(origin), summary_(summary), report_(report) {}

  // Returns the number of problems found in these parts.
  int64_t check(const std::vector<ContentPart>& parts, const std::string& field) {
    int64_t found = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].type == "text") continue;
      ++summary_.media_checked;
      const std::string where = origin_ + ": " + field + "[" + std::to_string(i) + "].path: ";
      std::error_code error;
      const fs::path resolved = fs::weakly_canonical(root_ / parts[i].path, error);
      if (error || !inside(resolved, root_)) {
        report_(where + parts[i].type + " '" + parts[i].path + "' resolves outside the root '" +
                root_.string() + "'; keep media inside the root (--root / data.root)");
        ++found;
      } else if (!fs::exists(resolved, error)) {
        report_(where + parts[i].type + " '" + parts[i].path + "' not found under '" +
                root_.string() + "'; fetch the media or fix the path");
        ++found;
      }
    }
    return found;
  }

 private:
  const fs::path& root_;
  const std::string& origin_;
  ValidateSummary& summary_;
  const std::function<void(const std::string&)>& report_;
};

}  // namespace

ValidateSummary validate_pairs_file(const std::string& path, const ValidateOptions& options,
                                    const std::function<void(const std::string&)>& report) {
  LineReader reader(path);
  std::error_code error;
  const fs::path root_text =
      options.root.empty() ? fs::path(path).parent_path() : fs::path(options.root);
  const fs::path root =
      fs::weakly_canonical(fs::absolute(root_text.empty() ? "." : root_text), error);
  if (options.check_media && (error || !fs::is_directory(root, error))) {
    throw UserError("media root '" + root_text.string() +
                    "' is not a directory; pass --root DIR or --no-media-check");
  }

  ValidateSummary summary;
  PairRecordParser parser;
  TextLine line;
  while (reader.next(line)) {
    if (is_blank(line.text)) continue;
    ++summary.records;
    const std::string origin = path + ":" + std::to_string(line.number);
    int64_t found = 0;
    try {
      const Example example = parser.parse(line.text, origin);
      if (options.check_media) {
        MediaChecker checker(root, origin, summary, report);
        for (size_t t = 0; t < example.prompt.size(); ++t) {
          found +=
              checker.check(example.prompt[t].content, "prompt[" + std::to_string(t) + "].content");
        }
        found += checker.check(example.chosen, "chosen.content");
        found += checker.check(example.rejected, "rejected.content");
      }
      if (options.encoder != nullptr && found == 0) {
        try {
          EncodeCounts counts;
          const std::optional<EncodedPair> pair =
              encode_pair(example, *options.encoder, counts, nullptr, root.string(), {});
          if (pair) {
            const text::PairTokens& t = pair->tokens;
            summary.max_tokens = std::max(
                summary.max_tokens,
                static_cast<int64_t>(t.prompt.size() + t.chosen.size() + t.rejected.size()));
          }
          ++summary.rendered;
        } catch (const UserError& problem) {
          report(origin + ": " + problem.what());
          found = 1;
        }
      }
    } catch (const UserError& problem) {
      report(problem.what());
      found = 1;
    }
    summary.problems += found;
    if (found > 0) ++summary.bad_records;
  }
  return summary;
}

}  // namespace omnirm::data
