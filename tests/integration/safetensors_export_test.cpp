// `omnirm export --max-shard-size` writes the weights as HF shards plus an index that read
// back to exactly the single-file export and score the same pairs alike; a bad size is a one-line
// usage error; `omnirm bench load` reads the shards mapped and copied and finds the same bytes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/io/safetensors_mapping.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;

class ShardedExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(omnirm::testing::make_temp_dir("sharded-export"));
    ASSERT_EQ(omnirm::testing::make_tiny_run_dir(*dir_, omnirm::testing::TinyRun{}), "");
    const CommandResult trained =
        run_command(omnirm_binary() + " train -c " + *dir_ +
                    "/tiny.yaml --set train.output_dir=" + *dir_ + "/run --set train.max_steps=2");
    ASSERT_EQ(trained.exit_code, 0) << trained.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static CommandResult export_to(const std::string& name, const std::string& extra) {
    return run_command(omnirm_binary() + " export -m " + *dir_ + "/run -o " + *dir_ + "/" + name +
                       " " + extra);
  }
  static std::string* dir_;
};

std::string* ShardedExport::dir_ = nullptr;

TEST_F(ShardedExport, ShardsReadBackAsTheSingleFile) {
  const CommandResult single = export_to("single", "");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const CommandResult sharded = export_to("sharded", "--max-shard-size 4KB");
  ASSERT_EQ(sharded.exit_code, 0) << sharded.output;

  EXPECT_TRUE(fs::exists(*dir_ + "/single/model.safetensors"));
  EXPECT_FALSE(fs::exists(*dir_ + "/single/model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(*dir_ + "/sharded/model.safetensors"));
  ASSERT_TRUE(fs::exists(*dir_ + "/sharded/model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(*dir_ + "/sharded/value_head.safetensors"));
  EXPECT_TRUE(fs::exists(*dir_ + "/sharded/config.json"));

  const auto whole = omnirm::io::read_safetensors_checkpoint(*dir_ + "/single");
  const auto shards = omnirm::io::read_safetensors_checkpoint(*dir_ + "/sharded");
  EXPECT_GE(shards.files.size(), 2u);
  EXPECT_EQ(shards.tensor_bytes, whole.tensor_bytes);
  for (const std::string& file : shards.files) {
    const omnirm::io::SafetensorsMapping shard(file);
    // Over the limit only when one tensor alone is.
    if (shard.header().tensors.size() > 1) {
      EXPECT_LE(shard.header().data_size, 4000u) << file;
    }
  }
  ASSERT_EQ(shards.tensors.size(), whole.tensors.size());
  std::map<std::string, at::Tensor> by_name(shards.tensors.begin(), shards.tensors.end());
  for (const auto& [name, tensor] : whole.tensors) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_TRUE(at::equal(by_name[name], tensor)) << name;
  }
}

TEST_F(ShardedExport, AShardedExportScoresLikeTheSingleFile) {
  ASSERT_EQ(export_to("single-scored", "").exit_code, 0);
  ASSERT_EQ(export_to("sharded-scored", "--max-shard-size 4KB").exit_code, 0);
  const std::string pairs = *dir_ + "/data/eval.jsonl";
  const CommandResult single =
      run_command(omnirm_binary() + " score -m " + *dir_ + "/single-scored -i " + pairs);
  const CommandResult sharded =
      run_command(omnirm_binary() + " score -m " + *dir_ + "/sharded-scored -i " + pairs);
  ASSERT_EQ(single.exit_code, 0) << single.output;
  ASSERT_EQ(sharded.exit_code, 0) << sharded.output;
  EXPECT_NE(single.output.find("reward_chosen"), std::string::npos);
  EXPECT_EQ(single.output, sharded.output);
}

TEST_F(ShardedExport, RefusesABadShardSize) {
  const CommandResult bad = export_to("bad", "--max-shard-size 5XB");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--max-shard-size: cannot read '5XB' as a size"), std::string::npos)
      << bad.output;
  EXPECT_FALSE(fs::exists(*dir_ + "/bad"));
}

TEST_F(ShardedExport, BenchLoadFindsTheSameBytesMappedAndCopied) {
  const std::string checkpoint = *dir_ + "/bench-checkpoint";
  const CommandResult bench = run_command(
      omnirm_binary() + " bench load " + checkpoint +
      " --synthesize fp32 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 "
      "--vocab 1000 --max-shard-size 100KB");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("checksums agree"), std::string::npos) << bench.output;
  EXPECT_NE(bench.output.find("mapped"), std::string::npos) << bench.output;
  EXPECT_NE(bench.output.find("copied"), std::string::npos) << bench.output;
  EXPECT_TRUE(fs::exists(checkpoint + "/model.safetensors.index.json"));
  // Embedding 1000x64 fp32 = 256000 bytes: a shard of its own over the 100KB limit.
  const auto read = omnirm::io::read_safetensors_checkpoint(checkpoint);
  EXPECT_EQ(read.tensors.size(), 1u + 2 * 12 + 2);
}

}  // namespace
