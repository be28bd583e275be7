// Implementation of serve/response_batch.h.
#include "omnirm/serve/response_batch.h"

#include <ATen/ATen.h>

#include "omnirm/ops/attention.h"

namespace omnirm::serve {
namespace {

void append_span(ResponseBatch& batch, const std::vector<int32_t>& ids, int32_t first_position,
                 int8_t segment) {
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.tokens.push_back(ids[i]);
    batch.positions.push_back(first_position + static_cast<int32_t>(i));
    batch.segments.push_back(segment);
  }
}

at::Tensor long_tensor(const std::vector<int64_t>& values, at::Device device) {
  return at::tensor(values, at::kLong).to(device);
}

}  // namespace

ResponseBatch pack_requests(const std::vector<const TokenizedRequest*>& requests) {
  ResponseBatch batch;
  batch.row_offsets.push_back(0);
  for (const TokenizedRequest* request : requests) {
    const auto count = static_cast<int64_t>(request->responses.size());
    TORCH_CHECK(count >= 1 && count <= kMaxResponsesPerRow, "pack_requests: ", count,
                " responses in one request; 1 to ", kMaxResponsesPerRow, " fit a row");
    const auto prompt_length = static_cast<int32_t>(request->prompt.size());
    append_span(batch, request->prompt, 0, 0);
    for (int64_t i = 0; i < count; ++i) {
      const std::vector<int32_t>& response = request->responses[static_cast<size_t>(i)];
      TORCH_CHECK(!response.empty(), "pack_requests: empty response");
      append_span(batch, response, prompt_length, static_cast<int8_t>(i + 1));
      batch.response_last.push_back(static_cast<int64_t>(batch.tokens.size()) - 1);
    }
    batch.row_offsets.push_back(static_cast<int64_t>(batch.tokens.size()));
    batch.responses_per_row.push_back(count);
  }
  return batch;
}

model::ModelInputs response_inputs(const ResponseBatch& batch, at::Device device) {
  model::ModelInputs inputs;
  inputs.tokens =
      long_tensor(std::vector<int64_t>(batch.tokens.begin(), batch.tokens.end()), device);
  inputs.positions =
      long_tensor(std::vector<int64_t>(batch.positions.begin(), batch.positions.end()), device);
  inputs.layout = ops::make_attention_layout(batch.row_offsets, batch.segments, device);
  inputs.chosen_last = long_tensor(batch.response_last, device);
  inputs.rejected_last = inputs.chosen_last;
  inputs.margins = at::zeros({static_cast<int64_t>(batch.response_last.size())},
                             at::TensorOptions().dtype(at::kFloat).device(device));
  return inputs;
}

std::vector<std::vector<float>> score_requests(model::RewardModelImpl& model,
                                               const std::vector<const TokenizedRequest*>& requests,
                                               at::Device device) {
  if (requests.empty()) return {};
  at::NoGradGuard no_grad;
  model.eval();
  const ResponseBatch batch = pack_requests(requests);
  const model::RewardOutput out = model.forward(response_inputs(batch, device));
  const at::Tensor rewards = out.chosen.to(at::kCPU).to(at::kFloat).contiguous();  // [K]
  const float* values = rewards.data_ptr<float>();
  std::vector<std::vector<float>> per_request;
  per_request.reserve(requests.size());
  for (const int64_t count : batch.responses_per_row) {
    per_request.emplace_back(values, values + count);
    values += count;
  }
  return per_request;
}

}  // namespace omnirm::serve
