// Implementation of ops/cuda_devices.h through the CUDA runtime API.
#include "omnirm/ops/cuda_devices.h"

#include <cuda_runtime_api.h>

namespace omnirm::ops::cuda {

std::vector<CudaDevice> list_cuda_devices(std::string& note) {
  std::vector<CudaDevice> devices;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    note = cudaGetErrorString(status);
    cudaGetLastError();  // clear the sticky error state for later callers
    return devices;
  }
  int current = 0;
  cudaGetDevice(&current);
  for (int index = 0; index < count; ++index) {
    CudaDevice device;
    device.index = index;
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, index) == cudaSuccess) {
      device.name = properties.name;
      device.major = properties.major;
      device.minor = properties.minor;
      device.total_bytes = static_cast<int64_t>(properties.totalGlobalMem);
    }
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    if (cudaSetDevice(index) == cudaSuccess &&
        cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      device.free_bytes = static_cast<int64_t>(free_bytes);
      device.total_bytes = static_cast<int64_t>(total_bytes);
    }
    devices.push_back(device);
  }
  cudaSetDevice(current);
  cudaGetLastError();
  if (devices.empty()) note = "the CUDA runtime reports no device";
  return devices;
}

std::string kernel_architectures() { return OMNIRM_KERNEL_ARCHITECTURES; }

}  // namespace omnirm::ops::cuda
