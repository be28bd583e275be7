// Scoring rows: one prompt followed by its responses, packed without padding,
//   row = [ prompt P ][ response 1 ][ response 2 ] ... [ response n ]
// Response i has segment i (the prompt segment is 0), so under the attention rule of
// ops/attention.h (a key is visible when it is a prompt token or in the query's own segment)
// each response attends to the prompt and causally to itself only, and every response's
// positions start at P. For n = 2 the row is exactly the pair-prefix row
// [prompt | chosen | rejected] of training (data/pair_batch.h); a pair in the naive layout is
// two rows of one response. So the prompt — and every image, clip or video in it — is encoded
// once per row, and each reward equals the one the response gets scored alone.
//
// Every scorer (eval, score, serve, the trainer's evaluation) packs rows here.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "omnirm/data/media_layout.h"
#include "omnirm/infer/scoring_row.h"
#include "omnirm/model/media_inputs.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::infer {

struct RowBatch {
  std::vector<int32_t> tokens;             // [N] every row back to back
  std::vector<int32_t> positions;          // [N] RoPE position of each token
  std::vector<int8_t> segments;            // [N] 0 for the prompt, i for response i (1-based)
  std::vector<int64_t> row_offsets;        // [rows + 1] start of each row in tokens
  std::vector<int64_t> response_last;      // [K] index in tokens of each response's last token
  std::vector<int64_t> responses_per_row;  // [rows]
  model::MediaInputs media;                // CPU tensors; empty for text-only rows
  int64_t media_items = 0;                 // adapter inputs in the batch (a video: its frames)
};

// Packs the rows in order. TORCH_CHECKs 1..kMaxResponsesPerRow non-empty responses per row,
// and a media layout when any row has media.
RowBatch pack_rows(const std::vector<const ScoringRow*>& rows,
                   const std::optional<data::MediaLayout>& layout);

// The model's inputs for `batch` on `device`. The model reads rewards at chosen_last and
// rejected_last; both are response_last here (K entries each), so the head runs twice on K
// rows (K dot products, nothing next to the backbone) and the chosen half is the answer.
model::ModelInputs row_inputs(const RowBatch& batch, at::Device device);

// Scores the rows in eval mode without gradients: per row, one fp32 reward per response, in
// order. The model must already be on `device`.
std::vector<std::vector<float>> score_rows(model::RewardModelImpl& model,
                                           const std::vector<const ScoringRow*>& rows,
                                           const std::optional<data::MediaLayout>& layout,
                                           at::Device device);

}  // namespace omnirm::infer
