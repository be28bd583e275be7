// cuDNN's benchmark mode is asked for only on CUDA devices and only for models whose vision or
// audio stems see fixed shapes; on the CPU nothing changes.
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "omnirm/model/cudnn_tuning.h"

namespace omnirm::model {
namespace {

TEST(CudnnTuning, OnlyForTowersWithConvolutionStems) {
  ModelConfig text_only;
  EXPECT_FALSE(tower_stems_have_fixed_shapes(text_only));
  ModelConfig vision = text_only;
  vision.vision_layers = 1;
  EXPECT_TRUE(tower_stems_have_fixed_shapes(vision));
  ModelConfig audio = text_only;
  audio.audio_layers = 1;
  EXPECT_TRUE(tower_stems_have_fixed_shapes(audio));
  ModelConfig points = text_only;
  points.point_layers = 1;  // the point tower has no convolution
  EXPECT_FALSE(tower_stems_have_fixed_shapes(points));
}

TEST(CudnnTuning, NeverOnTheCpu) {
  ModelConfig vision;
  vision.vision_layers = 1;
  const bool before = at::globalContext().benchmarkCuDNN();
  EXPECT_FALSE(use_cudnn_autotuning(vision, at::Device(at::kCPU)));
  EXPECT_EQ(at::globalContext().benchmarkCuDNN(), before);
}

}  // namespace
}  // namespace omnirm::model
