// The CUDA devices as the CUDA runtime sees them (names, compute capability, free memory),
// independently of LibTorch's build. Only where omnirm is built with CUDA (OMNIRM_WITH_CUDA).
#pragma once

#include <string>
#include <vector>

#include "omnirm/ops/accelerator.h"

namespace omnirm::ops::cuda {

// The devices, or none with `note` saying why (no driver, no device, ...).
std::vector<CudaDevice> list_cuda_devices(std::string& note);

// The architectures the kernels were compiled for, "sm_80 sm_90".
std::string kernel_architectures();

}  // namespace omnirm::ops::cuda
