// Packing pairs: the pair-prefix row [prompt | chosen | rejected] with rejected positions
// restarting at P, the naive two-row layout, reward indices and token counts.
#include <gtest/gtest.h>

#include "omnirm/data/pair_batch.h"

namespace {

using omnirm::data::pack_pairs;
using omnirm::data::PairBatch;
using omnirm::text::PairTokens;

TEST(PairBatch, PairPrefixRowRestartsRejectedPositions) {
  const PairTokens a{{1, 2, 3}, {4, 5}, {6}};
  const PairTokens b{{7}, {8}, {9, 10}};
  const PairBatch batch = pack_pairs({&a, &b}, {0.5f, 0.0f}, true);
  EXPECT_EQ(batch.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 3, 0, 1, 1, 2}));
  EXPECT_EQ(batch.segments, (std::vector<int8_t>{0, 0, 0, 1, 1, 2, 0, 1, 2, 2}));
  EXPECT_EQ(batch.row_offsets, (std::vector<int64_t>{0, 6, 10}));
  EXPECT_EQ(batch.chosen_last, (std::vector<int64_t>{4, 7}));
  EXPECT_EQ(batch.rejected_last, (std::vector<int64_t>{5, 9}));
  EXPECT_EQ(batch.data_tokens, 10);
  EXPECT_EQ(batch.pairs(), 2);
  EXPECT_EQ(batch.max_row_length(), 6);
  EXPECT_EQ(batch.margins, (std::vector<float>{0.5f, 0.0f}));
}

TEST(PairBatch, NaiveLayoutRepeatsThePrompt) {
  const PairTokens a{{1, 2, 3}, {4, 5}, {6}};
  const PairBatch batch = pack_pairs({&a}, {0.0f}, false);
  EXPECT_EQ(batch.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 1, 2, 3, 6}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 0, 1, 2, 3}));
  EXPECT_EQ(batch.row_offsets, (std::vector<int64_t>{0, 5, 9}));
  EXPECT_EQ(batch.chosen_last, (std::vector<int64_t>{4}));
  EXPECT_EQ(batch.rejected_last, (std::vector<int64_t>{8}));
  EXPECT_EQ(batch.data_tokens, 6);  // the data is the same, the work is not
  EXPECT_EQ(batch.tokens_in_batch(), 9);
}

TEST(PairBatch, RejectsEmptyResponsesAndMissingMargins) {
  const PairTokens empty{{1}, {}, {2}};
  EXPECT_THROW(pack_pairs({&empty}, {0.0f}, true), std::invalid_argument);
  const PairTokens ok{{1}, {2}, {3}};
  EXPECT_THROW(pack_pairs({&ok}, {}, true), std::invalid_argument);
}

}  // namespace
