// Shared pieces of the pair-attention kernel tests (see attention_rule.h).
#include "kernels/attention_rule.h"

namespace omnirm::testing {

void Rows::add(const std::vector<std::pair<int8_t, int>>& runs) {
  for (const auto& [code, count] : runs) {
    segments.insert(segments.end(), count, code);
  }
  offsets.push_back(static_cast<int64_t>(segments.size()));
}

Rows mixed_rows() {
  Rows rows;
  rows.add({{0, 37}, {1, 21}, {2, 45}});     // odd lengths
  rows.add({{0, 1}, {1, 5}, {2, 3}});        // one-token prompt
  rows.add({{0, 50}, {2, 30}});              // empty chosen response
  rows.add({{0, 20}, {1, 40}});              // empty rejected response (also the naive layout)
  rows.add({{0, 1}, {1, 1}, {2, 1}});        // one token each
  rows.add({{0, 130}, {1, 300}, {2, 200}});  // many tiles, whole chosen tiles to skip
  rows.add({{0, 301}});                      // plain causal
  rows.add({{0, 33}, {2, 64}});              // naive layout, prompt + rejected
  return rows;
}

Problem make_problem(const Rows& rows, int64_t kv_heads, int64_t group, int64_t head_dim,
                     at::Device device, uint64_t seed) {
  at::manual_seed(seed);
  Problem problem;
  problem.layout = ops::make_attention_layout(rows.offsets, rows.segments, device);
  const int64_t n = rows.tokens();
  problem.q = at::randn({n, kv_heads * group, head_dim});
  problem.k = at::randn({n, kv_heads, head_dim});
  problem.v = at::randn({n, kv_heads, head_dim});
  problem.grad_out = at::randn({n, kv_heads * group, head_dim});
  return problem;
}

std::vector<std::string> check_flash_rule(const AttentionFn& candidate, const Problem& problem,
                                          at::ScalarType dtype, at::Device device) {
  return ops::check_attention_rule(candidate, problem.layout, problem.q, problem.k, problem.v,
                                   problem.grad_out, dtype, device)
      .failures;
}

}  // namespace omnirm::testing
