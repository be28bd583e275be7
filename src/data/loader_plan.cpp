// Implementation of loader_plan.h. Dataset d contributes counts[d] entries per epoch, taken
// from its endless stream of passes (pass p: a permutation of its records seeded by
// (seed, d, p), or file order without shuffle); epoch e takes the stream's entries
// [e * counts[d], (e + 1) * counts[d]). The whole epoch is then shuffled by (seed, e), or,
// without shuffle, the datasets are interleaved in proportion to their counts.
#include "loader_plan.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace omnirm::data {
namespace {

enum PlanTag : uint64_t { kPassTag = 1, kEpochTag = 2 };

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The entries dataset `d` gives to epoch `epoch`, in its stream order.
void append_dataset_share(const PlanInputs& inputs, size_t d, int64_t epoch,
                          std::vector<uint64_t>& entries) {
  const int64_t size = inputs.sizes[d];
  const int64_t count = inputs.counts[d];
  if (size == 0 || count == 0) return;
  const int64_t first = epoch * count;
  std::vector<uint32_t> permutation;
  int64_t current_pass = -1;
  for (int64_t k = first; k < first + count; ++k) {
    const int64_t pass = k / size;
    const int64_t position = k % size;
    if (!inputs.shuffle) {
      entries.push_back(make_entry(d, static_cast<uint64_t>(position)));
      continue;
    }
    if (pass != current_pass) {
      permutation = seeded_permutation(
          static_cast<uint64_t>(size),
          PlanRandom(plan_seed(inputs.seed, kPassTag, d, static_cast<uint64_t>(pass))));
      current_pass = pass;
    }
    entries.push_back(make_entry(d, permutation[static_cast<size_t>(position)]));
  }
}

// Smooth proportional interleaving: each place goes to the dataset furthest behind its share.
std::vector<uint64_t> interleave(const std::vector<std::vector<uint64_t>>& shares) {
  size_t total = 0;
  for (const auto& share : shares) total += share.size();
  std::vector<uint64_t> entries;
  entries.reserve(total);
  std::vector<size_t> taken(shares.size(), 0);
  for (size_t place = 0; place < total; ++place) {
    size_t best = shares.size();
    double best_progress = 0.0;
    for (size_t d = 0; d < shares.size(); ++d) {
      if (taken[d] == shares[d].size()) continue;
      const double progress =
          (static_cast<double>(taken[d]) + 0.5) / static_cast<double>(shares[d].size());
      if (best == shares.size() || progress < best_progress) {
        best = d;
        best_progress = progress;
      }
    }
    entries.push_back(shares[best][taken[best]++]);
  }
  return entries;
}

}  // namespace

uint64_t PlanRandom::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  return mix(state_);
}

uint64_t PlanRandom::below(uint64_t bound) {
  // Lemire's multiply-shift with rejection of the biased low range.
  unsigned __int128 product = static_cast<unsigned __int128>(next()) * bound;
  auto low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(next()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

uint64_t plan_seed(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b) {
  return mix(mix(mix(seed ^ 0x6F6D6E69726D0000ull) ^ tag) + mix(a + 0x1234567ull) + b);
}

std::vector<uint32_t> seeded_permutation(uint64_t n, PlanRandom random) {
  if (n > UINT32_MAX) throw std::length_error("seeded_permutation: too many records");
  std::vector<uint32_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  for (uint64_t i = n; i > 1; --i) {
    const uint64_t j = random.below(i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

EpochPlan build_epoch_plan(const PlanInputs& inputs, int64_t epoch) {
  EpochPlan plan;
  plan.epoch = epoch;
  const size_t datasets = inputs.sizes.size();
  int64_t planned = 0;
  for (int64_t count : inputs.counts) planned += count;
  plan.entries.reserve(static_cast<size_t>(planned));
  if (inputs.shuffle) {
    for (size_t d = 0; d < datasets; ++d) append_dataset_share(inputs, d, epoch, plan.entries);
    PlanRandom random(plan_seed(inputs.seed, kEpochTag, static_cast<uint64_t>(epoch)));
    for (size_t i = plan.entries.size(); i > 1; --i) {
      std::swap(plan.entries[i - 1], plan.entries[random.below(i)]);
    }
  } else {
    std::vector<std::vector<uint64_t>> shares(datasets);
    for (size_t d = 0; d < datasets; ++d) append_dataset_share(inputs, d, epoch, shares[d]);
    plan.entries = interleave(shares);
  }

  const int64_t total = static_cast<int64_t>(plan.entries.size());
  const int64_t steps = (total + inputs.batch - 1) / inputs.batch;
  plan.consumed.assign(static_cast<size_t>((steps + 1) * static_cast<int64_t>(datasets)), 0);
  std::vector<int64_t> running(datasets, 0);
  for (int64_t step = 0; step <= steps; ++step) {
    for (size_t d = 0; d < datasets; ++d) {
      plan.consumed[static_cast<size_t>(step) * datasets + d] = running[d];
    }
    if (step == steps) break;
    const int64_t end = std::min(total, (step + 1) * inputs.batch);
    for (int64_t i = step * inputs.batch; i < end; ++i) {
      ++running[entry_dataset(plan.entries[static_cast<size_t>(i)])];
    }
  }
  return plan;
}

}  // namespace omnirm::data
