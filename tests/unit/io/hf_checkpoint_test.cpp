// Checkpoint files: a file, a sharded index and a directory resolve to their safetensors
// files (value_head.safetensors included), headers read without the data agree with the
// tensors, and bad paths, missing shards and repeated names fail with one line.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "omnirm/io/hf_checkpoint.h"
#include "support/test_support.h"

namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::user_error_of;
using omnirm::testing::write_file;

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// Two shards, an index over them and a value head.
std::string make_sharded(const std::string& label) {
  const std::string dir = make_temp_dir(label);
  omnirm::io::save_safetensors(dir + "/model-00001-of-00002.safetensors",
                               {{"model.embed_tokens.weight", at::randn({5, 4})},
                                {"model.norm.weight", at::ones({4}, at::kBFloat16)}});
  omnirm::io::save_safetensors(dir + "/model-00002-of-00002.safetensors",
                               {{"lm_head.weight", at::randn({5, 4})}});
  omnirm::io::save_safetensors(dir + "/value_head.safetensors",
                               {{"v_head.summary.weight", at::randn({1, 4})}});
  write_file(dir + "/model.safetensors.index.json",
             R"({"metadata": {"total_size": 100}, "weight_map": {
               "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
               "lm_head.weight": "model-00002-of-00002.safetensors",
               "model.norm.weight": "model-00001-of-00002.safetensors"}})");
  return dir;
}

TEST(HfCheckpoint, ResolvesFileIndexAndDirectory) {
  const std::string dir = make_sharded("hf_ckpt_resolve");
  std::vector<std::string> names;
  for (const auto& f : omnirm::io::hf_weight_files(dir)) names.push_back(file_name(f));
  EXPECT_EQ(names, (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors",
                                             "value_head.safetensors"}));
  EXPECT_EQ(omnirm::io::hf_weight_files(dir + "/model.safetensors.index.json").size(), 2u);
  EXPECT_EQ(omnirm::io::hf_weight_files(dir + "/value_head.safetensors").size(), 1u);
}

TEST(HfCheckpoint, HeadersMatchTheTensors) {
  const std::string dir = make_sharded("hf_ckpt_headers");
  const auto headers = omnirm::io::read_hf_checkpoint_headers(dir);
  const auto tensors = omnirm::io::load_hf_checkpoint(dir);
  ASSERT_EQ(headers.size(), 4u);
  ASSERT_EQ(tensors.size(), 4u);
  for (size_t i = 0; i < headers.size(); ++i) {
    EXPECT_EQ(headers[i].name, tensors[i].first);
    EXPECT_EQ(headers[i].shape, tensors[i].second.sizes().vec());
    EXPECT_EQ(headers[i].numel(), tensors[i].second.numel());
  }
  EXPECT_EQ(headers[1].dtype, "BF16");
  EXPECT_EQ(file_name(headers[3].file), "value_head.safetensors");
}

TEST(HfCheckpoint, BadInputsFailWithOneLine) {
  const std::string dir = make_sharded("hf_ckpt_bad");
  const std::string absent = user_error_of([&] { omnirm::io::hf_weight_files(dir + "/nope"); });
  EXPECT_NE(absent.find("no such file or directory"), std::string::npos) << absent;

  std::filesystem::remove(dir + "/model-00002-of-00002.safetensors");
  const std::string shard = user_error_of([&] { omnirm::io::hf_weight_files(dir); });
  EXPECT_NE(shard.find("model-00002-of-00002.safetensors"), std::string::npos) << shard;
  EXPECT_NE(shard.find("lm_head.weight"), std::string::npos) << shard;

  const std::string empty = make_temp_dir("hf_ckpt_empty");
  EXPECT_NE(user_error_of([&] { omnirm::io::hf_weight_files(empty); }).find("no .safetensors"),
            std::string::npos);

  const std::string twice = make_temp_dir("hf_ckpt_twice");
  omnirm::io::save_safetensors(twice + "/a.safetensors", {{"x", at::zeros({1})}});
  omnirm::io::save_safetensors(twice + "/b.safetensors", {{"x", at::zeros({1})}});
  const std::string repeated = user_error_of([&] { omnirm::io::load_hf_checkpoint(twice); });
  EXPECT_NE(repeated.find("'x'"), std::string::npos) << repeated;

  write_file(twice + "/broken.json", "{\"weight_map\": 3}");
  EXPECT_NE(user_error_of([&] {
              omnirm::io::hf_weight_files(twice + "/broken.json");
            }).find("weight_map"),
            std::string::npos);
}

}  // namespace
