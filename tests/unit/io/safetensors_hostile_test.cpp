// Hostile safetensors files and checkpoint indexes, built here byte by byte: each is refused
// by the copying reader, the mapped reader and the checkpoint reader with a UserError whose
// one line names the file and the problem; none crashes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/io/safetensors_mapping.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::make_temp_dir;
using omnirm::testing::write_file;

std::string length_prefix(uint64_t size) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(size >> (8 * i));
  return bytes;
}

class HostileSafetensors : public ::testing::Test {
 protected:
  // Writes `name` = length prefix (the header's own length unless `declared` is given),
  // the header text, then `data_bytes` bytes of data.
  std::string file(const std::string& name, const std::string& header, size_t data_bytes,
                   uint64_t declared = UINT64_MAX) {
    const std::string path = dir_ + "/" + name + ".safetensors";
    write_file(path, length_prefix(declared == UINT64_MAX ? header.size() : declared) + header +
                         std::string(data_bytes, '\x01'));
    return path;
  }

  // A one-tensor header: {"a": <entry>}.
  std::string one(const std::string& name, const std::string& entry, size_t data_bytes) {
    return file(name, R"({"a": )" + entry + "}", data_bytes);
  }

  // Every reader refuses `path` with a message naming it and containing `fragment`.
  static void expect_refused(const std::string& path, const std::string& fragment) {
    const auto check = [&](const char* reader, const std::function<void()>& read) {
      const std::string message = omnirm::testing::user_error_of(read);
      EXPECT_NE(message.find(fragment), std::string::npos)
          << reader << " on " << path << ": " << message;
      EXPECT_NE(message.find(path), std::string::npos) << reader << ": " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << reader << ": " << message;
    };
    check("copying reader", [&] { omnirm::io::load_safetensors(path); });
    check("mapped reader", [&] { omnirm::io::SafetensorsMapping mapping(path); });
    check("checkpoint reader", [&] { omnirm::io::read_safetensors_checkpoint(path); });
  }

  std::string dir_ = make_temp_dir("st-hostile-files");
};

TEST_F(HostileSafetensors, RefusesBadLengthPrefixes) {
  write_file(dir_ + "/empty.safetensors", "");
  expect_refused(dir_ + "/empty.safetensors", "not a safetensors file");
  write_file(dir_ + "/short.safetensors", "abc");
  expect_refused(dir_ + "/short.safetensors", "not a safetensors file");
  expect_refused(file("beyond", "{}", 0, 3), "exceeds the file");
  expect_refused(file("huge", "{}", 0, 1ull << 63), "exceeds the file");
  expect_refused(file("max", "{}", 0, UINT64_MAX - 1), "exceeds the file");
  expect_refused(file("zero", "", 0, 0), "too short for a JSON object");
  // A header longer than the cap inside a (sparse) file long enough to hold it.
  const uint64_t over_cap = omnirm::io::kMaxSafetensorsHeaderBytes + 1;
  const std::string big = file("over-cap", "{}", 0, over_cap);
  fs::resize_file(big, 8 + over_cap + 16);
  expect_refused(big, "-byte limit");
}

TEST_F(HostileSafetensors, RefusesMalformedJson) {
  expect_refused(file("invalid", R"({"a": {"dtype": "F32",)", 0), "not valid JSON");
  expect_refused(file("binary", std::string("\xff\xfe\x00{", 4), 0), "not valid JSON");
  expect_refused(file("array", "[1, 2]", 0), "not a JSON object");
  expect_refused(file("string", R"("abc")", 0), "not a JSON object");
  expect_refused(file("deep", std::string(4000, '[') + std::string(4000, ']'), 0),
                 "not a JSON object");
}

