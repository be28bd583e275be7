// The kernel tests' GPU gate: OMNIRM_SKIP_WITHOUT_GPU() ends a test with a skip message where
// no CUDA device exists, so the suite stays green on CPU machines and runs for real on a GPU.
#pragma once

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace omnirm::testing {

inline bool cuda_device_present() {
  return torch::cuda::is_available() && torch::cuda::device_count() > 0;
}

}  // namespace omnirm::testing

#define OMNIRM_SKIP_WITHOUT_GPU()                         \
  do {                                                    \
    if (!omnirm::testing::cuda_device_present()) {        \
      GTEST_SKIP() << "no CUDA device: GPU test skipped"; \
    }                                                     \
  } while (false)
