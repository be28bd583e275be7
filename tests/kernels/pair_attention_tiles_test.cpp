// Host-side parts of the CUDA pair-attention kernels, run wherever they are built (no GPU
// needed): the tile classification that decides which (query tile, key tile) pairs are skipped
// or need no mask, checked against the element-wise mask rule on random and pair-prefix
// layouts; the summary size; and the parameter checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#ifdef OMNIRM_WITH_CUDA
#include "pair_attention.h"
#include "pair_attention_tiles.h"
#endif

namespace {

#ifdef OMNIRM_WITH_CUDA

using pair_attention::TileKind;

struct Rows {
  std::vector<int64_t> offsets = {0};
  std::vector<int8_t> segments;

  void add(const std::vector<std::pair<int8_t, int>>& runs) {
    for (const auto& [code, count] : runs) {
      segments.insert(segments.end(), count, code);
    }
    offsets.push_back(static_cast<int64_t>(segments.size()));
  }
};

struct TileCounts {
  int skipped = 0;
  int full = 0;
  int masked = 0;
};

// Classifies every (query tile, key tile) pair of every row with tiles of the given sizes
// aligned to the row start, bits ORed from 64-token summary entries as the kernels do, and
// checks each verdict against the mask rule element by element.
TileCounts check_classification(const Rows& rows, int query_tile, int key_tile) {
  TileCounts counts;
  for (size_t r = 0; r + 1 < rows.offsets.size(); ++r) {
    const int64_t start = rows.offsets[r];
    const int64_t length = rows.offsets[r + 1] - start;
    const int8_t* seg = rows.segments.data() + start;
    std::vector<uint8_t> summary(pair_attention::summary_tiles_per_row(length), 0);
    for (int64_t i = 0; i < length; ++i) {
      summary[i / pair_attention::kSummaryTile] |= pair_attention::segment_bit(seg[i]);
    }
    const auto bits = [&](int64_t begin, int64_t end) {
      uint8_t value = 0;
      for (int64_t e = begin / pair_attention::kSummaryTile;
           e * pair_attention::kSummaryTile < end && e < static_cast<int64_t>(summary.size());
           ++e) {
        value |= summary[e];
      }
      return value;
    };
    for (int64_t q0 = 0; q0 < length; q0 += query_tile) {
      for (int64_t k0 = 0; k0 < length; k0 += key_tile) {
        const TileKind kind =
            pair_attention::classify_tile(q0, q0 + query_tile, k0, k0 + key_tile, length,
                                          bits(q0, q0 + query_tile), bits(k0, k0 + key_tile));
        int64_t allowed = 0;
        int64_t pairs = 0;
        for (int64_t i = q0; i < std::min(length, q0 + query_tile); ++i) {
          for (int64_t j = k0; j < std::min(length, k0 + key_tile); ++j) {
            ++pairs;
            allowed += j <= i && (seg[j] == 0 || seg[j] == seg[i]) ? 1 : 0;
          }
        }
        const std::string where = "row " + std::to_string(r) + " queries " + std::to_string(q0) +
                                  " keys " + std::to_string(k0);
        if (kind == TileKind::kSkip) {
          EXPECT_EQ(allowed, 0) << where << ": skipped but " << allowed << " pairs are allowed";
          ++counts.skipped;
        } else if (kind == TileKind::kFull) {
          EXPECT_EQ(allowed, query_tile * key_tile) << where << ": unmasked but not all allowed";
          ++counts.full;
        } else {
          ++counts.masked;
        }
      }
    }
  }
  return counts;
}

// Pair-prefix rows long enough for whole tiles of chosen tokens, plus plain causal rows.
TEST(PairAttentionTiles, PairPrefixRowsSkipTheOtherResponse) {
  Rows rows;
  rows.add({{0, 130}, {1, 300}, {2, 200}});
  rows.add({{0, 256}, {1, 128}, {2, 128}});
  rows.add({{0, 301}});
  rows.add({{0, 33}, {1, 64}});
  for (const auto& [query_tile, key_tile] :
       std::vector<std::pair<int, int>>{{128, 64}, {64, 128}, {64, 64}}) {
    const TileCounts counts = check_classification(rows, query_tile, key_tile);
    // Rejected query tiles never visit key tiles made only of chosen tokens.
    EXPECT_GT(counts.skipped, 0) << query_tile << "x" << key_tile;
    EXPECT_GT(counts.full, 0) << query_tile << "x" << key_tile;
    EXPECT_GT(counts.masked, 0) << query_tile << "x" << key_tile;
  }
  // P=256, C=128, R=128 in 64x64 tiles (query tiles 0-3 prompt, 4-5 chosen, 6-7 rejected):
  // only the 8 diagonal tiles need the mask; below the diagonal, prompt queries see earlier
  // prompt tiles (0+1+2+3), chosen queries the 4 prompt tiles and earlier chosen ones (4, 4+1),
  // rejected queries likewise (4, 4+1) while skipping both chosen tiles.
  Rows one;
  one.add({{0, 256}, {1, 128}, {2, 128}});
  const TileCounts counts = check_classification(one, 64, 64);
  EXPECT_EQ(counts.masked, 8);
  EXPECT_EQ(counts.full, (0 + 1 + 2 + 3) + (4 + 5) + (4 + 5));
  EXPECT_EQ(counts.skipped, 64 - 8 - 24);
}

// Random rows with runs of random codes (unknown ones included) and odd lengths.
TEST(PairAttentionTiles, RandomSegmentsNeverSkipAnAllowedPair) {
  std::mt19937 random(17);
  const std::vector<int8_t> codes = {0, 1, 2, 3, 9, -1};
  for (int trial = 0; trial < 40; ++trial) {
    Rows rows;
    for (int r = 0; r < 3; ++r) {
      std::vector<std::pair<int8_t, int>> runs;
      const int run_count = 1 + static_cast<int>(random() % 5);
      for (int i = 0; i < run_count; ++i) {
        runs.emplace_back(codes[random() % codes.size()], 1 + static_cast<int>(random() % 150));
      }
      rows.add(runs);
    }
    check_classification(rows, 128, 64);
    check_classification(rows, 64, 128);
    if (::testing::Test::HasFailure()) {
      FAIL() << "trial " << trial;
    }
  }
}

TEST(PairAttentionTiles, SummaryEntries) {
  EXPECT_EQ(pair_attention_summary_entries(1), 1);
  EXPECT_EQ(pair_attention_summary_entries(64), 1);
  EXPECT_EQ(pair_attention_summary_entries(65), 2);
  EXPECT_EQ(pair_attention_summary_entries(4096), 64);
}

// Parameters that pass, then one broken field at a time: each is refused with a message
// naming the field. Pointers are never dereferenced by the check.
TEST(PairAttentionParams, ProblemsNameTheField) {
  alignas(16) static char memory[64];
  PairAttentionParams valid;
  valid.num_tokens = 10;
  valid.num_rows = 2;
  valid.max_row_length = 6;
  valid.num_heads = 4;
  valid.num_kv_heads = 2;
  valid.head_dim = 128;
  valid.softmax_scale = 0.088f;
  valid.dtype = PairAttentionDtype::kBFloat16;
  valid.row_offsets = reinterpret_cast<const int64_t*>(memory);
  valid.segments = reinterpret_cast<const int8_t*>(memory);
  valid.tile_summary = reinterpret_cast<uint8_t*>(memory);
  valid.query = valid.key = valid.value = memory;
  valid.output = memory;
  valid.logsumexp = reinterpret_cast<float*>(memory);
  EXPECT_EQ(pair_attention_params_problem(valid, false), nullptr);
  EXPECT_NE(pair_attention_params_problem(valid, true), nullptr) << "backward pointers missing";
  PairAttentionParams with_grads = valid;
  with_grads.grad_output = memory;
  with_grads.grad_output_dot = reinterpret_cast<float*>(memory);
  with_grads.grad_query_accum = reinterpret_cast<float*>(memory);
  with_grads.grad_query = with_grads.grad_key = with_grads.grad_value = memory;
  EXPECT_EQ(pair_attention_params_problem(with_grads, true), nullptr);

  const auto problem_with = [&](auto change) {
    PairAttentionParams params = valid;
    change(params);
    const char* problem = pair_attention_params_problem(params, false);
    return std::string(problem == nullptr ? "" : problem);
  };
  EXPECT_NE(problem_with([](auto& p) { p.head_dim = 96; }).find("head_dim"), std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.num_kv_heads = 3; }).find("num_kv_heads"),
            std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.num_rows = 0; }).find("num_rows"), std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.max_row_length = 11; }).find("max_row_length"),
            std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.softmax_scale = 0.0f; }).find("softmax_scale"),
            std::string::npos);
  EXPECT_NE(
      problem_with([](auto& p) { p.dtype = static_cast<PairAttentionDtype>(7); }).find("dtype"),
      std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.segments = nullptr; }).find("segments"),
            std::string::npos);
  EXPECT_NE(problem_with([](auto& p) { p.key = memory + 2; }).find("aligned"), std::string::npos);
  // The kernels' entry points refuse such parameters before touching the device.
  PairAttentionParams broken = valid;
  broken.head_dim = 80;
  EXPECT_EQ(pair_attention_forward(broken), cudaErrorInvalidValue);
  EXPECT_EQ(pair_attention_backward(valid), cudaErrorInvalidValue);
}

#else

TEST(PairAttentionTiles, NeedsTheCudaBuild) {
  GTEST_SKIP() << "built without CUDA: the pair-attention kernels do not exist";
}

#endif  // OMNIRM_WITH_CUDA

}  // namespace