TEST_F(HostileSafetensors, RefusesWrongTypes) {
  expect_refused(one("entry-number", "7", 0), "entry needs dtype, shape and two data_offsets");
  expect_refused(one("dtype-number", R"({"dtype": 1, "shape": [1], "data_offsets": [0, 4]})", 4),
                 "entry needs dtype");
  expect_refused(
      one("shape-string", R"({"dtype": "F32", "shape": "1", "data_offsets": [0, 4]})", 4),
      "entry needs dtype");
  expect_refused(
      one("three-offsets", R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]})", 4),
      "two data_offsets");
  expect_refused(one("no-offsets", R"({"dtype": "F32", "shape": [1]})", 4), "data_offsets");
  expect_refused(
      one("offset-string", R"({"dtype": "F32", "shape": [1], "data_offsets": ["0", 4]})", 4),
      "data_offsets must be non-negative integers");
  expect_refused(
      one("float-dim", R"({"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]})", 10),
      "non-negative integers");
  expect_refused(file("metadata-number", R"({"__metadata__": {"format": 1}})", 0),
                 "__metadata__ value 'format' must be a string");
  expect_refused(file("metadata-array", R"({"__metadata__": [1]})", 0),
                 "__metadata__ is not an object");
}

TEST_F(HostileSafetensors, RefusesUnknownDtypes) {
  expect_refused(one("q4", R"({"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]})", 1),
                 "unsupported dtype 'Q4'");
  expect_refused(one("lower", R"({"dtype": "f32", "shape": [1], "data_offsets": [0, 4]})", 4),
                 "unsupported dtype 'f32'");
}

TEST_F(HostileSafetensors, RefusesOffsetsOutsideTheData) {
  expect_refused(one("past-end", R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})", 8),
                 "fall outside the 8 data bytes");
  expect_refused(one("reversed", R"({"dtype": "F32", "shape": [1], "data_offsets": [8, 4]})", 8),
                 "fall outside");
  expect_refused(one("huge-offset",
                     R"({"dtype": "U8", "shape": [1], "data_offsets": [18446744073709551614, )"
                     R"(18446744073709551615]})",
                     1),
                 "fall outside");
  // The header is intact but the file was cut short in the data.
  const std::string whole =
      one("truncated", R"({"dtype": "F32", "shape": [8], "data_offsets": [0, 32]})", 32);
  fs::resize_file(whole, fs::file_size(whole) - 5);
  expect_refused(whole, "truncated");
}

TEST_F(HostileSafetensors, RefusesOverlapsAndGaps) {
  expect_refused(file("overlap",
                      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                      12),
                 "'a' and 'b' overlap");
  expect_refused(file("same-bytes",
                      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}})",
                      8),
                 "overlap");
  expect_refused(file("gap",
                      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                          "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                      12),
                 "4 unused data bytes before tensor 'b'");
  expect_refused(one("leading-gap", R"({"dtype": "F32", "shape": [1], "data_offsets": [4, 8]})", 8),
                 "unused data bytes before tensor 'a'");
  expect_refused(one("trailing", R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})", 12),
                 "8 data bytes after the last tensor");
}

TEST_F(HostileSafetensors, RefusesShapesThatDisagreeWithTheirBytes) {
  expect_refused(one("mismatch", R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 16]})", 16),
                 "shape needs 12 bytes but data_offsets span 16");
  expect_refused(
      one("bf16-mismatch", R"({"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 16]})", 16),
      "shape needs 8 bytes");
  expect_refused(one("negative", R"({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]})", 4),
                 "non-negative");
  expect_refused(one("overflow",
                     R"({"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], )"
                     R"("data_offsets": [0, 4]})",
                     4),
                 "too large");
  // The element count wraps to a small number in uint64 arithmetic; the check must not.
  expect_refused(one("wraps",
                     R"({"dtype": "U8", "shape": [4294967296, 4294967296], )"
                     R"("data_offsets": [0, 0]})",
                     0),
                 "too large");
  // Zero elements, yet the strides torch would compute overflow int64.
  expect_refused(one("zero-overflow",
                     R"({"dtype": "F32", "shape": [0, 4611686018427387904, 8], )"
                     R"("data_offsets": [0, 0]})",
                     0),
                 "too large");
  expect_refused(one("dim-beyond-int64",
                     R"({"dtype": "F32", "shape": [0, 9223372036854775808], )"
                     R"("data_offsets": [0, 0]})",
                     0),
                 "too large");
}

