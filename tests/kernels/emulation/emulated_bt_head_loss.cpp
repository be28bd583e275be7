// Host runs of the fused Bradley–Terry head kernels (contract in emulated_bt_head_loss.h):
// cuda_on_host.h with static shared memory (these kernels declare theirs in the block), then
// the kernels, then the launch sequence of kernels/bt_head_loss.cu.
#define CUDA_ON_HOST_STATIC_SHARED
#include "cuda_on_host.h"
// The kernel header comes after the host definitions of the CUDA spellings it uses.
#include "bt_head_loss_kernels.cuh"
#include "emulated_bt_head_loss.h"

namespace omnirm::testing {
namespace {

using namespace bt_head_loss;

// Launches `kernel` on grid x block threads; these kernels use no dynamic shared memory.
void launch(unsigned blocks, unsigned threads, const simt::LaunchOptions& options,
            const std::function<void()>& kernel) {
  simt::launch(simt::Dim3{blocks, 1, 1}, simt::Dim3{threads, 1, 1}, nullptr, 0, options, kernel);
}

template <typename T>
void run_forward(const BtHeadLossParams& params, const simt::LaunchOptions& options) {
  launch(static_cast<unsigned>(params.num_pairs), kPairThreads, options, [&] {
    rewards_kernel<T>(static_cast<const T*>(params.hidden), params.num_tokens, params.hidden_size,
                      params.chosen_index, params.rejected_index, params.head_weight,
                      params.head_bias, params.reward_chosen, params.reward_rejected);
  });
  launch(1, kReduceThreads, options, [&] {
    loss_kernel(params.reward_chosen, params.reward_rejected, params.margin, params.num_pairs,
                params.centering, params.loss);
  });
}

template <typename T>
void run_backward(const BtHeadLossParams& params, const simt::LaunchOptions& options) {
  launch(1, kReduceThreads, options, [&] {
    pair_grads_kernel(params.reward_chosen, params.reward_rejected, params.margin, params.num_pairs,
                      params.centering, params.grad_loss, params.grad_reward_chosen,
                      params.grad_reward_rejected, params.grad_bias);
  });
  if (params.grad_hidden != nullptr) {
    launch(static_cast<unsigned>(params.num_pairs), kPairThreads, options, [&] {
      hidden_grad_kernel<T>(params.num_tokens, params.hidden_size, params.chosen_index,
                            params.rejected_index, params.head_weight, params.grad_reward_chosen,
                            params.grad_reward_rejected, static_cast<T*>(params.grad_hidden));
    });
  }
  if (params.grad_weight != nullptr) {
    const auto blocks =
        static_cast<unsigned>((params.hidden_size + kColumnThreads - 1) / kColumnThreads);
    launch(blocks, kColumnThreads, options, [&] {
      weight_grad_kernel<T>(static_cast<const T*>(params.hidden), params.num_tokens,
                            params.hidden_size, params.chosen_index, params.rejected_index,
                            params.num_pairs, params.grad_reward_chosen,
                            params.grad_reward_rejected, params.grad_weight);
    });
  }
}

// Calls call(T{}) for the element type T of the hidden states.
template <typename Call>
void with_hidden_type(BtHeadLossDtype dtype, Call&& call) {
  switch (dtype) {
    case BtHeadLossDtype::kBFloat16:
      return call(__nv_bfloat16{});
    case BtHeadLossDtype::kFloat16:
      return call(__half{});
    default:
      return call(float{});
  }
}

}  // namespace

void emulated_bt_head_loss_forward(const BtHeadLossParams& params,
                                   const simt::LaunchOptions& options) {
  with_hidden_type(params.hidden_dtype,
                   [&](auto zero) { run_forward<decltype(zero)>(params, options); });
}

void emulated_bt_head_loss_backward(const BtHeadLossParams& params,
                                    const simt::LaunchOptions& options) {
  with_hidden_type(params.hidden_dtype,
                   [&](auto zero) { run_backward<decltype(zero)>(params, options); });
}

}  // namespace omnirm::testing
