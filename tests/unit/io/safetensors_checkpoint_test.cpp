// Sharded checkpoints: shard sizes respect the limit, names and index follow the HF layout,
// and every form (directory, index, single file; mapped or copied) reads the same tensors.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/io/safetensors_mapping.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::io::TensorStorage;
using omnirm::testing::make_temp_dir;

// Tensors of assorted sizes and dtypes, 1 KB to 8 KB each.
omnirm::io::NamedTensors layered_weights() {
  omnirm::io::NamedTensors tensors;
  for (int layer = 0; layer < 4; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    tensors.emplace_back(prefix + "q.weight", at::randn({32, 64}));                    // 8192 B
    tensors.emplace_back(prefix + "norm.weight", at::randn({512}).to(at::kBFloat16));  // 1024 B
    tensors.emplace_back(prefix + "k.weight", at::randn({16, 64}).to(at::kHalf));      // 2048 B
  }
  tensors.emplace_back("score.weight", at::randn({1, 512}));  // 2048 B
  return tensors;
}

uint64_t bytes_of(const at::Tensor& t) { return t.numel() * t.element_size(); }

void expect_same(const omnirm::io::NamedTensors& read, const omnirm::io::NamedTensors& written) {
  ASSERT_EQ(read.size(), written.size());
  std::map<std::string, at::Tensor> by_name(read.begin(), read.end());
  for (const auto& [name, tensor] : written) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_EQ(by_name[name].scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(at::equal(by_name[name], tensor)) << name;
  }
}

TEST(SafetensorsCheckpoint, ShardsStayUnderTheLimitAndIndexThem) {
  const std::string dir = make_temp_dir("st-shards");
  const auto weights = layered_weights();
  const uint64_t limit = 12000;
  const auto files = omnirm::io::save_safetensors_sharded(dir, weights, limit, {{"format", "pt"}});
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.back(), "model.safetensors.index.json");
  const size_t shard_count = files.size() - 1;
  EXPECT_EQ(files.front(), fmt::format("model-00001-of-{:05d}.safetensors", shard_count));
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors"));

  std::ifstream index_file(dir + "/model.safetensors.index.json");
  const nlohmann::json index = nlohmann::json::parse(index_file);
  uint64_t total = 0;
  for (const auto& [name, tensor] : weights) total += bytes_of(tensor);
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);
  ASSERT_EQ(index["weight_map"].size(), weights.size());
  for (size_t shard = 0; shard < shard_count; ++shard) {
    const omnirm::io::SafetensorsMapping mapping(dir + "/" + files[shard]);
    EXPECT_LE(mapping.header().data_size, limit) << files[shard];
    EXPECT_GT(mapping.header().data_size, 0u);
    EXPECT_EQ(mapping.header().metadata.at("format"), "pt");
    for (const auto& info : mapping.header().tensors) {
      EXPECT_EQ(index["weight_map"][info.name], files[shard]) << info.name;
    }
  }
}

TEST(SafetensorsCheckpoint, EveryEntryPointReadsTheSameTensors) {
  const std::string dir = make_temp_dir("st-shards-read");
  const auto weights = layered_weights();
  omnirm::io::save_safetensors_sharded(dir, weights, 10000);
  for (const auto storage : {TensorStorage::mapped, TensorStorage::copied}) {
    for (const std::string& path : {dir, dir + "/model.safetensors.index.json"}) {
      const auto checkpoint = omnirm::io::read_safetensors_checkpoint(path, storage);
      expect_same(checkpoint.tensors, weights);
      EXPECT_GE(checkpoint.files.size(), 3u);
      uint64_t total = 0;
      for (const auto& [name, tensor] : weights) total += bytes_of(tensor);
      EXPECT_EQ(checkpoint.tensor_bytes, total);
    }
  }
}

TEST(SafetensorsCheckpoint, OneShardIsAPlainModelFile) {
  const std::string dir = make_temp_dir("st-one-shard");
  const auto weights = layered_weights();
  const auto files =
      omnirm::io::save_safetensors_sharded(dir, weights, omnirm::io::kDefaultMaxShardBytes);
  ASSERT_EQ(files, std::vector<std::string>{"model.safetensors"});
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors.index.json"));
  for (const std::string& path : {dir, dir + "/model.safetensors"}) {
    const auto checkpoint = omnirm::io::read_safetensors_checkpoint(path);
    expect_same(checkpoint.tensors, weights);
    EXPECT_EQ(checkpoint.files.size(), 1u);
  }
}

TEST(SafetensorsCheckpoint, ATensorOverTheLimitGetsAShardOfItsOwn) {
  const std::string dir = make_temp_dir("st-big-tensor");
  const omnirm::io::NamedTensors weights = {
      {"small.a", at::ones({10})}, {"big", at::ones({1000})}, {"small.b", at::ones({10})}};
  const auto files = omnirm::io::save_safetensors_sharded(dir, weights, 100);
  ASSERT_EQ(files.size(), 4u);  // small.a | big | small.b | index
  const omnirm::io::SafetensorsMapping middle(dir + "/" + files[1]);
  ASSERT_EQ(middle.header().tensors.size(), 1u);
  EXPECT_EQ(middle.header().tensors[0].name, "big");
  expect_same(omnirm::io::read_safetensors_checkpoint(dir).tensors, weights);
}

TEST(SafetensorsCheckpoint, RefusesDirectoriesWithoutACheckpoint) {
  const std::string dir = make_temp_dir("st-no-ckpt");
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::read_safetensors_checkpoint(dir);
            }).find("holds neither model.safetensors.index.json nor model.safetensors"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::read_safetensors_checkpoint(dir + "/nothing.json");
            }).find("no such safetensors file"),
            std::string::npos);
}

TEST(ByteSize, ReadsHfStyleSizes) {
  EXPECT_EQ(omnirm::io::parse_byte_size("5GB", "--max-shard-size"), 5'000'000'000u);
  EXPECT_EQ(omnirm::io::parse_byte_size("500MB", "x"), 500'000'000u);
  EXPECT_EQ(omnirm::io::parse_byte_size("2GiB", "x"), 2u << 30);
  EXPECT_EQ(omnirm::io::parse_byte_size("1.5kb", "x"), 1500u);
  EXPECT_EQ(omnirm::io::parse_byte_size("123", "x"), 123u);
  EXPECT_EQ(omnirm::io::parse_byte_size("64 KiB", "x"), 65536u);
  for (const char* bad : {"", "GB", "5XB", "-5GB", "0", "1.2.3MB", "99999999999TB"}) {
    const std::string message = omnirm::testing::user_error_of(
        [&] { omnirm::io::parse_byte_size(bad, "--max-shard-size"); });
    EXPECT_NE(message.find("--max-shard-size"), std::string::npos) << bad << ": " << message;
  }
}

}  // namespace
