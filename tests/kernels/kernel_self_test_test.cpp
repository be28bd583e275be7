// The fused kernels' self-test on first use and the dispatch around it, exercised without a GPU:
// the kernels' host emulation is installed for the CPU (kernels/emulated_kernels.h), as a
// correct implementation and as deliberately broken ones (attention that ignores the segment
// rule, a loss that drops the margins). A correct kernel passes and serves the automatic
// backend; a broken one fails its self-test, the automatic backend and the head + loss fall
// back (one log line, once), the required `cuda` backend stops with the figures, and a whole
// model forward under bf16 autocast gives exactly the fallback's rewards.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/ops/attention.h"
#include "omnirm/ops/autocast.h"
#include "omnirm/ops/kernel_self_test.h"
#include "omnirm/ops/reward_head.h"

#include "kernels/attention_rule.h"
#include "kernels/emulated_kernels.h"

namespace {

#ifdef OMNIRM_KERNEL_EMULATION

using namespace omnirm;
using omnirm::testing::InstalledCpuKernels;
using omnirm::testing::KernelFault;

// Collects the kernel log while alive.
class LogCapture {
 public:
  LogCapture() {
    ops::set_kernel_log([this](const std::string& line) { lines.push_back(line); });
  }
  ~LogCapture() { ops::set_kernel_log(nullptr); }
  std::vector<std::string> lines;
};

// A bf16 attention problem on the CPU with head size 64, two query heads sharing one key-value
// head.
struct SmallProblem {
  omnirm::testing::Problem problem;
  at::Tensor q, k, v;  // bf16
};

SmallProblem small_problem() {
  omnirm::testing::Rows rows;
  rows.add({{0, 30}, {1, 17}, {2, 22}});
  rows.add({{0, 5}, {1, 9}});
  SmallProblem p{
      omnirm::testing::make_problem(rows, 1, 2, 64, at::Device(at::kCPU), 41), {}, {}, {}};
  p.q = p.problem.q.to(at::kBFloat16);
  p.k = p.problem.k.to(at::kBFloat16);
  p.v = p.problem.v.to(at::kBFloat16);
  return p;
}

// The attention self-test results recorded so far for the CPU.
std::vector<ops::SelfTestResult> cpu_attention_results() {
  std::vector<ops::SelfTestResult> found;
  for (const ops::SelfTestResult& r : ops::self_test_results()) {
    if (r.kind == ops::FusedKind::attention && r.device == "cpu") found.push_back(r);
  }
  return found;
}

TEST(KernelSelfTest, CorrectKernelsPassAndServeTheAutomaticBackend) {
  const InstalledCpuKernels kernels(KernelFault::none, KernelFault::none);
  const LogCapture log;
  const SmallProblem p = small_problem();
  const ops::AttentionLayout& layout = p.problem.layout;
  const at::Tensor through_dispatch =
      ops::pair_attention(p.q, p.k, p.v, layout, ops::AttentionBackend::automatic);
  const at::Tensor direct = omnirm::testing::emulated_pair_attention(
      p.q, p.k, p.v, layout.row_offsets, layout.segments, layout.max_row_length);
  EXPECT_TRUE(at::equal(through_dispatch, direct));
  const std::vector<ops::SelfTestResult> results = cpu_attention_results();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].passed) << results[0].failures;
  EXPECT_EQ(results[0].dtype, "bf16");
  EXPECT_NE(results[0].shape.find("head size 64"), std::string::npos) << results[0].shape;
  EXPECT_NE(results[0].figures.find("dq"), std::string::npos) << results[0].figures;
  EXPECT_TRUE(log.lines.empty());
  // The result is kept: a second call runs no second self-test.
  ops::pair_attention(p.q, p.k, p.v, layout, ops::AttentionBackend::cuda);
  EXPECT_EQ(cpu_attention_results().size(), 1u);
}

TEST(KernelSelfTest, ABrokenAttentionKernelFailsAndTheAutomaticBackendFallsBack) {
  const InstalledCpuKernels kernels(KernelFault::ignore_segments, KernelFault::none);
  const LogCapture log;
  const SmallProblem p = small_problem();
  const ops::AttentionLayout& layout = p.problem.layout;
  const at::Tensor first =
      ops::pair_attention(p.q, p.k, p.v, layout, ops::AttentionBackend::automatic);
  EXPECT_TRUE(at::equal(first, ops::attention_sdpa(p.q, p.k, p.v, layout)));
  const std::vector<ops::SelfTestResult> results = cpu_attention_results();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].passed);
  EXPECT_NE(results[0].failures.find("out: max error"), std::string::npos) << results[0].failures;
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_NE(log.lines[0].find("broken emulated pair-attention kernels"), std::string::npos);
  EXPECT_NE(log.lines[0].find("using sdpa for the rest of the run"), std::string::npos)
      << log.lines[0];
  // Later calls fall back without testing or logging again.
  ops::pair_attention(p.q, p.k, p.v, layout, ops::AttentionBackend::automatic);
  EXPECT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(cpu_attention_results().size(), 1u);
}

