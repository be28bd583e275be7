// The loader's epoch plans: which record of which dataset comes at each place of an epoch,
// a pure function of (seed, epoch, dataset sizes, per-epoch counts, shuffle). The random
// numbers come from splitmix64 with an unbiased bounded draw, so plans are the same with
// every compiler and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace omnirm::data {

// splitmix64: small, fast, and good enough to shuffle.
class PlanRandom {
 public:
  explicit PlanRandom(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t bound);  // uniform in [0, bound), bound > 0

 private:
  uint64_t state_;
};

// A seed for one purpose ("tag") and its arguments, well mixed.
uint64_t plan_seed(uint64_t seed, uint64_t tag, uint64_t a = 0, uint64_t b = 0);

// Fisher-Yates shuffle of [0, n) by `random`.
std::vector<uint32_t> seeded_permutation(uint64_t n, PlanRandom random);

// One plan entry: dataset index (top 16 bits) and position in its selection.
inline uint64_t make_entry(uint64_t dataset, uint64_t record) { return (dataset << 48) | record; }
inline uint32_t entry_dataset(uint64_t entry) { return static_cast<uint32_t>(entry >> 48); }
inline uint64_t entry_record(uint64_t entry) { return entry & ((uint64_t{1} << 48) - 1); }

struct PlanInputs {
  uint64_t seed = 0;
  bool shuffle = true;
  std::vector<int64_t> sizes;   // selected records per dataset
  std::vector<int64_t> counts;  // plan entries per dataset per epoch
  int64_t batch = 1;            // global batch, for the per-step consumed counts
};

struct EpochPlan {
  int64_t epoch = 0;
  std::vector<uint64_t> entries;
  // consumed[s * datasets + d]: entries of dataset d in the first s global batches.
  std::vector<int64_t> consumed;

  int64_t consumed_before(int64_t step, int64_t dataset, int64_t datasets) const {
    return consumed[static_cast<size_t>(step * datasets + dataset)];
  }
};

EpochPlan build_epoch_plan(const PlanInputs& inputs, int64_t epoch);

}  // namespace omnirm::data
