// Implementation of ops/fused_kernels.h: the installed implementations per device type, with
// the CUDA kernels installed for CUDA in a CUDA build.
#include "omnirm/ops/fused_kernels.h"

#include <map>
#include <mutex>

#include "omnirm/ops/kernel_self_test.h"

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/bt_head_loss_cuda.h"
#include "omnirm/ops/pair_attention_cuda.h"
#endif

namespace omnirm::ops {

namespace {

struct Installed {
  std::mutex mutex;
  std::map<c10::DeviceType, std::shared_ptr<const FusedAttentionKernel>> attention;
  std::map<c10::DeviceType, std::shared_ptr<const FusedHeadLossKernel>> head_loss;
};

#ifdef OMNIRM_WITH_CUDA
FusedAttentionKernel cuda_attention_kernel() {
  FusedAttentionKernel kernel;
  kernel.name = "CUDA pair-attention kernels";
  kernel.serves = "bf16 or fp16 inputs with head size 64 or 128";
  kernel.supports = cuda::pair_attention_cuda_supports;
  kernel.run = cuda::pair_attention_cuda;
  return kernel;
}

FusedHeadLossKernel cuda_head_loss_kernel() {
  FusedHeadLossKernel kernel;
  kernel.name = "CUDA value head + BT loss kernel";
  kernel.serves = "fp32, bf16 or fp16 hidden states with an fp32 head";
  kernel.supports = [](const at::Tensor& hidden, const at::Tensor& head_weight) {
    const at::ScalarType dtype = hidden.scalar_type();
    return hidden.is_cuda() && head_weight.scalar_type() == at::kFloat &&
           (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf);
  };
  kernel.run = [](const at::Tensor& hidden, const at::Tensor& chosen_index,
                  const at::Tensor& rejected_index, const at::Tensor& head_weight,
                  const at::Tensor& head_bias, const at::Tensor& margin, double centering) {
    const cuda::BtHeadLossOutput out = cuda::bt_head_loss_cuda(
        hidden, chosen_index, rejected_index, head_weight, head_bias, margin, centering);
    return RewardHeadLoss{out.loss, out.reward_chosen, out.reward_rejected};
  };
  return kernel;
}
#endif

Installed& installed() {
  static Installed* instance = [] {
    auto* table = new Installed;
#ifdef OMNIRM_WITH_CUDA
    table->attention[c10::DeviceType::CUDA] =
        std::make_shared<const FusedAttentionKernel>(cuda_attention_kernel());
    table->head_loss[c10::DeviceType::CUDA] =
        std::make_shared<const FusedHeadLossKernel>(cuda_head_loss_kernel());
#endif
    return table;
  }();
  return *instance;
}

template <typename Kernel>
std::shared_ptr<const Kernel> find(
    const std::map<c10::DeviceType, std::shared_ptr<const Kernel>>& table,
    c10::DeviceType device_type) {
  const auto found = table.find(device_type);
  return found == table.end() ? nullptr : found->second;
}

template <typename Kernel>
void replace(std::map<c10::DeviceType, std::shared_ptr<const Kernel>>& table,
             c10::DeviceType device_type, std::optional<Kernel> kernel) {
  if (kernel) {
    table[device_type] = std::make_shared<const Kernel>(std::move(*kernel));
  } else {
    table.erase(device_type);
  }
}

}  // namespace

std::shared_ptr<const FusedAttentionKernel> fused_attention_kernel(c10::DeviceType device_type) {
  Installed& table = installed();
  std::lock_guard<std::mutex> lock(table.mutex);
  return find(table.attention, device_type);
}

std::shared_ptr<const FusedHeadLossKernel> fused_head_loss_kernel(c10::DeviceType device_type) {
  Installed& table = installed();
  std::lock_guard<std::mutex> lock(table.mutex);
  return find(table.head_loss, device_type);
}

void install_fused_attention_kernel(c10::DeviceType device_type,
                                    std::optional<FusedAttentionKernel> kernel) {
  {
    Installed& table = installed();
    std::lock_guard<std::mutex> lock(table.mutex);
    replace(table.attention, device_type, std::move(kernel));
  }
  forget_self_tests(FusedKind::attention, device_type);
}

void install_fused_head_loss_kernel(c10::DeviceType device_type,
                                    std::optional<FusedHeadLossKernel> kernel) {
  {
    Installed& table = installed();
    std::lock_guard<std::mutex> lock(table.mutex);
    replace(table.head_loss, device_type, std::move(kernel));
  }
  forget_self_tests(FusedKind::head_loss, device_type);
}

}  // namespace omnirm::ops