TEST(KernelSelfTest, ABrokenKernelStopsTheRequiredBackendWithTheFigures) {
  const InstalledCpuKernels kernels(KernelFault::ignore_segments, KernelFault::none);
  const LogCapture log;
  const SmallProblem p = small_problem();
  try {
    ops::pair_attention(p.q, p.k, p.v, p.problem.layout, ops::AttentionBackend::cuda);
    ADD_FAILURE() << "a kernel that failed its self-test served the required backend";
  } catch (const ops::KernelSelfTestFailure& failure) {
    const std::string message = failure.what();
    EXPECT_NE(message.find("model.attention_backend: cuda"), std::string::npos) << message;
    EXPECT_NE(message.find("allowed"), std::string::npos) << message;
    EXPECT_NE(message.find("bf16, head size 64"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_TRUE(log.lines.empty());
}

TEST(KernelSelfTest, HeadLossKernelPassesOrFallsBackToTheComposition) {
  at::manual_seed(3);
  const at::Tensor hidden = at::randn({19, 64}).to(at::kBFloat16);
  const at::Tensor chosen = at::arange(0, 7, at::kLong);
  const at::Tensor rejected = at::arange(7, 14, at::kLong);
  const at::Tensor weight = at::randn({1, 64}) / 8.0;
  const at::Tensor bias = at::randn({1});
  const at::Tensor margin = at::rand({7}) + 0.5;
  const auto loss_of = [&] {
    return ops::reward_head_loss(hidden, chosen, rejected, weight, bias, margin, 0.01).loss;
  };
  {
    const InstalledCpuKernels kernels(KernelFault::none, KernelFault::none);
    const LogCapture log;
    EXPECT_TRUE(ops::reward_head_loss_is_fused(hidden, weight));
    const ops::RewardHeadLoss direct = omnirm::testing::emulated_bt_head_loss(
        hidden, chosen, rejected, weight, bias, margin, 0.01);
    EXPECT_TRUE(at::equal(loss_of(), direct.loss));
    EXPECT_TRUE(log.lines.empty());
  }
  const at::Tensor composed = loss_of();  // nothing installed: the composition
  const InstalledCpuKernels broken(KernelFault::none, KernelFault::ignore_margin);
  const LogCapture log;
  EXPECT_FALSE(ops::reward_head_loss_is_fused(hidden, weight));
  EXPECT_TRUE(at::equal(loss_of(), composed));
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_NE(log.lines[0].find("the composed head and loss"), std::string::npos) << log.lines[0];
  EXPECT_THROW(ops::reward_head_loss(hidden, chosen, rejected, weight, bias, margin, 0.01,
                                     /*fused_required=*/true),
               ops::KernelSelfTestFailure);
}

// A tiny reward model (head size 64) with one pair, under bf16 autocast.
struct TinyModelRun {
  model::RewardOutput rewards;
  at::Tensor loss;
};

TinyModelRun run_tiny_model(const std::string& attention_backend) {
  ModelConfig config;
  config.hidden_size = 128;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.intermediate_size = 256;
  config.attention_backend = attention_backend;
  at::manual_seed(7);
  model::RewardModel model(config, 97);
  model::initialize_weights(*model);
  model->eval();
  // One row: prompt 24 tokens, chosen 9, rejected 13 (positions restart after the prompt).
  const std::vector<int64_t> lengths = {24, 9, 13};
  std::vector<int8_t> segments;
  std::vector<int64_t> positions;
  for (int8_t s = 0; s < 3; ++s) {
    segments.insert(segments.end(), lengths[s], s);
    for (int64_t i = 0; i < lengths[s]; ++i) positions.push_back(s == 0 ? i : lengths[0] + i);
  }
  model::ModelInputs inputs;
  inputs.tokens = at::randint(0, 97, {46}, at::kLong);
  inputs.positions = at::tensor(positions, at::kLong);
  inputs.layout = ops::make_attention_layout({0, 46}, segments, at::Device(at::kCPU));
  inputs.chosen_last = at::tensor(std::vector<int64_t>{32}, at::kLong);
  inputs.rejected_last = at::tensor(std::vector<int64_t>{45}, at::kLong);
  inputs.margins = at::zeros({1});
  const ops::AutocastScope bf16(c10::DeviceType::CPU, ops::Precision::bf16);
  TinyModelRun run;
  run.rewards = model->forward(inputs);
  run.loss = model->loss(inputs, 0.0).loss.detach();
  return run;
}

TEST(KernelSelfTest, AModelRunFallsBackToSdpaWithABrokenKernel) {
  const TinyModelRun sdpa = run_tiny_model("sdpa");
  {
    const InstalledCpuKernels kernels(KernelFault::none, KernelFault::none);
    const TinyModelRun fused = run_tiny_model("auto");
    // The kernels ran (other rounding than sdpa) and agree with it closely.
    EXPECT_FALSE(at::equal(fused.rewards.chosen, sdpa.rewards.chosen));
    EXPECT_LT((fused.rewards.chosen - sdpa.rewards.chosen).abs().max().item<float>(), 0.05f);
  }
  const InstalledCpuKernels broken(KernelFault::ignore_segments, KernelFault::ignore_margin);
  const LogCapture log;
  const TinyModelRun fallback = run_tiny_model("auto");
  EXPECT_TRUE(at::equal(fallback.rewards.chosen, sdpa.rewards.chosen));
  EXPECT_TRUE(at::equal(fallback.rewards.rejected, sdpa.rewards.rejected));
  EXPECT_TRUE(at::equal(fallback.loss, sdpa.loss));
  EXPECT_EQ(log.lines.size(), 2u);  // one line per kernel, however many layers and calls
}

#endif  // OMNIRM_KERNEL_EMULATION

}  // namespace
