// Console output of a data-parallel run: only rank 0 prints, unless dist.verbose is on, in
// which case every rank prints and each line starts with "[rank r] ". A single process prints
// plain lines, as it always has.
#pragma once

#include <cstdint>
#include <string>

namespace omnirm::dist {

class RankLog {
 public:
  RankLog() = default;  // a single process
  RankLog(int64_t rank, int64_t world_size, bool verbose);

  // Whether this rank prints at all.
  bool enabled() const { return enabled_; }
  // "[rank r] " when every rank prints, else "".
  const std::string& prefix() const { return prefix_; }
  // Writes prefix + line + '\n' to stderr when enabled.
  void print(const std::string& line) const;

 private:
  bool enabled_ = true;
  std::string prefix_;
};

}  // namespace omnirm::dist
