// Implementation of data/stats.h: one streaming pass; lengths are kept as int32 per record
// (16 bytes a pair) for exact percentiles.
#include "omnirm/data/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <set>

#include "line_reader.h"
#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/loader.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/data/token_cache.h"

namespace omnirm::data {
namespace {

constexpr size_t kMaxProblems = 20;

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

void add_types(const std::vector<ContentPart>& parts, std::set<std::string>& types) {
  for (const ContentPart& part : parts) types.insert(part.type);
}

std::string modality_side(const std::set<std::string>& types) {
  std::string label = "text";
  for (const std::string& type : types) {
    if (type != "text") label += "+" + type;
  }
  return label;
}

std::string modality_of(const Example& example) {
  std::set<std::string> prompt;
  for (const Turn& turn : example.prompt) add_types(turn.content, prompt);
  std::set<std::string> responses;
  add_types(example.chosen, responses);
  add_types(example.rejected, responses);
  // Responses that are only media read "image", not "text+image".
  std::string response_label = modality_side(responses);
  if (!responses.count("text"))
    response_label = response_label.substr(response_label.find('+') + 1);
  return modality_side(prompt) + " -> " + response_label;
}

std::string percentile_row(const std::string& name, const LengthPercentiles& p) {
  return fmt::format("  {:<9} {:>8} {:>8} {:>8} {:>8} {:>10.1f}\n", name, p.p50, p.p90, p.p99,
                     p.max, p.mean);
}

}  // namespace

LengthPercentiles percentiles(std::vector<int32_t>& values) {
  LengthPercentiles result;
  if (values.empty()) return result;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double p) {
    const auto index = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
    return static_cast<int64_t>(values[std::min(index, values.size() - 1)]);
  };
  result.p50 = rank(0.50);
  result.p90 = rank(0.90);
  result.p99 = rank(0.99);
  result.max = values.back();
  result.mean =
      std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return result;
}

DataStats compute_stats(const std::string& path, const text::Tokenizer* tokenizer,
                        const DataConfig& config, const StatsMedia& media) {
  DataStats stats;
  stats.path = path;
  stats.max_length = config.max_length;
  stats.truncation = config.truncation;
  const text::TruncationPolicy policy = text::parse_truncation_policy(config.truncation);

  // Lengths before truncation: an encoder with no effective limit.
  std::unique_ptr<PairEncoder> encoder;
  std::unique_ptr<TokenCache> cache;
  int64_t closing_tokens = 0;
  if (tokenizer != nullptr) {
    encoder = std::make_unique<PairEncoder>(*tokenizer, std::numeric_limits<int32_t>::max(),
                                            text::TruncationPolicy::truncate, media.layout);
    if (media.minicpmo) encoder->set_minicpmo_layout(*media.minicpmo);
    cache = std::make_unique<TokenCache>(*tokenizer);
    closing_tokens = encoder->closing_tokens();
    stats.has_lengths = true;
  }
  std::vector<int32_t> prompt, chosen, rejected, pair;

  LineReader reader(path);
  PairRecordParser parser;
  TextLine line;
  while (reader.next(line)) {
    if (is_blank(line.text)) continue;
    Example example;
    try {
      example = parser.parse(line.text, path + ":" + std::to_string(line.number));
    } catch (const UserError& problem) {
      ++stats.bad;
      if (stats.problems.size() < kMaxProblems) stats.problems.emplace_back(problem.what());
      continue;
    }
    // Media expanded (and, under MiniCPM-o, laid out from the files) before anything counts,
    // so a record whose media cannot be laid out is a bad record here as in training.
    std::optional<EncodedPair> encoded;
    if (encoder) {
      try {
        EncodeCounts counts;
        encoded = encode_pair(example, *encoder, counts, cache.get(), media.root, {});
      } catch (const UserError& problem) {
        ++stats.bad;
        if (stats.problems.size() < kMaxProblems) {
          stats.problems.emplace_back(example.origin + ": " + problem.what());
        }
        continue;
      }
    }
    ++stats.records;
    ++stats.per_task[example.task];
    ++stats.per_modality[modality_of(example)];
    if (example.preference == Preference::tie) ++stats.ties;
    if (example.margin != 0.0) ++stats.with_margin;
    if (!example.criteria.empty()) ++stats.with_criteria;
    if (!encoded) continue;

    text::PairTokens& tokens = encoded->tokens;
    prompt.push_back(static_cast<int32_t>(tokens.prompt.size()));
    chosen.push_back(static_cast<int32_t>(tokens.chosen.size()));
    rejected.push_back(static_cast<int32_t>(tokens.rejected.size()));
    pair.push_back(prompt.back() + chosen.back() + rejected.back());
    const int64_t media_before = media.layout ? placeholder_tokens(tokens, *media.layout) : 0;
    const text::FitOutcome outcome =
        text::fit_pair_to_length(tokens, config.max_length, policy, closing_tokens);
    // As the training encoder: a cut through media drops the pair.
    const bool media_cut = media.layout && outcome == text::FitOutcome::truncated &&
                           placeholder_tokens(tokens, *media.layout) != media_before;
    if (outcome == text::FitOutcome::dropped || media_cut) {
      ++stats.dropped;
    } else if (outcome == text::FitOutcome::truncated) {
      ++stats.truncated;
    }
  }
  stats.prompt = percentiles(prompt);
  stats.chosen = percentiles(chosen);
  stats.rejected = percentiles(rejected);
  stats.pair = percentiles(pair);
  return stats;
}

std::string format_stats(const DataStats& stats) {
  std::string out = fmt::format("{}: {} pairs", stats.path, stats.records);
  if (stats.bad > 0) out += fmt::format(" ({} bad records skipped)", stats.bad);
  out += fmt::format("; {} ties, {} with a margin, {} with criteria\n", stats.ties,
                     stats.with_margin, stats.with_criteria);
  out += "per task:\n";
  for (const auto& [task, count] : stats.per_task) {
    out += fmt::format("  {:<6} {:>9}\n", task, count);
  }
  out += "per modality:\n";
  for (const auto& [modality, count] : stats.per_modality) {
    out += fmt::format("  {:<28} {:>9}\n", modality, count);
  }
  if (!stats.has_lengths) {
    out += "token lengths: need a tokenizer (pass -c CONFIG with data.tokenizer)\n";
  } else {
    out += "tokens (before truncation):\n";
    out += fmt::format("  {:<9} {:>8} {:>8} {:>8} {:>8} {:>10}\n", "", "p50", "p90", "p99", "max",
                       "mean");
    out += percentile_row("prompt", stats.prompt);
    out += percentile_row("chosen", stats.chosen);
    out += percentile_row("rejected", stats.rejected);
    out += percentile_row("pair", stats.pair);
    out += fmt::format("under data.max_length {} ({}): {} pairs would be truncated, {} dropped\n",
                       stats.max_length, stats.truncation, stats.truncated, stats.dropped);
  }
  for (const std::string& problem : stats.problems) out += "bad record: " + problem + "\n";
  if (stats.bad > static_cast<int64_t>(stats.problems.size())) {
    out += fmt::format("... and {} more bad records (omnirm data validate lists them all)\n",
                       stats.bad - static_cast<int64_t>(stats.problems.size()));
  }
  return out;
}

}  // namespace omnirm::data
