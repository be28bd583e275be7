// Builds the AttentionLayout of ops/attention.h (the padding maps and the segment mask) and
// counts the pairs its mask allows.
#include <ATen/ATen.h>

#include <algorithm>
#include <map>

#include "omnirm/ops/attention.h"

namespace omnirm::ops {

AttentionLayout make_attention_layout(const std::vector<int64_t>& row_offsets,
                                      const std::vector<int8_t>& segments, at::Device device) {
  TORCH_CHECK(row_offsets.size() >= 2, "attention layout: at least one row expected");
  TORCH_CHECK(row_offsets.front() == 0, "attention layout: row_offsets must start at 0");
  const auto n = static_cast<int64_t>(segments.size());
  TORCH_CHECK(row_offsets.back() == n, "attention layout: row_offsets end at ", row_offsets.back(),
              " but there are ", n, " tokens");

  AttentionLayout layout;
  layout.tokens = n;
  layout.rows = static_cast<int64_t>(row_offsets.size()) - 1;
  for (int64_t r = 0; r < layout.rows; ++r) {
    TORCH_CHECK(row_offsets[r + 1] > row_offsets[r], "attention layout: row ", r, " is empty");
    layout.max_row_length = std::max(layout.max_row_length, row_offsets[r + 1] - row_offsets[r]);
  }
  const int64_t lmax = layout.max_row_length;

  at::Tensor pad_gather = at::full({layout.rows * lmax}, n, at::kLong);
  at::Tensor unpad_index = at::empty({n}, at::kLong);
  at::Tensor allowed = at::zeros({layout.rows, 1, lmax, lmax}, at::kBool);
  auto gather = pad_gather.accessor<int64_t, 1>();
  auto unpad = unpad_index.accessor<int64_t, 1>();
  auto allow = allowed.accessor<bool, 4>();
  for (int64_t r = 0; r < layout.rows; ++r) {
    const int64_t start = row_offsets[r];
    const int64_t length = row_offsets[r + 1] - start;
    for (int64_t i = 0; i < length; ++i) {
      gather[r * lmax + i] = start + i;
      unpad[start + i] = r * lmax + i;
      const int8_t query_segment = segments[start + i];
      for (int64_t j = 0; j <= i; ++j) {
        const int8_t key_segment = segments[start + j];
        allow[r][0][i][j] = key_segment == 0 || key_segment == query_segment;
      }
    }
    // Padding queries attend to the row's first token: their outputs are dropped, and this
    // keeps softmax free of NaN (which would poison the backward pass).
    for (int64_t i = length; i < lmax; ++i) allow[r][0][i][0] = true;
  }

  layout.row_offsets = at::tensor(row_offsets, at::kLong).to(device);
  layout.segments = at::tensor(std::vector<int8_t>(segments), at::kChar).to(device);
  layout.pad_gather = pad_gather.to(device);
  layout.unpad_index = unpad_index.to(device);
  layout.allowed = allowed.to(device);
  return layout;
}

int64_t attention_allowed_pairs(const std::vector<int64_t>& row_offsets,
                                const std::vector<int8_t>& segments) {
  int64_t pairs = 0;
  for (size_t r = 0; r + 1 < row_offsets.size(); ++r) {
    TORCH_CHECK(row_offsets[r] <= row_offsets[r + 1] &&
                    row_offsets[r + 1] <= static_cast<int64_t>(segments.size()),
                "attention_allowed_pairs: row ", r, " lies outside the ", segments.size(),
                " segments");
    // Query i sees the prompt keys up to i and the keys of its own segment up to i.
    std::map<int8_t, int64_t> seen;  // keys so far per segment code, i included
    for (int64_t i = row_offsets[r]; i < row_offsets[r + 1]; ++i) {
      const int8_t code = segments[i];
      ++seen[code];
      pairs += code == 0 ? seen[0] : seen[0] + seen[code];
    }
  }
  return pairs;
}

}  // namespace omnirm::ops
