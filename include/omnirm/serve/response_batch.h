// Scoring score requests with the reward model in one forward pass. Each request is one
// packed row that holds its prompt once, followed by all of its responses:
//   row = [ prompt P ][ response 1 ][ response 2 ] ... [ response n ]
// Response i has segment i (the prompt segment is 0), so under the attention rule of
// ops/attention.h (a key is visible when it is a prompt token or in the query's own segment)
// each response attends to the prompt and causally to itself only; every response's
// positions start at P. That is the pair-prefix layout of data/pair_batch.h extended from two
// responses to n: for n = 2 the row is exactly the [prompt | chosen | rejected] row of a pair,
// and each reward equals the one the response gets in any pair with the same prompt.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "omnirm/model/reward_model.h"
#include "omnirm/serve/score_request.h"

namespace omnirm::serve {

// Segments are int8 and 0 is the prompt: at most 127 responses share a row.
inline constexpr int64_t kMaxResponsesPerRow = 127;

struct ResponseBatch {
  std::vector<int32_t> tokens;             // [N] every row back to back
  std::vector<int32_t> positions;          // [N] RoPE position of each token
  std::vector<int8_t> segments;            // [N] 0 for the prompt, i for response i (1-based)
  std::vector<int64_t> row_offsets;        // [rows + 1] start of each row in tokens
  std::vector<int64_t> response_last;      // [K] index in tokens of each response's last token
  std::vector<int64_t> responses_per_row;  // [rows]
};

// One row per request, in order. Every request needs 1..kMaxResponsesPerRow non-empty
// responses (TORCH_CHECK).
ResponseBatch pack_requests(const std::vector<const TokenizedRequest*>& requests);

// The model's inputs for `batch` on `device`: text only (no media). The model reads rewards
// at chosen_last and rejected_last; both are response_last here (K entries each), so the
// head runs twice on K rows and the chosen half is the answer.
model::ModelInputs response_inputs(const ResponseBatch& batch, at::Device device);

// Scores the requests in eval mode without gradients: per request, one fp32 reward per
// response, in order. The model must already be on `device`.
std::vector<std::vector<float>> score_requests(model::RewardModelImpl& model,
                                               const std::vector<const TokenizedRequest*>& requests,
                                               at::Device device);

}  // namespace omnirm::serve
