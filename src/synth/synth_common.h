// Shared by the media-task generators: splits, keyed random streams, held-out combination
// grids, the pool that writes each media file once, and the loop that turns content and
// criteria draws into numbered pair records (criteria_flip twins included).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/data/example.h"
#include "omnirm/data/synth_random.h"
#include "omnirm/media/media_write.h"

namespace omnirm::synth::detail {

using data::SynthRandom;

enum class Split { train = 0, eval = 1 };

const char* split_name(Split split);

// A background colour as `split` paints it: eval backgrounds are 3 levels darker, too little
// to see or to matter, enough that no eval picture is byte-identical to a training one.
media::Rgb split_background(media::Rgb colour, Split split);

// A stream that depends only on `seed` and `key`: the parameters of one media file, so a
// file's bytes do not depend on which pair asked for it first.
SynthRandom keyed_random(uint64_t seed, std::initializer_list<uint64_t> key);

// An opaque file stem (16 hex digits) for the media file with content `key`: names never
// give away what a file shows.
std::string media_stem(std::initializer_list<uint64_t> key);

// A uniform double in [low, high) drawn with integer arithmetic only.
double uniform(SynthRandom& random, double low, double high);

// rows x cols content combinations. With `hold_out`, eval holds (r, (offset + r * step) % cols)
// for every row, with offset drawn from `seed` and `world` (`step` keeps the held-out columns
// distinct), and train the others; without, both splits draw from every combination.
class ComboGrid {
 public:
  ComboGrid(int rows, int cols, int step, uint64_t seed, uint64_t world, bool hold_out);
  // Whether (row, col) belongs to eval only.
  bool is_eval(int row, int col) const;
  bool in_split(int row, int col, Split split) const {
    return !hold_out_ || is_eval(row, col) == (split == Split::eval);
  }
  // All combinations of `split` as (row, col), row-major.
  std::vector<std::pair<int, int>> combos(Split split) const;
  int rows() const { return rows_; }
  int cols() const { return cols_; }

 private:
  int rows_;
  int cols_;
  int step_;
  int offset_;
  bool hold_out_;
};

// Writes each media file the first time a pair asks for it. Paths are relative to out_dir.
class MediaPool {
 public:
  explicit MediaPool(std::string out_dir) : out_dir_(std::move(out_dir)) {}

  // Returns `relative_path` after `write(absolute_path)` has written it (once per path).
  std::string file(const std::string& relative_path,
                   const std::function<void(const std::string&)>& write);
  int64_t files_written() const { return static_cast<int64_t>(written_.size()); }

 private:
  std::string out_dir_;
  std::set<std::string> written_;
  std::set<std::string> directories_;
};

// The shared part of a criteria pair: one prompt, two correct responses that differ in one
// attribute, and criteria preferring each of them.
struct CriteriaDraw {
  std::vector<data::Turn> prompt;
  std::vector<data::ContentPart> responses[2];
  std::string criteria[2];  // criteria[i] prefers responses[i]
  std::string attribute;    // tag naming the attribute, e.g. "size"
};

// One task of one split: draws content pairs (prompt, chosen, rejected and criteria set) and
// criteria draws from its own random stream.
class TaskGenerator {
 public:
  virtual ~TaskGenerator() = default;
  virtual data::Example content_pair(Split split, SynthRandom& random) = 0;
  virtual CriteriaDraw criteria_pair(Split split, SynthRandom& random) = 0;
};

// `count` records of `task` for `split`: a draw is a criteria draw with probability 2/5,
// which becomes a criteria_flip twin with probability 1/2 (when two records still fit), so
// about half of the records are criteria pairs and a third carry criteria_flip. Ids are
// "<task>-<split>-NNNNNN".
std::vector<data::Example> generate_pairs(TaskGenerator& generator, const std::string& task,
                                          Split split, int64_t count, SynthRandom& random);

// Record pieces.
data::ContentPart text_part(std::string text);
data::ContentPart media_part(std::string type, std::string path);
data::Turn user_turn(std::vector<data::ContentPart> content);

// Picks one entry of `items` (non-empty).
template <typename T>
const T& pick_one(SynthRandom& random, const std::vector<T>& items) {
  return items[random.below(items.size())];
}

// Replaces every "{name}" in `pattern` by its value; a missing name is a bug (logic_error).
std::string fill(std::string_view pattern,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> slots);

std::string capitalize(std::string text);

}  // namespace omnirm::synth::detail
