// train.device: cpu is the CPU; auto is the GPU of the process's LOCAL_RANK when GPUs exist,
// else the CPU; cuda without a GPU is a one-line error naming the key.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "omnirm/core/error.h"
#include "omnirm/train/trainer.h"

namespace {

using omnirm::train::training_device;

TEST(TrainingDevice, FollowsTheSettingAndTheGpusPresent) {
  EXPECT_EQ(training_device("cpu", 3), at::Device(at::kCPU));
  const auto gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (gpus == 0) {
    EXPECT_EQ(training_device("auto", 0), at::Device(at::kCPU));
    try {
      training_device("cuda", 0);
      ADD_FAILURE() << "cuda without a GPU was accepted";
    } catch (const omnirm::UserError& error) {
      EXPECT_NE(std::string(error.what()).find("train.device"), std::string::npos);
    }
  } else {
    EXPECT_EQ(training_device("auto", 1), at::Device(at::kCUDA, 1 % gpus));
    EXPECT_EQ(training_device("cuda", gpus), at::Device(at::kCUDA, 0));
  }
}

}  // namespace
