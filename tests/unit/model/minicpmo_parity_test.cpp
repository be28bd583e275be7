// Parity of the MiniCPM-o path (model.arch minicpmo) with the reference pipeline: a tiny
// random MiniCPM-o run by MiniCPM-o-2.6's own modeling code after LLaMA-Factory's minicpm_o
// template and MiniCPM-V plugin (tests/fixtures/minicpmo/, written by
// tools/make_minicpmo_fixtures.py). omnirm builds the model from the fixture's config.json,
// loads its MiniCPM-o checkpoint and value head, and is fed the reference's token ids, slice
// pixels and audio mel features (the media-side parity of those inputs is tested in
// tests/unit/media/minicpmo_media_test.cpp and minicpmo_video_test.cpp, the token layout in
// tests/unit/data/minicpmo_layout_test.cpp). Compared, each within 1e-4 in fp32:
//   SigLIP    — every slice's NaViT features (real patches), video frames included;
//   resampler — the 64 query rows of a sequence's first and last slice;
//   audio     — the projected, pooled audio rows of every chunk;
//   LLM       — the final-norm hidden state at the read token (the "\n" after <|im_end|>);
//   reward    — v_head.summary at that token.
// Each test prints the largest absolute difference it observed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/media_splice.h"
#include "omnirm/model/minicpmo_positions.h"
#include "omnirm/model/reward_model.h"

namespace {

constexpr double kTolerance = 1e-4;

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

struct Fixture {
  omnirm::ModelConfig config;
  omnirm::model::RewardModel model{nullptr};
  nlohmann::json reference;
  std::map<std::string, at::Tensor> tensors;
  omnirm::data::MinicpmoTokenIds ids;

