// Motion-energy maps: their sign follows the direction of motion on each axis, still images
// give zeros, and the channel count follows the tubelet length. (The vision tower that uses
// them is tested with the other towers in media_towers_test.cpp.)
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "omnirm/model/motion_energy.h"

namespace {

using namespace omnirm::model;

// [3, side, side]: a light background with a dark 5 x 5 square whose top-left corner is (x, y).
at::Tensor frame_with_square(int64_t side, int64_t x, int64_t y) {
  at::Tensor frame = at::full({3, side, side}, 0.8f);
  frame.narrow(1, y, 5).narrow(2, x, 5).fill_(-0.6f);
  return frame;
}

// [1, 6, 16, 16]: the square at (x, y), then moved by (dx, dy).
at::Tensor moving_square(int64_t x, int64_t y, int64_t dx, int64_t dy) {
  return at::cat({frame_with_square(16, x, y), frame_with_square(16, x + dx, y + dy)}, 0)
      .unsqueeze(0);
}

// Each map summed over the image: [x, y].
std::pair<float, float> totals(const at::Tensor& maps) {
  return {maps[0][0].sum().item<float>(), maps[0][1].sum().item<float>()};
}

TEST(MotionEnergy, SignFollowsTheDirectionOnEachAxis) {
  const auto [right_x, right_y] = totals(motion_energy(moving_square(4, 5, 2, 0), 2));
  const auto [left_x, left_y] = totals(motion_energy(moving_square(8, 5, -2, 0), 2));
  const auto [down_x, down_y] = totals(motion_energy(moving_square(5, 4, 0, 2), 2));
  const auto [up_x, up_y] = totals(motion_energy(moving_square(5, 8, 0, -2), 2));
  EXPECT_GT(right_x, 1.0f);
  EXPECT_LT(left_x, -1.0f);
  EXPECT_GT(down_y, 1.0f);
  EXPECT_LT(up_y, -1.0f);
  // Motion along one axis leaves the other axis' map summing to zero.
  EXPECT_NEAR(right_y, 0.0f, 1e-4f * right_x);
  EXPECT_NEAR(left_y, 0.0f, 1e-4f * -left_x);
  EXPECT_NEAR(down_x, 0.0f, 1e-4f * down_y);
  EXPECT_NEAR(up_x, 0.0f, 1e-4f * -up_y);
  // The same distance either way gives the same energy, opposite in sign.
  EXPECT_NEAR(right_x, -left_x, 1e-3f * right_x);
}

TEST(MotionEnergy, ARampShiftedSidewaysGivesTheScaledFlowNumerator) {
  // Every channel holds k·x; shifted right by d it holds k·(x − d). Inside the image the mean's
  // x gradient is k and the change −k·d, so the x map is g·3·k²·d (three channels) and the
  // y map 0.
  const float k = 0.1f;
  const float d = 2.0f;
  const at::Tensor ramp = at::arange(16, at::kFloat).mul(k).expand({3, 16, 16});
  const at::Tensor tubelet = at::cat({ramp, ramp - k * d}, 0).unsqueeze(0);
  const at::Tensor maps = motion_energy(tubelet, 2);
  const float expected = static_cast<float>(kMotionEnergyGain) * 3 * k * k * d;
  const at::Tensor inside_x = maps[0][0].narrow(1, 1, 14);
  EXPECT_NEAR(inside_x.min().item<float>(), expected, 1e-5f);
  EXPECT_NEAR(inside_x.max().item<float>(), expected, 1e-5f);
  EXPECT_EQ(maps[0][0].select(1, 0).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(maps[0][1].abs().max().item<float>(), 0.0f);
}

TEST(MotionEnergy, StillImagesGiveZeros) {
  const at::Tensor still = moving_square(4, 4, 0, 0);
  EXPECT_EQ(motion_energy(still, 2).abs().max().item<float>(), 0.0f);
}

TEST(MotionEnergy, ChannelsFollowTheTubeletLength) {
  EXPECT_EQ(motion_energy_channels(1), 0);
  EXPECT_EQ(motion_energy_channels(2), 2);
  EXPECT_EQ(motion_energy_channels(4), 6);
  const at::Tensor three = at::rand({2, 9, 8, 8}) * 2 - 1;
  EXPECT_EQ(motion_energy(three, 3).sizes(), (std::vector<int64_t>{2, 4, 8, 8}));
  EXPECT_EQ(motion_energy(at::rand({2, 3, 8, 8}), 1).sizes(), (std::vector<int64_t>{2, 0, 8, 8}));
  EXPECT_THROW(motion_energy(at::rand({2, 6, 8, 8}), 3), c10::Error);
  // The second pair of a three-frame tubelet: frame 1 → 2 moves right, frame 0 → 1 is still.
  const at::Tensor frames = at::cat({frame_with_square(16, 4, 5), frame_with_square(16, 4, 5),
                                     frame_with_square(16, 6, 5)},
                                    0)
                                .unsqueeze(0);
  const at::Tensor maps = motion_energy(frames, 3);
  EXPECT_EQ(maps[0][0].abs().max().item<float>(), 0.0f);
  EXPECT_GT(maps[0][2].sum().item<float>(), 1.0f);
}

}  // namespace
