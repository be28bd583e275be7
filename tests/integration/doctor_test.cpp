// `omnirm doctor`: one screen of the build's features, the devices, the kernel self-tests and
// the media decoders; with a config, exit 1 naming what the run needs and lacks (here: a CUDA
// device, or fused kernels the CPU does not have), 0 when everything is here.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "support/test_support.h"

namespace {

using omnirm::testing::CommandResult;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether `text` has a line "  LABEL   value..." whose value starts with `value`.
bool has_row(const std::string& text, const std::string& label, const std::string& value) {
  return std::regex_search(text, std::regex("\\n  " + label + " +" + value));
}

TEST(Doctor, DescribesTheBuildAndTheMachine) {
  const CommandResult result = run_command(omnirm_binary() + " doctor");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* line : {"LibTorch", "CUDA kernels", "cuDNN", "NCCL", "Gloo", "media decoding",
                           "devices", "cpu", "kernel self-tests"}) {
    EXPECT_TRUE(has(result.output, line)) << line << "\n" << result.output;
  }
  EXPECT_TRUE(has(result.output, "FFmpeg (libavformat ")) << result.output;
  EXPECT_TRUE(has_row(result.output, "Gloo", "yes")) << result.output;
}

TEST(Doctor, AConfigThatFitsTheMachineIsOk) {
  const CommandResult result =
      run_command(omnirm_binary() + " doctor --set train.device=cpu --set model.vision_layers=1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(has(result.output, "everything this run needs is here")) << result.output;
}

TEST(Doctor, ExitsOneNamingWhatTheRunLacks) {
  if (has(run_command(omnirm_binary() + " doctor").output, "cuda:0")) {
    GTEST_SKIP() << "a CUDA device is present: the run this test describes would fit";
  }
  const CommandResult result = run_command(
      omnirm_binary() + " doctor --set train.device=cuda --set model.attention_backend=cuda");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(has_row(result.output, "MISSING", "train.device: cuda")) << result.output;
  EXPECT_TRUE(has(result.output, "model.attention_backend: cuda")) << result.output;
}

}  // namespace
