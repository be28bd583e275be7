// The flat layout of ZeRO sharding: units in order of first appearance, decaying parameters
// first, one unit per storage type, padding to a multiple of the world size, shards that tile
// the padded buffer, and pieces that name parameter ranges independent of the world size.
#include <gtest/gtest.h>

#include "omnirm/dist/flat_layout.h"

namespace {

using omnirm::dist::FlatRange;
using omnirm::dist::ParamSpec;

std::vector<ParamSpec> specs() {
  return {{"embed", {5, 2}, at::kBFloat16, "root", true, false},
          {"layers.0.w", {3, 2}, at::kBFloat16, "layers.0", true, true},
          {"layers.0.b", {3}, at::kBFloat16, "layers.0", false, true},
          {"layers.1.b", {2}, at::kBFloat16, "layers.1", false, true},
          {"layers.1.w", {2, 3}, at::kBFloat16, "layers.1", true, true},
          {"norm", {2}, at::kBFloat16, "root", false, false},
          {"head", {1, 2}, at::kFloat, "root", true, false}};
}

TEST(FlatLayout, UnitsKeepOrderDecayFirstAndSplitByType) {
  const auto units = omnirm::dist::make_flat_units(specs());
  ASSERT_EQ(units.size(), 4u);
  EXPECT_EQ(units[0].name, "root");
  EXPECT_EQ(units[1].name, "layers.0");
  EXPECT_EQ(units[2].name, "layers.1");
  EXPECT_EQ(units[3].name, "root.Float");  // the fp32 head in a unit of its own
  EXPECT_FALSE(units[0].block);
  EXPECT_TRUE(units[1].block);
  EXPECT_EQ(units[3].dtype, at::kFloat);
  // layers.1: the matrix (decays) before the bias although the bias came first.
  ASSERT_EQ(units[2].params.size(), 2u);
  EXPECT_EQ(units[2].params[0].index, 4u);
  EXPECT_EQ(units[2].params[0].offset, 0);
  EXPECT_EQ(units[2].params[1].index, 3u);
  EXPECT_EQ(units[2].params[1].offset, 6);
  EXPECT_EQ(units[2].decay_numel, 6);
  EXPECT_EQ(units[2].numel, 8);
  EXPECT_EQ(units[0].numel, 12);
  EXPECT_EQ(units[0].decay_numel, 10);
}

TEST(FlatLayout, ShardsTileThePaddedBufferAndPiecesNameParameterRanges) {
  const auto units = omnirm::dist::make_flat_units(specs());
  const auto& root = units[0];  // 12 elements
  for (int64_t world : {1, 2, 3, 4, 5}) {
    const int64_t padded = root.padded_numel(world);
    EXPECT_EQ(padded % world, 0);
    EXPECT_GE(padded, root.numel);
    EXPECT_LT(padded - root.numel, world);
    int64_t next = 0, covered = 0;
    for (int64_t rank = 0; rank < world; ++rank) {
      const FlatRange shard = root.shard(rank, world);
      EXPECT_EQ(shard.begin, next);
      next = shard.end;
      for (const auto& piece : omnirm::dist::pieces_in(root, shard)) {
        covered += piece.param_end - piece.param_begin;
      }
    }
    EXPECT_EQ(next, padded);
    EXPECT_EQ(covered, root.numel) << "world " << world;  // padding is in no piece
  }
  // Rank 1 of 5: elements [3, 6) of the root: embed's elements 3..5.
  const auto pieces = omnirm::dist::pieces_in(root, root.shard(1, 5));
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].param, 0u);
  EXPECT_EQ(pieces[0].param_begin, 3);
  EXPECT_EQ(pieces[0].param_end, 6);
  // A range across two parameters: embed's last two and norm's first.
  const auto across = omnirm::dist::pieces_in(root, FlatRange{8, 11});
  ASSERT_EQ(across.size(), 2u);
  EXPECT_EQ(across[0].param, 0u);
  EXPECT_EQ(across[0].param_begin, 8);
  EXPECT_EQ(across[1].param, 5u);
  EXPECT_EQ(across[1].param_begin, 0);
  EXPECT_EQ(across[1].param_end, 1);
  EXPECT_EQ(across[1].flat_begin, 10);
}

}  // namespace
