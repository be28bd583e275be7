// HF name mapping without tensors: layout detection from name sets, each layout's rules,
// ignored and unknown names with reasons, and export names that map back to themselves.
#include <gtest/gtest.h>

#include "omnirm/model/hf_names.h"

namespace {

using omnirm::model::detect_hf_layout;
using omnirm::model::hf_export_name;
using omnirm::model::HfLayout;
using omnirm::model::map_hf_name;
using omnirm::model::NameStatus;
using omnirm::model::TensorTransform;

TEST(HfNames, DetectsEachLayoutAndDecoderFamily) {
  const auto qwen_causal =
      detect_hf_layout({"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                        "model.layers.0.self_attn.q_proj.bias", "lm_head.weight"});
  EXPECT_EQ(qwen_causal.layout, HfLayout::causal_lm);
  EXPECT_EQ(qwen_causal.decoder, "qwen2");
  EXPECT_EQ(qwen_causal.description(), "Qwen2ForCausalLM (qwen2 decoder)");

  const auto llama_cls = detect_hf_layout(
      {"model.layers.0.self_attn.q_proj.weight", "model.norm.weight", "score.weight"});
  EXPECT_EQ(llama_cls.layout, HfLayout::seq_cls);
  EXPECT_EQ(llama_cls.decoder, "llama");

  const auto bare = detect_hf_layout({"embed_tokens.weight", "layers.0.self_attn.q_proj.weight"});
  EXPECT_EQ(bare.layout, HfLayout::bare);
  EXPECT_EQ(bare.decoder, "llama");

  const auto minicpmo = detect_hf_layout({"llm.model.layers.0.self_attn.q_proj.bias",
                                          "vpm.encoder.layers.0.self_attn.q_proj.bias",
                                          "resampler.query", "v_head.summary.weight"});
  EXPECT_EQ(minicpmo.layout, HfLayout::minicpmo);
  EXPECT_EQ(minicpmo.decoder, "qwen2");
  EXPECT_TRUE(minicpmo.has_value_head);
  EXPECT_EQ(minicpmo.description(), "MiniCPM-o-2.6 (qwen2 decoder) + LLaMA-Factory value head");

  // The towers' own q_proj biases do not make a decoder "qwen2".
  const auto native = detect_hf_layout({"model.layers.0.self_attn.q_proj.weight", "score.weight",
                                        "vision_tower.encoder.layers.0.self_attn.q_proj.bias"});
  EXPECT_EQ(native.layout, HfLayout::omnirm);
  EXPECT_EQ(native.decoder, "llama");

  const auto head = detect_hf_layout({"v_head.summary.weight", "v_head.summary.bias"});
  EXPECT_EQ(head.layout, HfLayout::value_head);
  EXPECT_FALSE(head.has_value_head);

  EXPECT_EQ(detect_hf_layout({"transformer.h.0.attn.c_attn.weight"}).layout, HfLayout::unknown);
}

TEST(HfNames, MiniCpmoRules) {
  auto expect_mapped = [](const std::string& from, const std::string& to,
                          TensorTransform transform = TensorTransform::copy) {
    const auto mapping = map_hf_name(from, HfLayout::minicpmo);
    EXPECT_EQ(mapping.status, NameStatus::mapped) << from;
    EXPECT_EQ(mapping.target, to) << from;
    EXPECT_EQ(mapping.transform, transform) << from;
  };
  expect_mapped("llm.model.layers.3.mlp.up_proj.weight", "model.layers.3.mlp.up_proj.weight");
  expect_mapped("llm.model.norm.weight", "model.norm.weight");
  expect_mapped("vpm.encoder.layers.2.mlp.fc1.weight",
                "vision_tower.encoder.layers.2.mlp.fc1.weight");
  expect_mapped("vpm.embeddings.position_embedding.weight",
                "vision_tower.embeddings.position_embedding.weight",
                TensorTransform::position_grid);
  expect_mapped("resampler.attn.in_proj_weight", "resampler.attn.in_proj_weight");
  expect_mapped("resampler.proj", "resampler.proj.weight", TensorTransform::transpose);
  expect_mapped("apm.layers.0.self_attn_layer_norm.bias",
                "audio_tower.layers.0.self_attn_layer_norm.bias");
  expect_mapped("apm.embed_positions.weight", "audio_tower.embed_positions",
                TensorTransform::leading_rows);
  expect_mapped("audio_projection_layer.linear2.weight",
                "audio_tower.audio_projection_layer.linear2.weight");
  expect_mapped("v_head.summary.bias", "score.bias");

  const auto lm_head = map_hf_name("llm.lm_head.weight", HfLayout::minicpmo);
  EXPECT_EQ(lm_head.status, NameStatus::ignored);
  EXPECT_NE(lm_head.reason.find("LM head"), std::string::npos);
  EXPECT_EQ(map_hf_name("tts.dvae.encoder.weight", HfLayout::minicpmo).status, NameStatus::ignored);
  const auto stray = map_hf_name("model.layers.0.mlp.up_proj.weight", HfLayout::minicpmo);
  EXPECT_EQ(stray.status, NameStatus::unknown);
  EXPECT_NE(stray.reason.find("minicpmo"), std::string::npos);
}

TEST(HfNames, DecoderLayoutsRules) {
  EXPECT_EQ(map_hf_name("layers.1.input_layernorm.weight", HfLayout::bare).target,
            "model.layers.1.input_layernorm.weight");
  EXPECT_EQ(map_hf_name("norm.weight", HfLayout::bare).target, "model.norm.weight");
  EXPECT_EQ(map_hf_name("lm_head.weight", HfLayout::causal_lm).status, NameStatus::ignored);
  EXPECT_EQ(map_hf_name("score.weight", HfLayout::seq_cls).target, "score.weight");
  EXPECT_EQ(map_hf_name("model.layers.0.self_attn.rotary_emb.inv_freq", HfLayout::causal_lm).status,
            NameStatus::ignored);
  EXPECT_EQ(map_hf_name("transformer.wte.weight", HfLayout::causal_lm).status, NameStatus::unknown);
  EXPECT_EQ(map_hf_name("model.norm.weight", HfLayout::value_head).status, NameStatus::unknown);
}

TEST(HfNames, ExportNamesMapBack) {
  const std::vector<std::string> names = {"model.embed_tokens.weight",
                                          "model.layers.0.self_attn.k_proj.bias",
                                          "model.norm.weight",
                                          "score.weight",
                                          "score.bias",
                                          "vision_tower.embeddings.patch_embedding.weight",
                                          "vision_tower.embeddings.position_embedding.weight",
                                          "resampler.proj.weight",
                                          "resampler.attn.out_proj.bias",
                                          "audio_tower.embed_positions",
                                          "audio_tower.conv2.bias",
                                          "audio_tower.audio_projection_layer.linear1.weight",
                                          "resampler.temporal_embedding.weight",
                                          "point_tower.proj.weight"};
  for (HfLayout layout : {HfLayout::omnirm, HfLayout::seq_cls, HfLayout::causal_lm, HfLayout::bare,
                          HfLayout::minicpmo, HfLayout::value_head}) {
    int exported = 0;
    for (const std::string& name : names) {
      const auto hf = hf_export_name(name, layout);
      if (!hf) continue;
      ++exported;
      const auto back = map_hf_name(hf->name, layout);
      EXPECT_EQ(back.status, NameStatus::mapped) << hf->name;
      EXPECT_EQ(back.target, name) << hf_layout_name(layout) << ": " << hf->name;
    }
    EXPECT_GT(exported, 0) << hf_layout_name(layout);
  }
  EXPECT_EQ(hf_export_name("model.norm.weight", HfLayout::minicpmo)->name, "llm.model.norm.weight");
  EXPECT_EQ(hf_export_name("score.weight", HfLayout::minicpmo)->name, "v_head.summary.weight");
  // What MiniCPM-o has no place for travels under omnirm_ names, so nothing is lost.
  EXPECT_EQ(hf_export_name("resampler.temporal_embedding.weight", HfLayout::minicpmo)->name,
            "omnirm_resampler.temporal_embedding.weight");
  EXPECT_EQ(hf_export_name("point_tower.proj.weight", HfLayout::minicpmo)->name,
            "omnirm_point_tower.proj.weight");
  EXPECT_FALSE(hf_export_name("resampler.temporal_embedding.weight", HfLayout::seq_cls));
  // Only omnirm's own names come back from the prefix.
  EXPECT_EQ(map_hf_name("omnirm_mystery.weight", HfLayout::minicpmo).status, NameStatus::unknown);
  EXPECT_EQ(map_hf_name("omnirm_point_tower.proj.weight", HfLayout::seq_cls).status,
            NameStatus::unknown);
  EXPECT_FALSE(hf_export_name("score.bias", HfLayout::seq_cls));
  EXPECT_FALSE(hf_export_name("vision_tower.post_layernorm.weight", HfLayout::causal_lm));
}

}  // namespace
