// The pair-attention CUDA kernels run on the host (tests/kernels/emulation: their device code,
// compiled by the host compiler and executed by a SIMT executor with the PTX ISA's fragment
// layouts) and checked like the GPU runs: FlashAttention's rule against the fp32 reference,
// forward and backward, over odd lengths, empty responses, one-token prompts, whole tiles to
// skip, plain causal rows, segment codes other than 0/1/2, GQA ratios 1, 2 and 4, head dims
// 64 and 128, bf16 and fp16. Also: a shuffled thread schedule with copies landing as soon as
// they are issued gives the same bits (no race between the kernels' barriers), and a kernel
// given rows with the segment rule dropped fails the rule. These run without a GPU; they are left
// out on the GPU machine, where the same checks run on the real kernels.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "omnirm/ops/attention.h"

#include "kernels/attention_rule.h"

#include "kernels/emulated_kernels.h"

namespace {

#ifdef OMNIRM_KERNEL_EMULATION

using namespace omnirm::testing;

// The emulated kernels over `layout` (CPU), as an AttentionFn.
AttentionFn emulated_attention(const omnirm::ops::AttentionLayout& layout, uint64_t seed = 0,
                               bool copy_at_issue = false) {
  return [&layout, seed, copy_at_issue](const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v) {
    return emulated_pair_attention(q, k, v, layout.row_offsets, layout.segments,
                                   layout.max_row_length, seed, copy_at_issue);
  };
}

// Every row kind of mixed_rows(), shorter (770 tokens) so that the emulation stays quick; the
// 384-token row has whole 64-key tiles of chosen tokens that rejected query tiles skip, in the
// forward (128 queries a tile) and the backward (64) alike.
Rows emulation_rows() {
  Rows rows;
  rows.add({{0, 37}, {1, 21}, {2, 45}});    // odd lengths
  rows.add({{0, 1}, {1, 5}, {2, 3}});       // one-token prompt
  rows.add({{0, 50}, {2, 30}});             // empty chosen response
  rows.add({{0, 20}, {1, 40}});             // empty rejected response
  rows.add({{0, 1}, {1, 1}, {2, 1}});       // one token each
  rows.add({{0, 64}, {1, 192}, {2, 128}});  // whole tiles to skip
  rows.add({{0, 131}});                     // plain causal, three query tiles
  return rows;
}

struct EmulatedCase {
  at::ScalarType dtype;
  int64_t head_dim;
  int64_t kv_heads;
  int64_t group;  // query heads per key/value head
};

std::string describe(const EmulatedCase& c) {
  return std::string(c.dtype == at::kBFloat16 ? "bf16" : "fp16") + "_d" +
         std::to_string(c.head_dim) + "_kv" + std::to_string(c.kv_heads) + "_gqa" +
         std::to_string(c.group);
}

std::string case_name(const ::testing::TestParamInfo<EmulatedCase>& info) {
  return describe(info.param);
}

// How GoogleTest prints a case (instead of its bytes).
void PrintTo(const EmulatedCase& c, std::ostream* out) { *out << describe(c); }

class PairAttentionEmulatedTest : public ::testing::TestWithParam<EmulatedCase> {};

TEST_P(PairAttentionEmulatedTest, RowsMeetTheFlashRule) {
  const EmulatedCase& c = GetParam();
  const at::Device cpu(at::kCPU);
  const Problem problem =
      make_problem(emulation_rows(), c.kv_heads, c.group, c.head_dim, cpu, 300 + c.head_dim);
  for (const std::string& failure :
       check_flash_rule(emulated_attention(problem.layout), problem, c.dtype, cpu)) {
    ADD_FAILURE() << failure;
  }
}

// Each dtype with each head dim, GQA ratios 1, 2 and 4 spread over them.
INSTANTIATE_TEST_SUITE_P(Shapes, PairAttentionEmulatedTest,
                         ::testing::Values(EmulatedCase{at::kBFloat16, 64, 2, 1},
                                           EmulatedCase{at::kHalf, 64, 1, 4},
                                           EmulatedCase{at::kBFloat16, 128, 1, 2},
                                           EmulatedCase{at::kHalf, 128, 2, 1}),
                         case_name);

// Results are bitwise the same whatever order the threads run in between barriers and
// whenever the asynchronous copies land: nothing races.
TEST(PairAttentionEmulated, ScheduleAndCopyTimingDoNotChangeTheBits) {
  const at::Device cpu(at::kCPU);
  Rows rows;
  rows.add({{0, 70}, {1, 45}, {2, 80}});
  rows.add({{0, 3}, {1, 20}});
  const Problem problem = make_problem(rows, 1, 2, 64, cpu, 11);
  const Result in_order = run(emulated_attention(problem.layout), problem.q, problem.k, problem.v,
                              problem.grad_out, at::kBFloat16, cpu);
  const Result shuffled = run(emulated_attention(problem.layout, 7, true), problem.q, problem.k,
                              problem.v, problem.grad_out, at::kBFloat16, cpu);
  EXPECT_TRUE(at::equal(in_order.out, shuffled.out));
  EXPECT_TRUE(at::equal(in_order.dq, shuffled.dq));
  EXPECT_TRUE(at::equal(in_order.dk, shuffled.dk));
  EXPECT_TRUE(at::equal(in_order.dv, shuffled.dv));
}

// Segment codes are any int8 (pair_attention.h): several responses after one prompt (codes
// 3, 4, 5, each with its own summary bit) and codes outside [0, 7), which share one summary
// bit (7 and -3 here), so tiles of them are masked element by element, never taken as full.
TEST(PairAttentionEmulated, AnySegmentCodesMeetTheFlashRule) {
  const at::Device cpu(at::kCPU);
  Rows rows;
  rows.add({{0, 40}, {7, 150}, {-3, 150}});
  rows.add({{0, 30}, {3, 50}, {4, 50}, {5, 50}});
  const Problem problem = make_problem(rows, 1, 2, 64, cpu, 17);
  for (const std::string& failure :
       check_flash_rule(emulated_attention(problem.layout), problem, at::kBFloat16, cpu)) {
    ADD_FAILURE() << failure;
  }
}

// The check can fail: the kernels given every token as prompt (plain causal rows) do not
// meet the rule against the pair-prefix reference, in the output or in any gradient.
TEST(PairAttentionEmulated, KernelsWithoutTheSegmentRuleFailTheCheck) {
  const at::Device cpu(at::kCPU);
  Rows rows;
  rows.add({{0, 40}, {1, 30}, {2, 35}});
  const Problem problem = make_problem(rows, 1, 1, 64, cpu, 5);
  const std::vector<int8_t> all_prompt(rows.segments.size(), 0);
  const omnirm::ops::AttentionLayout causal =
      omnirm::ops::make_attention_layout(rows.offsets, all_prompt, cpu);
  EXPECT_TRUE(
      check_flash_rule(emulated_attention(problem.layout), problem, at::kBFloat16, cpu).empty());
  EXPECT_EQ(check_flash_rule(emulated_attention(causal), problem, at::kBFloat16, cpu).size(), 4u);
}

#endif  // OMNIRM_KERNEL_EMULATION

}  // namespace
