// The MiniCPM-o path's media against the reference pipeline's (tests/fixtures/minicpmo/, from
// tools/make_minicpmo_fixtures.py: MiniCPM-o-2.6's image processor and processor after
// LLaMA-Factory's MiniCPM-V plugin):
//   slice plans  — the grid and every slice's size of each image, exactly;
//   area cap     — the plugin's nearest-neighbour shrink of an image above 768² pixels, byte
//                  for byte (against Pillow's Image.NEAREST result, stored as PNG);
//   slice pixels — the normalised pixels of every slice (Pillow's bicubic, then
//                  (v / 255 − 0.5) / 0.5), bit for bit on the same PNG files: the resize is a
//                  port of Pillow's fixed-point resampler, so no tolerance is needed;
//   audio mel    — Whisper features of each clip on its zero-padded 30 s window, cut to
//                  ceil(samples / 160) frames, within 1e-4 (omnirm computes in float64, the
//                  reference's WhisperFeatureExtractor in float32).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/io/safetensors.h"
#include "omnirm/media/audio.h"
#include "omnirm/media/image.h"
#include "omnirm/media/image_slices.h"
#include "omnirm/media/log_mel.h"

namespace {

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

struct Reference {
  nlohmann::json cases;
  std::map<std::string, nlohmann::json> records;  // id → pair record
  std::map<std::string, at::Tensor> tensors;

  at::Tensor tensor(const std::string& key_chosen, const std::string& key_side) const {
    auto found = tensors.find(key_side);
    if (found == tensors.end()) found = tensors.find(key_chosen);
    return found == tensors.end() ? at::Tensor() : found->second;
  }

  // The media files of one sequence, in token order: the prompt's, then the response's.
  std::vector<std::string> media(const std::string& case_id, const std::string& side,
                                 const std::string& type) const {
    std::vector<std::string> paths;
    const nlohmann::json& record = records.at(case_id);
    for (const auto& turn : record["prompt"])
      for (const auto& part : turn["content"])
        if (part["type"] == type) paths.push_back(fixture(part["path"].get<std::string>()));
    for (const auto& part : record[side]["content"])
      if (part["type"] == type) paths.push_back(fixture(part["path"].get<std::string>()));
    return paths;
  }
};

const Reference& reference() {
  static const Reference* loaded = [] {
    auto* r = new Reference;
    std::ifstream in(fixture("reference.json"));
    r->cases = nlohmann::json::parse(in)["cases"];
    std::ifstream pairs(fixture("pairs.jsonl"));
    for (std::string line; std::getline(pairs, line);) {
      const nlohmann::json record = nlohmann::json::parse(line);
      r->records[record["id"].get<std::string>()] = record;
    }
    for (auto& [key, value] :
         omnirm::io::load_safetensors(fixture("reference.safetensors")).tensors)
      r->tensors[key] = value;
    return r;
  }();
  return *loaded;
}

omnirm::media::SliceOptions fixture_slicing() {
  omnirm::media::SliceOptions options;
  options.max_slices = 9;
  options.resolution = 56;  // the fixture's scale_resolution
  options.patch = 14;
  return options;
}

TEST(MinicpmoMedia, SlicePlansMatchTheImageProcessorsGridAndSizes) {
  const Reference& r = reference();
  int images = 0;
  for (const auto& [case_id, sides] : r.cases.items()) {
    for (const char* side : {"chosen", "rejected"}) {
      const nlohmann::json& seq = sides[side];
      if (!seq.contains("grids")) continue;
      const auto sizes = seq["image_sizes"].get<std::vector<std::vector<int>>>();
      const auto grids = seq["grids"].get<std::vector<std::vector<int>>>();
      const auto tgt = seq["tgt_sizes"].get<std::vector<std::vector<int>>>();
      size_t slice = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        SCOPED_TRACE(case_id + "/" + side + " image " + std::to_string(i));
        const omnirm::media::SlicePlan plan =
            omnirm::media::plan_slices(sizes[i][0], sizes[i][1], fixture_slicing());
        EXPECT_EQ(plan.grid_cols, grids[i][0]);
        EXPECT_EQ(plan.grid_rows, grids[i][1]);
        // tgt_sizes are (rows, cols) of patches: the source slice, then the grid's slices.
        EXPECT_EQ(plan.source_height, tgt[slice][0] * 14);
        EXPECT_EQ(plan.source_width, tgt[slice][1] * 14);
        ++slice;
        for (int s = 0; s < plan.grid_cols * plan.grid_rows; ++s, ++slice) {
          ASSERT_LT(slice, tgt.size());
          EXPECT_EQ(plan.refine_height / plan.grid_rows, tgt[slice][0] * 14);
          EXPECT_EQ(plan.refine_width / plan.grid_cols, tgt[slice][1] * 14);
        }
        ++images;
      }
      EXPECT_EQ(slice, tgt.size());
    }
  }
  EXPECT_GE(images, 12);
}