TEST_F(HostileSafetensors, RefusesDuplicateNames) {
  expect_refused(file("duplicate",
                      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                          "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                      8),
                 "names 'a' twice");
  expect_refused(
      one("duplicate-field",
          R"({"dtype": "F32", "dtype": "F16", "shape": [1], "data_offsets": [0, 4]})", 4),
      "names 'dtype' twice");
}

TEST_F(HostileSafetensors, RefusesWhatIsNotAFile) {
  const std::string missing = dir_ + "/missing.safetensors";
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::load_safetensors(missing);
            }).find("cannot open " + missing),
            std::string::npos);
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::SafetensorsMapping m(missing);
            }).find("cannot open " + missing),
            std::string::npos);
  const std::string folder = dir_ + "/folder.safetensors";
  fs::create_directories(folder);
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::SafetensorsMapping m(folder);
            }).find("not a regular file"),
            std::string::npos);
}

// A two-shard checkpoint written by the writer, then damaged one way per test.
class HostileIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    omnirm::io::save_safetensors_sharded(
        dir_, {{"a", at::ones({4})}, {"b", at::ones({4})}, {"c", at::ones({4})}}, 32);
    ASSERT_TRUE(fs::exists(index_));
    ASSERT_TRUE(fs::exists(dir_ + "/model-00002-of-00002.safetensors"));
  }

  void write_index(const std::string& weight_map) {
    write_file(index_, R"({"metadata": {"total_size": 48}, "weight_map": )" + weight_map + "}");
  }

  void expect_refused(const std::string& fragment) {
    for (const std::string& path : {dir_, index_}) {
      const std::string message =
          omnirm::testing::user_error_of([&] { omnirm::io::read_safetensors_checkpoint(path); });
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
      EXPECT_NE(message.find(dir_), std::string::npos) << message;
    }
  }

  std::string dir_ = make_temp_dir("st-hostile-index");
  std::string index_ = dir_ + "/model.safetensors.index.json";
  const std::string first_ = "model-00001-of-00002.safetensors";
  const std::string second_ = "model-00002-of-00002.safetensors";
};

TEST_F(HostileIndex, RefusesAMissingShard) {
  fs::remove(dir_ + "/" + second_);
  expect_refused("puts 'c' in " + second_ + ", which does not exist");
}

TEST_F(HostileIndex, RefusesATensorInTheWrongShard) {
  write_index(R"({"a": ")" + first_ + R"(", "b": ")" + second_ + R"(", "c": ")" + second_ +
              R"("})");
  expect_refused("puts 'b' in " + second_ + " but it is in " + first_);
}

TEST_F(HostileIndex, RefusesAListedTensorNoShardHolds) {
  write_index(R"({"a": ")" + first_ + R"(", "b": ")" + first_ + R"(", "c": ")" + second_ +
              R"(", "d": ")" + second_ + R"("})");
  expect_refused("puts 'd' in " + second_ + ", which does not hold it");
}

TEST_F(HostileIndex, RefusesAnUnlistedTensor) {
  write_index(R"({"a": ")" + first_ + R"(", "c": ")" + second_ + R"("})");
  expect_refused("holds tensor 'b', which");
}

TEST_F(HostileIndex, RefusesATensorInTwoShards) {
  omnirm::io::save_safetensors(dir_ + "/" + second_, {{"a", at::ones({4})}, {"c", at::ones({4})}});
  expect_refused("'a' is in both " + first_ + " and " + second_);
}

TEST_F(HostileIndex, RefusesShardNamesOutsideTheDirectory) {
  write_index(R"({"a": "../model-00001-of-00002.safetensors"})");
  expect_refused("shards must be plain file names");
  write_index(R"({"a": "/etc/passwd"})");
  expect_refused("shards must be plain file names");
}

TEST_F(HostileIndex, RefusesMalformedIndexes) {
  write_file(index_, "{\"weight_map\": ");
  expect_refused("not a JSON object");
  write_file(index_, R"({"metadata": {}})");
  expect_refused("needs a \"weight_map\" object");
  write_index(R"({"a": 3})");
  expect_refused("weight_map['a'] must be a file name string");
}

TEST_F(HostileIndex, RefusesADamagedShard) {
  const std::string shard = dir_ + "/" + second_;
  fs::resize_file(shard, fs::file_size(shard) - 3);
  expect_refused(shard);
}

}  // namespace
