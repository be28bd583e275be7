// Implementation of dist/rank_log.h.
#include "omnirm/dist/rank_log.h"

#include <fmt/format.h>

#include <cstdio>

namespace omnirm::dist {

RankLog::RankLog(int64_t rank, int64_t world_size, bool verbose) {
  const bool distributed = world_size > 1;
  enabled_ = !distributed || verbose || rank == 0;
  if (distributed && verbose) prefix_ = fmt::format("[rank {}] ", rank);
}

void RankLog::print(const std::string& line) const {
  if (!enabled_) return;
  fmt::print(stderr, "{}{}\n", prefix_, line);
  std::fflush(stderr);
}

}  // namespace omnirm::dist
