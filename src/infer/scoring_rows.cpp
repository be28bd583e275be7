// Implementation of infer/scoring_rows.h.
#include "omnirm/infer/scoring_rows.h"

#include <ATen/ATen.h>

#include "omnirm/infer/media_batch.h"
#include "omnirm/ops/attention.h"

namespace omnirm::infer {
namespace {

void append_span(RowBatch& batch, const std::vector<int32_t>& ids, int32_t first_position,
                 int8_t segment) {
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.tokens.push_back(ids[i]);
    batch.positions.push_back(first_position + static_cast<int32_t>(i));
    batch.segments.push_back(segment);
  }
}

template <typename T>
at::Tensor long_tensor(const std::vector<T>& values, at::Device device) {
  const std::vector<int64_t> wide(values.begin(), values.end());
  return at::tensor(wide, at::kLong).to(device);
}

}  // namespace

RowBatch pack_rows(const std::vector<const ScoringRow*>& rows,
                   const std::optional<data::MediaLayout>& layout) {
  RowBatch batch;
  batch.row_offsets.push_back(0);
  std::vector<const data::MediaItem*> media;  // in token order
  for (const ScoringRow* row : rows) {
    const auto count = static_cast<int64_t>(row->responses.size());
    TORCH_CHECK(count >= 1 && count <= kMaxResponsesPerRow, "pack_rows: ", count,
                " responses in one row; 1 to ", kMaxResponsesPerRow, " fit a row");
    const auto prompt_length = static_cast<int32_t>(row->prompt.size());
    append_span(batch, row->prompt, 0, 0);
    for (int64_t i = 0; i < count; ++i) {
      const std::vector<int32_t>& response = row->responses[static_cast<size_t>(i)];
      TORCH_CHECK(!response.empty(), "pack_rows: empty response");
      append_span(batch, response, prompt_length, static_cast<int8_t>(i + 1));
      batch.response_last.push_back(static_cast<int64_t>(batch.tokens.size()) - 1);
    }
    batch.row_offsets.push_back(static_cast<int64_t>(batch.tokens.size()));
    batch.responses_per_row.push_back(count);
    for (int64_t segment = 0; segment <= count; ++segment) {
      for (const data::MediaItem& item : row->media) {
        if (item.segment == segment) media.push_back(&item);
      }
    }
  }
  if (!media.empty()) {
    TORCH_CHECK(layout.has_value(), "pack_rows: media items without a media layout");
    PackedMedia packed = pack_media(media, batch.tokens, *layout);
    batch.media = std::move(packed.inputs);
    batch.media_items = packed.items;
  }
  return batch;
}

model::ModelInputs row_inputs(const RowBatch& batch, at::Device device) {
  model::ModelInputs inputs;
  inputs.tokens = long_tensor(batch.tokens, device);
  inputs.positions = long_tensor(batch.positions, device);
  inputs.layout = ops::make_attention_layout(batch.row_offsets, batch.segments, device);
  inputs.chosen_last = long_tensor(batch.response_last, device);
  inputs.rejected_last = inputs.chosen_last;
  inputs.margins = at::zeros({static_cast<int64_t>(batch.response_last.size())},
                             at::TensorOptions().dtype(at::kFloat).device(device));
  inputs.media = batch.media.to(device);
  return inputs;
}

std::vector<std::vector<float>> score_rows(model::RewardModelImpl& model,
                                           const std::vector<const ScoringRow*>& rows,
                                           const std::optional<data::MediaLayout>& layout,
                                           at::Device device) {
  if (rows.empty()) return {};
  at::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const RowBatch batch = pack_rows(rows, layout);
  const model::RewardOutput out = model.forward(row_inputs(batch, device));
  model.train(was_training);
  const at::Tensor rewards = out.chosen.to(at::kCPU).to(at::kFloat).contiguous();  // [K]
  const float* values = rewards.data_ptr<float>();
  std::vector<std::vector<float>> per_row;
  per_row.reserve(rows.size());
  for (const int64_t count : batch.responses_per_row) {
    per_row.emplace_back(values, values + count);
    values += count;
  }
  return per_row;
}

}  // namespace omnirm::infer
