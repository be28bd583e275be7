// The pseudo-random source of the synthetic data generator: SplitMix64 plus integer-only
// draws, so one seed yields the same sequence on every machine and standard library
// (unlike std::uniform_*_distribution, whose algorithms are implementation-defined).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace omnirm::data {

class SynthRandom {
 public:
  explicit SynthRandom(uint64_t seed) : state_(seed) {}

  // An independent generator for the numbered stream `stream` of `seed`.
  static SynthRandom stream(uint64_t seed, uint64_t stream) {
    SynthRandom mixer(seed ^ (0xD1B54A32D192ED03ULL * (stream + 1)));
    return SynthRandom(mixer.next());
  }

  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0; rejection keeps it free of modulo bias.
  uint64_t below(uint64_t n) {
    const uint64_t max = ~uint64_t{0};
    const uint64_t limit = max - ((max % n) + 1) % n;  // last value of the last full block
    uint64_t value = next();
    while (value > limit) value = next();
    return value % n;
  }

  // True with probability `numerator / denominator`.
  bool chance(uint64_t numerator, uint64_t denominator) { return below(denominator) < numerator; }

  template <typename T, size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }

  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  uint64_t state_;
};

}  // namespace omnirm::data
