// Counts the bytes LibTorch allocates on the CPU: a wrapper around the default CPU allocator,
// installed once per process, that tracks the bytes currently held and the peak since the
// last reset. Allocations made before installation are not counted (their frees are not
// either). Allocations that bypass c10's CPU allocator (a library's private scratch) are not
// seen. An optional limit makes the allocator refuse what would exceed it.
#pragma once

#include <cstdint>

namespace omnirm::train {

class CpuMemoryMeter {
 public:
  // Installs the counting allocator on first use; every later call returns the same meter.
  static CpuMemoryMeter& instance();

  int64_t current_bytes() const;
  int64_t peak_bytes() const;
  // The peak restarts from the bytes held now.
  void reset_peak();
  // > 0: an allocation that would make the held bytes exceed `bytes` fails (a c10::Error
  // saying so), as a device without more memory would; 0: no limit.
  void set_limit(int64_t bytes);
};

}  // namespace omnirm::train
