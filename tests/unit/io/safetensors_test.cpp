// safetensors: round trip of every stored dtype, and hostile files refused with a clear error.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors.h"
#include "support/test_support.h"

namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::write_file;

// A file with the given JSON header and `data_bytes` zero bytes of data.
std::string hostile_file(const std::string& dir, const std::string& header, size_t data_bytes,
                         uint64_t declared_header_size = 0) {
  std::string bytes(8, '\0');
  const uint64_t size = declared_header_size ? declared_header_size : header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(size >> (8 * i));
  bytes += header + std::string(data_bytes, '\0');
  const std::string path = dir + "/hostile-" +
                           std::to_string(std::hash<std::string>{}(header + std::to_string(size))) +
                           ".safetensors";
  write_file(path, bytes);
  return path;
}

void expect_refused(const std::string& path, const std::string& fragment) {
  try {
    omnirm::io::load_safetensors(path);
    FAIL() << "accepted a bad file; expected: " << fragment;
  } catch (const omnirm::UserError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RoundTripsEveryDtype) {
  const std::string path = make_temp_dir("st") + "/a.safetensors";
  omnirm::io::NamedTensors tensors = {
      {"f32", at::randn({3, 4})},
      {"bf16", at::randn({5}).to(at::kBFloat16)},
      {"f16", at::randn({2, 2}).to(at::kHalf)},
      {"i64", at::arange(7, at::kLong)},
      {"scalar", at::tensor(3.5)},
      {"empty", at::zeros({0, 3})},
  };
  omnirm::io::save_safetensors(path, tensors, {{"format", "pt"}});
  const auto file = omnirm::io::load_safetensors(path);
  ASSERT_EQ(file.tensors.size(), tensors.size());
  EXPECT_EQ(file.metadata.at("format"), "pt");
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(file.tensors[i].first, tensors[i].first);
    EXPECT_TRUE(at::equal(file.tensors[i].second, tensors[i].second)) << tensors[i].first;
  }
}

TEST(Safetensors, RefusesHostileFiles) {
  const std::string dir = make_temp_dir("st-hostile");
  write_file(dir + "/short.safetensors", "abc");
  expect_refused(dir + "/short.safetensors", "not a safetensors file");
  expect_refused(hostile_file(dir, "{}", 0, 1ull << 40), "exceeds the file");
  expect_refused(hostile_file(dir, "[1, 2]", 0), "not a JSON object");
  expect_refused(
      hostile_file(dir, R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
      "fall outside");
  expect_refused(
      hostile_file(dir, R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})", 16),
      "shape needs 12 bytes");
  expect_refused(hostile_file(dir, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                       "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                              16),
                 "overlap");
  expect_refused(
      hostile_file(dir, R"({"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}})", 1),
      "unsupported dtype");
  expect_refused(
      hostile_file(dir, R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4),
      "non-negative");
  expect_refused(
      hostile_file(
          dir,
          R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}})",
          4),
      "too large");
  expect_refused(dir + "/missing.safetensors", "cannot open");
}

}  // namespace
