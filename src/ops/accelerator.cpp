// Implementation of ops/accelerator.h.
#include "omnirm/ops/accelerator.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fmt/format.h>

#include <sstream>

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/cuda_devices.h"
#endif

namespace omnirm::ops {

bool AcceleratorReport::kernels_run_on(const CudaDevice& device) const {
  // A cubin runs on its own major architecture at the same or a later minor version.
  std::istringstream targets(kernel_architectures);
  std::string target;
  while (targets >> target) {
    if (target.rfind("sm_", 0) != 0 || target.size() < 5) continue;
    const int number = std::atoi(target.c_str() + 3);
    if (number / 10 == device.major && number % 10 <= device.minor) return true;
  }
  return false;
}

AcceleratorReport accelerator_report() {
  AcceleratorReport report;
  const at::CUDAHooksInterface& hooks = at::detail::getCUDAHooks();
  // Only a LibTorch built with CUDA answers this; at::hasCUDA() would also need a device.
  try {
    const int64_t runtime = hooks.versionCUDART();
    report.torch_cuda = true;
    report.torch_cuda_runtime = fmt::format("{}.{}", runtime / 1000, (runtime % 1000) / 10);
  } catch (const c10::Error&) {
    report.torch_cuda = false;
  }
  report.cudnn = at::globalContext().hasCuDNN();
  if (report.cudnn) report.cudnn_version = hooks.versionCuDNN();
#ifdef OMNIRM_WITH_CUDA
  report.kernels_built = true;
  report.kernel_architectures = cuda::kernel_architectures();
  report.devices = cuda::list_cuda_devices(report.device_note);
#else
  report.device_note = "this build has no CUDA code (nvcc was not found when it was configured)";
#endif
  return report;
}

}  // namespace omnirm::ops