TEST(MinicpmoMedia, AreaCapShrinksAsPillowsNearestDoes) {
  const omnirm::media::Image large = omnirm::media::decode_image(fixture("media/large.png"));
  const omnirm::media::Image expected =
      omnirm::media::decode_image(fixture("media/large_capped.png"));
  const omnirm::media::Image capped = omnirm::media::cap_image_area(large, 768 * 768);
  ASSERT_EQ(capped.width, expected.width);
  ASSERT_EQ(capped.height, expected.height);
  size_t differing = 0;
  for (size_t i = 0; i < capped.pixels.size(); ++i)
    differing += capped.pixels[i] != expected.pixels[i];
  EXPECT_EQ(differing, 0u) << "of " << capped.pixels.size() << " bytes";
  // Below the cap an image is left as it is.
  EXPECT_EQ(omnirm::media::cap_image_area(expected, 768 * 768).pixels, expected.pixels);
}

TEST(MinicpmoMedia, SlicePixelsMatchTheReferenceBitForBit) {
  const Reference& r = reference();
  double worst = 0.0;
  int slices = 0;
  for (const auto& [case_id, sides] : r.cases.items()) {
    for (const char* side : {"chosen", "rejected"}) {
      if (!sides[side].contains("tgt_sizes")) continue;
      int index = 0;
      for (const std::string& path : r.media(case_id, side, "image")) {
        const omnirm::media::ImageSlices got =
            omnirm::media::slice_image(omnirm::media::decode_image(path), fixture_slicing());
        for (size_t s = 0; s < got.values.size(); ++s, ++index) {
          const std::string suffix = "/pixels/" + std::to_string(index);
          const at::Tensor expected =
              r.tensor(case_id + "/chosen" + suffix, case_id + "/" + side + suffix);
          ASSERT_TRUE(expected.defined()) << case_id << suffix;
          const at::Tensor mine =
              at::from_blob(const_cast<float*>(got.values[s].data()), got.shapes[s], at::kFloat);
          ASSERT_EQ(mine.sizes(), expected.sizes()) << case_id << suffix;
          worst = std::max(worst, (mine - expected).abs().max().item<double>());
          ++slices;
        }
      }
    }
  }
  std::printf("[minicpmo] slice pixels max |diff| %.3g over %d slices\n", worst, slices);
  EXPECT_GE(slices, 40);
  EXPECT_EQ(worst, 0.0);
}

TEST(MinicpmoMedia, WhisperWindowFeaturesMatchTheProcessors) {
  const Reference& r = reference();
  double worst = 0.0;
  int clips = 0;
  for (const auto& [case_id, sides] : r.cases.items()) {
    for (const char* side : {"chosen", "rejected"}) {
      int index = 0;
      for (const std::string& path : r.media(case_id, side, "audio")) {
        const omnirm::media::Audio audio = omnirm::media::decode_audio(path);
        const std::string suffix = "/audio_mel/" + std::to_string(index++);
        const at::Tensor expected =
            r.tensor(case_id + "/chosen" + suffix, case_id + "/" + side + suffix);
        if (!expected.defined()) continue;  // long clips keep only their embeddings
        const omnirm::media::LogMel mel = omnirm::media::whisper_window_log_mel(audio.samples);
        ASSERT_EQ(mel.num_frames, expected.size(1)) << path;
        const at::Tensor mine = at::from_blob(const_cast<float*>(mel.values.data()),
                                              {mel.n_mels, mel.num_frames}, at::kFloat);
        worst = std::max(worst, (mine - expected).abs().max().item<double>());
        ++clips;
      }
    }
  }
  std::printf("[minicpmo] whisper window features max |diff| %.3g over %d clips\n", worst, clips);
  EXPECT_GE(clips, 3);
  EXPECT_LT(worst, 1e-4);
}

TEST(MinicpmoMedia, WhisperWindowRefusesEmptyAndOverlongChunks) {
  EXPECT_THROW(omnirm::media::whisper_window_log_mel({}), std::invalid_argument);
  EXPECT_THROW(omnirm::media::whisper_window_log_mel(std::vector<float>(30 * 16000 + 1)),
               std::invalid_argument);
  const omnirm::media::LogMel one = omnirm::media::whisper_window_log_mel(std::vector<float>(161));
  EXPECT_EQ(one.num_frames, 2);  // ceil(161 / 160)
}

}  // namespace
