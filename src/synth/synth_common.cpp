// Splits, keyed streams, combination grids, the media pool and the pair loop (see
// synth_common.h).
#include "synth_common.h"

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "omnirm/core/error.h"
#include "omnirm/data/synth_template.h"

namespace omnirm::synth::detail {
namespace {

constexpr uint64_t kCriteriaNumerator = 2;
constexpr uint64_t kCriteriaDenominator = 5;
constexpr uint64_t kTwinNumerator = 1;
constexpr uint64_t kTwinDenominator = 2;

// Streams of SynthRandom::stream at or above this number are the keyed media streams and the
// grid layouts; data::synthesize uses the small numbers.
constexpr uint64_t kKeyedStreamBase = 1ULL << 40;

data::Example criteria_example(const CriteriaDraw& draw, int wanted, bool twin) {
  data::Example example;
  example.criteria = draw.criteria[wanted];
  example.prompt = draw.prompt;
  example.chosen = draw.responses[wanted];
  example.rejected = draw.responses[1 - wanted];
  example.tags = {"criteria", draw.attribute};
  if (twin) example.tags.push_back("criteria_flip");
  return example;
}

}  // namespace

const char* split_name(Split split) { return split == Split::train ? "train" : "eval"; }

media::Rgb split_background(media::Rgb colour, Split split) {
  if (split == Split::train) return colour;
  auto darker = [](uint8_t v) { return static_cast<uint8_t>(v >= 3 ? v - 3 : 0); };
  return media::Rgb{darker(colour.r), darker(colour.g), darker(colour.b)};
}

SynthRandom keyed_random(uint64_t seed, std::initializer_list<uint64_t> key) {
  uint64_t mixed = 0x6A09E667F3BCC909ULL;
  for (const uint64_t part : key) {
    SynthRandom step(mixed ^ (part * 0x9E3779B97F4A7C15ULL));
    mixed = step.next();
  }
  return SynthRandom::stream(seed, kKeyedStreamBase + (mixed >> 24));
}

std::string media_stem(std::initializer_list<uint64_t> key) {
  SynthRandom hash = keyed_random(0x5EED, key);
  char stem[17];
  std::snprintf(stem, sizeof(stem), "%016llx", static_cast<unsigned long long>(hash.next()));
  return stem;
}

double uniform(SynthRandom& random, double low, double high) {
  constexpr uint64_t kSteps = 1 << 20;
  return low + (high - low) * static_cast<double>(random.below(kSteps)) / kSteps;
}

ComboGrid::ComboGrid(int rows, int cols, int step, uint64_t seed, uint64_t world, bool hold_out)
    : rows_(rows), cols_(cols), step_(step), hold_out_(hold_out) {
  SynthRandom layout = keyed_random(seed, {0xC0B0, world});
  offset_ = static_cast<int>(layout.below(static_cast<uint64_t>(cols)));
}

bool ComboGrid::is_eval(int row, int col) const {
  return hold_out_ && col == (offset_ + row * step_) % cols_;
}

std::vector<std::pair<int, int>> ComboGrid::combos(Split split) const {
  std::vector<std::pair<int, int>> out;
  for (int row = 0; row < rows_; ++row) {
    for (int col = 0; col < cols_; ++col) {
      if (in_split(row, col, split)) out.emplace_back(row, col);
    }
  }
  return out;
}

std::string MediaPool::file(const std::string& relative_path,
                            const std::function<void(const std::string&)>& write) {
  if (written_.count(relative_path) != 0) return relative_path;
  const std::filesystem::path absolute = std::filesystem::path(out_dir_) / relative_path;
  const std::string directory = absolute.parent_path().string();
  if (directories_.insert(directory).second) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
      throw UserError("cannot create media directory '" + directory + "': " + error.message() +
                      "; choose a writable output directory");
    }
  }
  write(absolute.string());
  written_.insert(relative_path);
  return relative_path;
}

std::vector<data::Example> generate_pairs(TaskGenerator& generator, const std::string& task,
                                          Split split, int64_t count, SynthRandom& random) {
  std::vector<data::Example> records;
  records.reserve(static_cast<size_t>(count));
  while (static_cast<int64_t>(records.size()) < count) {
    if (!random.chance(kCriteriaNumerator, kCriteriaDenominator)) {
      data::Example example = generator.content_pair(split, random);
      example.tags = {"content"};
      records.push_back(std::move(example));
      continue;
    }
    const CriteriaDraw draw = generator.criteria_pair(split, random);
    const bool room_for_twin = count - static_cast<int64_t>(records.size()) >= 2;
    const bool twin = room_for_twin && random.chance(kTwinNumerator, kTwinDenominator);
    const int wanted = static_cast<int>(random.below(2));
    records.push_back(criteria_example(draw, wanted, twin));
    if (twin) records.push_back(criteria_example(draw, 1 - wanted, twin));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof(number), "%06lld", static_cast<long long>(i + 1));
    records[i].id = task + "-" + split_name(split) + "-" + number;
    records[i].task = task;
  }
  return records;
}

data::ContentPart text_part(std::string text) {
  return data::ContentPart{"text", std::move(text), ""};
}

data::ContentPart media_part(std::string type, std::string path) {
  return data::ContentPart{std::move(type), "", std::move(path)};
}

data::Turn user_turn(std::vector<data::ContentPart> content) {
  return data::Turn{"user", std::move(content)};
}

std::string fill(std::string_view pattern,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> slots) {
  return data::fill_template(pattern, slots);
}

std::string capitalize(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = char(text[0] - 'a' + 'A');
  return text;
}

}  // namespace omnirm::synth::detail
