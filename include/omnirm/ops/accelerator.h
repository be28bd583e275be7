// What this build and this machine offer for CUDA work: the GPU architectures the fused kernels
// were compiled for, LibTorch's own CUDA and cuDNN, and the devices present with their free
// memory. Read-only and cheap (the device query creates a CUDA context per device).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::ops {

struct CudaDevice {
  int index = 0;
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int major = 0;     // compute capability
  int minor = 0;
  int64_t free_bytes = 0;
  int64_t total_bytes = 0;
};

struct AcceleratorReport {
  bool kernels_built = false;        // the fused CUDA kernels are in this build
  std::string kernel_architectures;  // "sm_80 sm_90" (the kernels' compiled targets)
  bool torch_cuda = false;           // LibTorch was built with CUDA (a device or not)
  std::string torch_cuda_runtime;    // "13.0", or "" without CUDA
  bool cudnn = false;                // LibTorch can use cuDNN
  int64_t cudnn_version = 0;         // e.g. 91002, 0 without cuDNN
  std::vector<CudaDevice> devices;
  std::string device_note;  // why no device is listed ("no CUDA driver", ...), or ""

  // Whether device `index` runs code compiled for the kernels' architectures.
  bool kernels_run_on(const CudaDevice& device) const;
};

AcceleratorReport accelerator_report();

}  // namespace omnirm::ops