  // The tensor of a case/side/what, or the chosen side's when the rejected side shares it.
  at::Tensor tensor(const std::string& case_id, const std::string& side,
                    const std::string& what) const {
    auto found = tensors.find(case_id + "/" + side + "/" + what);
    if (found == tensors.end()) found = tensors.find(case_id + "/chosen/" + what);
    return found == tensors.end() ? at::Tensor() : found->second;
  }
  // The tensor stored under `side` itself (no fallback to the chosen side's).
  at::Tensor own_tensor(const std::string& case_id, const std::string& side,
                        const std::string& what) const {
    auto found = tensors.find(case_id + "/" + side + "/" + what);
    return found == tensors.end() ? at::Tensor() : found->second;
  }
};

Fixture& fixture_model() {
  static Fixture* loaded = [] {
    auto* f = new Fixture;
    f->config = omnirm::io::load_hf_model_config(fixture("config.json"));
    f->model = omnirm::model::RewardModel(f->config, f->config.vocab_size);
    f->model->eval();
    const omnirm::model::HfLoadReport report =
        omnirm::model::load_hf_weights(*f->model, omnirm::io::load_hf_checkpoint(fixture("")));
    EXPECT_TRUE(report.missing.empty() && report.unexpected.empty()) << report.summary();
    std::ifstream in(fixture("reference.json"));
    f->reference = nlohmann::json::parse(in);
    for (auto& [key, value] :
         omnirm::io::load_safetensors(fixture("reference.safetensors")).tensors)
      f->tensors[key] = value;
    // The special tokens' ids in the fixture's tokenizer.json.
    std::ifstream tokenizer(fixture("tokenizer.json"));
    const nlohmann::json vocab = nlohmann::json::parse(tokenizer);
    std::map<std::string, int32_t> added;
    for (const auto& token : vocab["added_tokens"])
      added[token["content"].get<std::string>()] = token["id"].get<int32_t>();
    f->ids = {added.at("<unk>"),        added.at("<image>"),  added.at("</image>"),
              added.at("<slice>"),      added.at("</slice>"), added.at("<|audio_start|>"),
              added.at("<|audio_end|>")};
    return f;
  }();
  return *loaded;
}

// One sequence (prompt + one response) of a case as the model's inputs.
omnirm::model::ModelInputs sequence_inputs(const Fixture& f, const std::string& case_id,
                                           const std::string& side) {
  const nlohmann::json& seq = f.reference["cases"][case_id][side];
  const std::vector<int32_t> ids = seq["input_ids"].get<std::vector<int32_t>>();
  const auto n = static_cast<int64_t>(ids.size());
  omnirm::model::ModelInputs in;
  in.tokens = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
  in.positions = at::arange(n, at::kLong);
  in.layout =
      omnirm::ops::make_attention_layout({0, n}, std::vector<int8_t>(ids.size(), 0), at::kCPU);
  in.chosen_last = at::tensor(std::vector<int64_t>{n - 1}, at::kLong);
  in.rejected_last = in.chosen_last;
  in.margins = at::zeros({1});
  const omnirm::data::MinicpmoSlots slots = omnirm::data::minicpmo_slots(ids, f.ids);
  if (seq.contains("tgt_sizes")) {
    const auto grids = seq["tgt_sizes"].get<std::vector<std::vector<int64_t>>>();
    int64_t most = 0;
    for (const auto& g : grids) most = std::max(most, g[0] * g[1]);
    const int64_t p = f.config.patch_size;
    at::Tensor patches = at::zeros({int64_t(grids.size()), most, 3 * p * p});
    for (size_t i = 0; i < grids.size(); ++i) {
      const at::Tensor pixels = f.tensor(case_id, side, "pixels/" + std::to_string(i));
      patches[i]
          .narrow(0, 0, grids[i][0] * grids[i][1])
          .copy_(omnirm::model::image_patches(pixels, p));
    }
    in.media.slice_patches = patches;
    std::vector<int64_t> flat;
    for (const auto& g : grids) flat.insert(flat.end(), g.begin(), g.end());
    in.media.slice_grids = at::tensor(flat, at::kLong).view({-1, 2});
    in.media.slice_slots = at::tensor(slots.vision, at::kLong);
  }
  if (!slots.audio.empty()) {
    for (int i = 0;; ++i) {
      const at::Tensor mel = f.tensor(case_id, side, "audio_mel/" + std::to_string(i));
      if (!mel.defined()) break;
      in.media.audio_chunks.push_back(mel);
    }
    in.media.audio_chunk_slots = at::tensor(slots.audio, at::kLong);
  }
  return in;
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

std::vector<std::string> case_ids(const Fixture& f) {
  std::vector<std::string> ids;
  for (const auto& item : f.reference["cases"].items()) ids.push_back(item.key());
  return ids;
}

// Cases whose media inputs the fixture holds (long clips keep only their embeddings).
bool inputs_complete(const Fixture& f, const std::string& case_id) {
  const nlohmann::json& seq = f.reference["cases"][case_id]["chosen"];
  if (!seq.contains("audio_samples")) return true;
  for (int64_t samples : seq["audio_samples"].get<std::vector<int64_t>>())
    if ((samples + 159) / 160 > 1000) return false;
  return true;
}

TEST(MinicpmoParity, FixtureConfigBuildsTheMinicpmoPathAndEveryTensorLoads) {
  Fixture& f = fixture_model();
  EXPECT_EQ(f.config.arch, "minicpmo");
  EXPECT_EQ(f.config.image_size / f.config.patch_size, 70);  // SigLIP's position table side
  EXPECT_EQ(f.config.slice_resolution, 56);
  EXPECT_EQ(f.config.slice_max, 9);
  EXPECT_EQ(f.config.image_tokens, 64);
  EXPECT_EQ(f.config.audio_chunk_seconds, 1.0);
  EXPECT_GT(f.config.vision_layers, 0);
  EXPECT_GT(f.config.audio_layers, 0);
}

TEST(MinicpmoParity, SiglipAndResamplerFeaturesOfEverySliceMatch) {
  Fixture& f = fixture_model();
  at::NoGradGuard no_grad;
  double worst_siglip = 0.0, worst_resampler = 0.0;
  int compared = 0;
  auto& encoder = f.model->media_encoder();
  for (const std::string& case_id : case_ids(f)) {
    for (const char* side : {"chosen", "rejected"}) {
      const nlohmann::json& seq = f.reference["cases"][case_id][side];
      if (!seq.contains("tgt_sizes")) continue;
      const omnirm::model::ModelInputs in = sequence_inputs(f, case_id, side);
      const omnirm::model::MediaFeatures features = encoder.forward(in.media);
      const auto grids = seq["tgt_sizes"].get<std::vector<std::vector<int64_t>>>();
      const int64_t q = f.config.image_tokens;
      // The fixture keeps the first and last slice's rows of each side, a rejected side's only
      // where they differ from the chosen side's: the chosen side's stand in for them only when
      // both sides hold the same slices (their media are the prompt's).
      const bool shares_chosen =
          seq["tgt_sizes"] == f.reference["cases"][case_id]["chosen"]["tgt_sizes"];
      for (size_t i = 0; i < grids.size(); ++i) {
        const std::string what = "resampler/" + std::to_string(i);
        const at::Tensor expected =
            shares_chosen ? f.tensor(case_id, side, what) : f.own_tensor(case_id, side, what);
        if (!expected.defined()) continue;
        worst_resampler = std::max(
            worst_resampler, max_diff(features.slices.narrow(0, int64_t(i) * q, q), expected));
        ++compared;
      }
    }
  }
  // SigLIP alone: the tower's output per slice against the reference's.
  for (const std::string& case_id : case_ids(f)) {
    const nlohmann::json& seq = f.reference["cases"][case_id]["chosen"];
    if (!seq.contains("tgt_sizes")) continue;
    const omnirm::model::ModelInputs in = sequence_inputs(f, case_id, "chosen");
    const auto grids = seq["tgt_sizes"].get<std::vector<std::vector<int64_t>>>();
    for (size_t i = 0; i < grids.size(); ++i) {
      const int64_t h = grids[i][0], w = grids[i][1];
      auto* tower = f.model->named_children()["vision_tower"]->as<omnirm::model::VisionTower>();
      ASSERT_NE(tower, nullptr);
      const at::Tensor patches = in.media.slice_patches[i].narrow(0, 0, h * w).unsqueeze(0);
      const at::Tensor positions = omnirm::model::navit_position_ids(h, w, 70).unsqueeze(0);
      const at::Tensor out =
          tower->forward_patches(patches, positions, at::ones({1, h * w}, at::kBool));
      worst_siglip =
          std::max(worst_siglip,
                   max_diff(out[0], f.tensor(case_id, "chosen", "siglip/" + std::to_string(i))));
    }
  }
  std::printf("[minicpmo] SigLIP max |diff| %.3g, resampler max |diff| %.3g over %d slices\n",
              worst_siglip, worst_resampler, compared);
  EXPECT_GT(compared, 10);
  EXPECT_LT(worst_siglip, kTolerance);
  EXPECT_LT(worst_resampler, kTolerance);
}

TEST(MinicpmoParity, AudioEmbeddingsOfEveryChunkMatch) {
  Fixture& f = fixture_model();
  at::NoGradGuard no_grad;
  double worst = 0.0;
  int compared = 0;
  for (const std::string& case_id : case_ids(f)) {
    if (!inputs_complete(f, case_id)) continue;
    for (const char* side : {"chosen", "rejected"}) {
      const omnirm::model::ModelInputs in = sequence_inputs(f, case_id, side);
      if (in.media.audio_chunks.empty()) continue;
      const at::Tensor rows = f.model->media_encoder().forward(in.media).audio_chunks;
      int64_t offset = 0;
      for (int i = 0;; ++i) {
        const at::Tensor expected = f.tensor(case_id, side, "audio_embeds/" + std::to_string(i));
        if (!expected.defined()) break;
        worst = std::max(worst, max_diff(rows.narrow(0, offset, expected.size(0)), expected));
        offset += expected.size(0);
        ++compared;
      }
      EXPECT_EQ(offset, rows.size(0));
    }
  }
  std::printf("[minicpmo] audio embeddings max |diff| %.3g over %d chunks\n", worst, compared);
  EXPECT_GE(compared, 3);
  EXPECT_LT(worst, kTolerance);
}

TEST(MinicpmoParity, HiddenStateAndRewardOfEverySequenceMatch) {
  Fixture& f = fixture_model();
  at::NoGradGuard no_grad;
  double worst_hidden = 0.0, worst_reward = 0.0;
  int compared = 0;
  for (const std::string& case_id : case_ids(f)) {
    if (!inputs_complete(f, case_id)) continue;
    for (const char* side : {"chosen", "rejected"}) {
      const omnirm::model::ModelInputs in = sequence_inputs(f, case_id, side);
      const omnirm::model::RewardOutput out = f.model->forward(in);
      const double expected = f.reference["cases"][case_id][side]["reward"].get<double>();
      worst_reward = std::max(worst_reward, std::abs(out.chosen.item<double>() - expected));
      ++compared;
      SCOPED_TRACE(case_id + "/" + side);
      EXPECT_NEAR(out.chosen.item<double>(), expected, kTolerance);
    }
  }
  // The hidden state at the read token, for one sequence of each kind.
  for (const char* case_id :
       {"t2t_no_criteria", "image_nine_slices", "audio_3s", "t2i", "video_prompt", "t2v"}) {
    const omnirm::model::ModelInputs in = sequence_inputs(f, case_id, "rejected");
    auto& backbone = f.model->backbone();
    at::Tensor embeds = backbone.embed(in.tokens);
    embeds =
        omnirm::model::splice_media(embeds, in.media, f.model->media_encoder().forward(in.media));
    const at::Tensor hidden = backbone.forward_embeds(embeds, in.positions, in.layout,
                                                      omnirm::ops::AttentionBackend::reference);
    worst_hidden = std::max(worst_hidden, max_diff(hidden[hidden.size(0) - 1],
                                                   f.tensor(case_id, "rejected", "hidden")));
  }
  std::printf("[minicpmo] LLM hidden max |diff| %.3g, reward max |diff| %.3g over %d sequences\n",
              worst_hidden, worst_reward, compared);
  EXPECT_GE(compared, 30);
  EXPECT_LT(worst_hidden, kTolerance);
}

// The recipe's frozen parts as the fork freezes them: SigLIP, the resampler and Whisper, but
// not the audio projector (MiniCPM-o's audio_projection_layer is outside the fork's
// --freeze_vision_tower list).
TEST(MinicpmoParity, FrozenTowersLeaveTheAudioProjectorTrainable) {
  omnirm::ModelConfig config = omnirm::io::load_hf_model_config(fixture("config.json"));
  config.freeze_vision = true;
  config.freeze_audio = true;
  omnirm::model::RewardModel model(config, config.vocab_size);
  int trainable_projector = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool trainable = item.value().requires_grad();
    if (name.rfind("audio_tower.audio_projection_layer.", 0) == 0) {
      EXPECT_TRUE(trainable) << name;
      ++trainable_projector;
    } else if (name.rfind("vision_tower.", 0) == 0 || name.rfind("resampler.", 0) == 0 ||
               name.rfind("audio_tower.", 0) == 0) {
      EXPECT_FALSE(trainable) << name;
    } else {
      EXPECT_TRUE(trainable) << name;
    }
  }
  EXPECT_EQ(trainable_projector, 4);
}

// What omnirm exports of a minicpmo model is MiniCPM-o's own checkpoint: every tensor of the
// reference's state dict under its own name and shape with the same values, the value head as
// v_head.summary.*, and nothing else, so that MiniCPM-o's code loads it strictly (the config
// side: tests/unit/io/hf_config_writer_test.cpp). tools/check_minicpmo_export.py scores an
// export directory with the reference code.
TEST(MinicpmoParity, ExportIsTheReferenceCheckpointBitForBit) {
  Fixture& f = fixture_model();
  const omnirm::model::NamedTensors exported =
      omnirm::model::to_hf_tensors(*f.model, omnirm::model::HfLayout::minicpmo);
  std::map<std::string, at::Tensor> expected;
  for (auto& [name, tensor] : omnirm::io::load_hf_checkpoint(fixture(""))) expected[name] = tensor;
  size_t matched = 0;
  for (const auto& [name, tensor] : exported) {
    auto found = expected.find(name);
    ASSERT_NE(found, expected.end()) << "exported " << name << " is not in MiniCPM-o's checkpoint";
    EXPECT_TRUE(at::equal(tensor.to(found->second.scalar_type()), found->second)) << name;
    ++matched;
  }
  EXPECT_EQ(matched, expected.size());
}

}  // namespace
