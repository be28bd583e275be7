// Mapped safetensors reading: the same tensors as the copying reader, as views of one mapping
// that outlive the mapping object; in-place writes stay private; misaligned data is copied.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_mapping.h"
#include "support/test_support.h"

namespace {

using omnirm::io::SafetensorsMapping;
using omnirm::testing::make_temp_dir;

omnirm::io::NamedTensors every_dtype() {
  return {
      {"f32", at::randn({3, 4})},
      {"f64", at::randn({2}, at::kDouble)},
      {"bf16", at::randn({5, 2}).to(at::kBFloat16)},
      {"f16", at::randn({2, 2}).to(at::kHalf)},
      {"i64", at::arange(7, at::kLong)},
      {"i32", at::arange(-3, 3, at::kInt)},
      {"i16", at::arange(4, at::kShort)},
      {"i8", at::arange(-2, 2, at::kChar)},
      {"u8", at::arange(250, 256, at::kLong).to(at::kByte)},
      {"bool", at::tensor({1, 0, 1}, at::kLong).to(at::kBool)},
      {"scalar", at::tensor(3.5)},
      {"empty", at::zeros({0, 3})},
  };
}

TEST(SafetensorsMapping, ReadsWhatTheCopyingReaderReads) {
  const std::string path = make_temp_dir("st-map") + "/all.safetensors";
  const auto written = every_dtype();
  omnirm::io::save_safetensors(path, written, {{"format", "pt"}});
  const SafetensorsMapping mapping(path);
  const auto copied = omnirm::io::load_safetensors(path);
  const auto mapped = mapping.tensors();
  ASSERT_EQ(mapped.size(), written.size());
  EXPECT_EQ(mapping.header().metadata.at("format"), "pt");
  for (size_t i = 0; i < mapped.size(); ++i) {
    EXPECT_EQ(mapped[i].first, copied.tensors[i].first);
    EXPECT_EQ(mapped[i].second.scalar_type(), copied.tensors[i].second.scalar_type());
    EXPECT_TRUE(at::equal(mapped[i].second, copied.tensors[i].second)) << mapped[i].first;
  }
  for (const auto& [name, tensor] : written) {
    ASSERT_TRUE(mapping.contains(name));
    EXPECT_TRUE(at::equal(mapping.tensor(name), tensor)) << name;
  }
  EXPECT_FALSE(mapping.contains("nope"));
  EXPECT_NE(omnirm::testing::user_error_of([&] { mapping.tensor("nope"); }).find("'nope'"),
            std::string::npos);
}

TEST(SafetensorsMapping, TensorsViewTheMappingAndOutliveIt) {
  const std::string path = make_temp_dir("st-map-view") + "/w.safetensors";
  const at::Tensor weight = at::randn({64, 32});
  omnirm::io::save_safetensors(path, {{"w", weight}, {"b", at::randn({32})}});
  at::Tensor w, b;
  {
    const SafetensorsMapping mapping(path);
    w = mapping.tensor("w");
    b = mapping.tensor("b");
    // Both live inside one mapped region of the file's size, at their data offsets.
    const auto* w_bytes = static_cast<const char*>(w.data_ptr());
    const auto* b_bytes = static_cast<const char*>(b.data_ptr());
    const auto& infos = mapping.header().tensors;
    ASSERT_EQ(infos.size(), 2u);
    EXPECT_EQ(b_bytes - w_bytes, static_cast<ptrdiff_t>(infos[1].begin - infos[0].begin));
    EXPECT_EQ(mapping.file_size(), mapping.header().data_start + mapping.header().data_size);
  }
  EXPECT_TRUE(at::equal(w, weight));  // the mapping object is gone; the tensor keeps it alive
  EXPECT_EQ(b.numel(), 32);
}

TEST(SafetensorsMapping, InPlaceWritesNeverReachTheFile) {
  const std::string path = make_temp_dir("st-map-cow") + "/w.safetensors";
  const at::Tensor original = at::arange(16, at::kFloat);
  omnirm::io::save_safetensors(path, {{"w", original}});
  const std::string bytes_before = omnirm::testing::read_file(path);
  {
    at::Tensor view = SafetensorsMapping(path).tensor("w");
    view.mul_(-2);
    EXPECT_EQ(view[3].item<float>(), -6.0f);
  }
  EXPECT_EQ(omnirm::testing::read_file(path), bytes_before);
  EXPECT_TRUE(at::equal(SafetensorsMapping(path).tensor("w"), original));
}

TEST(SafetensorsMapping, CopiesTensorsWhoseBytesAreMisaligned) {
  // A valid file whose header length is odd puts the data at an odd offset.
  std::string header = R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  while ((8 + header.size()) % 4 != 1) header += ' ';
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  const float values[2] = {1.5f, -2.25f};
  bytes += header + std::string(reinterpret_cast<const char*>(values), sizeof(values));
  const std::string path = make_temp_dir("st-map-align") + "/odd.safetensors";
  omnirm::testing::write_file(path, bytes);
  const at::Tensor x = SafetensorsMapping(path).tensor("x");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x.data_ptr()) % alignof(float), 0u);
  EXPECT_EQ(x[0].item<float>(), 1.5f);
  EXPECT_EQ(x[1].item<float>(), -2.25f);
  EXPECT_TRUE(at::equal(x, omnirm::io::load_safetensors(path).tensors[0].second));
}

TEST(SafetensorsMapping, WriterRefusesDuplicateNames) {
  const std::string path = make_temp_dir("st-dup-write") + "/d.safetensors";
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::io::save_safetensors(path, {{"a", at::ones({1})}, {"a", at::ones({1})}});
            }).find("'a' is used twice"),
            std::string::npos);
}

}  // namespace
