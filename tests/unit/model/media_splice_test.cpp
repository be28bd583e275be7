// The media splice: features land exactly at their slots (checked against a hand-made embed
// + copy path), other rows keep their token embeddings, gradients reach every unfrozen tower
// parameter and none reaches a frozen one, a text-only config keeps today's parameters,
// initialization covers the towers deterministically, bad slots fail with clear messages,
// and media_token_counts agrees with what the towers produce.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "media_test_batch.h"
#include "omnirm/model/media_splice.h"

namespace omnirm::model {
namespace {

using testing::join;
using testing::MediaItem;
using testing::MediaKind;
using testing::placeholders;
using testing::random_item;
using testing::text_tokens;

// One pair with every kind: image and a two-frame video in the prompt, audio in chosen, a
// point cloud and an image in rejected.
struct Scenario {
  std::vector<MediaItem> items;
  std::vector<text::PairTokens> pairs;
};

Scenario every_kind(const ModelConfig& config) {
  Scenario s;
  s.items = {random_item(config, MediaKind::image),
             random_item(config, MediaKind::video_frame, 0),
             random_item(config, MediaKind::video_frame, 1),
             random_item(config, MediaKind::audio),
             random_item(config, MediaKind::points),
             random_item(config, MediaKind::image)};
  auto ph = [&](int64_t index) { return placeholders(config, s.items, index); };
  s.pairs = {{join({text_tokens(3), ph(0), text_tokens(2), ph(1), ph(2), text_tokens(2)}),
              join({text_tokens(2), ph(3), text_tokens(1)}),
              join({ph(4), text_tokens(1), ph(5), text_tokens(2)})}};
  return s;
}

RewardModel make_model(const ModelConfig& config, uint64_t seed) {
  Config full;
  full.model = config;
  validate_config(full);
  at::manual_seed(seed);
  RewardModel model(config, testing::kVocab);
  initialize_weights(*model);
  return model;
}

// The message of the c10::Error that `action` throws; a test failure when it throws none.
std::string torch_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const c10::Error& error) {
    return error.what_without_backtrace();
  }
  ADD_FAILURE() << "expected a c10::Error";
  return "";
}

TEST(MediaSplice, FeaturesLandAtSlotsAndOtherRowsKeepTokenEmbeddings) {
  at::manual_seed(0);
  const at::Tensor embeds = at::randn({10, 4});
  const at::Tensor before = embeds.clone();
  MediaInputs media;
  media.image_slots = at::tensor(std::vector<int64_t>{7, 2, 5}, at::kLong);
  media.audio_slots = at::tensor(std::vector<int64_t>{0, 9}, at::kLong);
  MediaFeatures features;
  features.images = at::randn({3, 4}, at::kDouble);  // cast to the embeddings' dtype
  features.audio = at::randn({2, 4});
  const at::Tensor spliced = splice_media(embeds, media, features);
  EXPECT_TRUE(at::equal(embeds, before)) << "the splice must not write into its input";
  const std::vector<std::pair<int64_t, at::Tensor>> expected_rows = {{7, features.images[0]},
                                                                     {2, features.images[1]},
                                                                     {5, features.images[2]},
                                                                     {0, features.audio[0]},
                                                                     {9, features.audio[1]}};
  std::set<int64_t> replaced;
  for (const auto& [row, feature] : expected_rows) {
    EXPECT_TRUE(at::equal(spliced[row], feature.to(at::kFloat))) << "row " << row;
    replaced.insert(row);
  }
  for (int64_t row = 0; row < 10; ++row) {
    if (!replaced.count(row)) {
      EXPECT_TRUE(at::equal(spliced[row], embeds[row])) << "row " << row;
    }
  }
}

TEST(MediaSplice, ModelMatchesAManualEmbedAndCopyPath) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 11);
  model->eval();
  at::manual_seed(12);
  const Scenario s = every_kind(config);
  const ModelInputs inputs = testing::pack(config, s.pairs, s.items, true);
  ASSERT_EQ(inputs.media.items(), 6);
  at::NoGradGuard no_grad;
  const RewardOutput out = model->forward(inputs);

  // By hand: embed, copy each feature row into its slot one at a time, run the backbone.
  at::Tensor embeds = model->backbone().embed(inputs.tokens).clone();
  const MediaFeatures features = model->media_encoder().forward(inputs.media);
  const std::vector<std::pair<at::Tensor, at::Tensor>> kinds = {
      {inputs.media.image_slots, features.images},
      {inputs.media.video_slots, features.video},
      {inputs.media.audio_slots, features.audio},
      {inputs.media.point_slots, features.points}};
  for (const auto& [slots, rows] : kinds) {
    ASSERT_TRUE(rows.defined());
    ASSERT_EQ(slots.size(0), rows.size(0));
    for (int64_t r = 0; r < rows.size(0); ++r) embeds[slots[r].item<int64_t>()].copy_(rows[r]);
  }
  const ops::AttentionBackend backend =
      ops::resolve_attention_backend("reference", c10::DeviceType::CPU);
  const at::Tensor hidden =
      model->backbone().forward_embeds(embeds, inputs.positions, inputs.layout, backend);
  const at::Tensor chosen = model->score_hidden(hidden.index_select(0, inputs.chosen_last));
  const at::Tensor rejected = model->score_hidden(hidden.index_select(0, inputs.rejected_last));
  EXPECT_LT((out.chosen - chosen).abs().max().item<double>(), 1e-6);
  EXPECT_LT((out.rejected - rejected).abs().max().item<double>(), 1e-6);

  // The media matter: the same tokens without media give other rewards.
  ModelInputs text_only = inputs;
  text_only.media = MediaInputs{};
  const RewardOutput plain = model->forward(text_only);
  EXPECT_GT((plain.chosen - out.chosen).abs().max().item<double>(), 1e-5);
  EXPECT_GT((plain.rejected - out.rejected).abs().max().item<double>(), 1e-5);
}

TEST(MediaSplice, GradientsReachEveryTowerParameterThroughTheReward) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 21);
  at::manual_seed(22);
  const Scenario s = every_kind(config);
  const RewardOutput out = model->forward(testing::pack(config, s.pairs, s.items, true));
  (2.0 * out.chosen - out.rejected).sum().backward();
  int64_t tower_parameters = 0;
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().requires_grad()) << p.key();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    if (p.key().rfind("model.", 0) != 0 && p.key().rfind("score.", 0) != 0) ++tower_parameters;
  }
  EXPECT_GT(tower_parameters, 40);
}

TEST(MediaSplice, FrozenTowersGetNoGradient) {
  ModelConfig config = testing::omni_test_config();
  config.freeze_vision = true;
  config.freeze_audio = true;
  RewardModel model = make_model(config, 31);
  at::manual_seed(32);
  const Scenario s = every_kind(config);
  const RewardOutput out = model->forward(testing::pack(config, s.pairs, s.items, true));
  (2.0 * out.chosen - out.rejected).sum().backward();
  int64_t frozen = 0;
  for (const auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    const bool is_frozen = name.rfind("vision_tower.", 0) == 0 ||
                           name.rfind("resampler.", 0) == 0 || name.rfind("audio_tower.", 0) == 0;
    EXPECT_EQ(p.value().requires_grad(), !is_frozen) << name;
    if (is_frozen) {
      ++frozen;
      EXPECT_FALSE(p.value().grad().defined()) << name;
    } else {
      ASSERT_TRUE(p.value().grad().defined()) << name;
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << name;
    }
  }
  EXPECT_GT(frozen, 20);
}

TEST(MediaSplice, TextOnlyConfigKeepsTheBackboneParameterSet) {
  ModelConfig config;  // the defaults: no towers
  RewardModel model(config, 10);
  std::set<std::string> names;
  for (const auto& p : model->named_parameters()) names.insert(p.key());
  std::set<std::string> expected = {"model.embed_tokens.weight", "model.norm.weight",
                                    "score.weight", "score.bias"};
  for (int layer = 0; layer < config.num_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    for (const char* suffix :
         {"self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
          "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
          "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
          "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight"}) {
      expected.insert(prefix + suffix);
    }
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(model->media_encoder().encoded_items(), 0);
  EXPECT_FALSE(model->media_encoder().has_vision());

  // With towers, they sit at top level under their own names.
  RewardModel omni(testing::omni_test_config(), 10);
  std::set<std::string> omni_names;
  for (const auto& p : omni->named_parameters()) omni_names.insert(p.key());
  for (const std::string& name : expected) EXPECT_TRUE(omni_names.count(name)) << name;
  for (const char* name :
       {"vision_tower.embeddings.patch_embedding.weight", "vision_tower.post_layernorm.weight",
        "resampler.query", "resampler.attn.in_proj_weight", "audio_tower.conv1.weight",
        "audio_tower.audio_projection_layer.linear2.weight", "point_tower.proj.weight",
        "point_tower.layers.0.mlp.fc1.weight"}) {
    EXPECT_TRUE(omni_names.count(name)) << name;
  }
  for (const std::string& name : omni_names) {
    EXPECT_TRUE(name.rfind("model.", 0) == 0 || name.rfind("score.", 0) == 0 ||
                name.rfind("vision_tower.", 0) == 0 || name.rfind("resampler.", 0) == 0 ||
                name.rfind("audio_tower.", 0) == 0 || name.rfind("point_tower.", 0) == 0)
        << name;
  }
}

TEST(MediaSplice, InitializationCoversTheTowersDeterministically) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel a = make_model(config, 7);
  RewardModel b = make_model(config, 7);
  ModelConfig text_config = config;
  text_config.vision_layers = text_config.audio_layers = text_config.point_layers = 0;
  // Seeded right before initialize_weights (tower construction draws from the generator too).
  RewardModel text(text_config, testing::kVocab);
  RewardModel omni(config, testing::kVocab);
  at::manual_seed(8);
  initialize_weights(*text);
  at::manual_seed(8);
  initialize_weights(*omni);
  const auto omni_parameters = omni->named_parameters();
  const auto a_parameters = a->named_parameters();
  const auto b_parameters = b->named_parameters();
  for (const auto& p : a_parameters) {
    EXPECT_TRUE(at::equal(p.value(), b_parameters[p.key()])) << p.key();
  }
  // The backbone and head draw the same values with or without towers.
  for (const auto& p : text->named_parameters()) {
    EXPECT_TRUE(at::equal(p.value(), omni_parameters[p.key()])) << p.key();
  }
  // Tower norms are reset to the identity, tower weights drawn at init_std, biases zeroed.
  for (const char* name :
       {"resampler.ln_q.weight", "resampler.ln_post.weight", "vision_tower.post_layernorm.weight",
        "audio_tower.layers.0.self_attn_layer_norm.weight"}) {
    EXPECT_TRUE(at::equal(a_parameters[name], at::ones_like(a_parameters[name]))) << name;
  }
  for (const char* name :
       {"resampler.ln_kv.bias", "point_tower.proj.bias", "resampler.attn.in_proj_bias"}) {
    EXPECT_TRUE(at::equal(a_parameters[name], at::zeros_like(a_parameters[name]))) << name;
  }
  for (const char* name :
       {"point_tower.proj.weight", "vision_tower.encoder.layers.0.mlp.fc1.weight",
        "audio_tower.conv1.weight"}) {
    const double std = a_parameters[name].std().item<double>();
    EXPECT_NEAR(std, config.init_std, 0.25 * config.init_std) << name;
  }
}

TEST(MediaSplice, BadSlotsFailWithClearMessages) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 41);
  at::manual_seed(42);
  const Scenario s = every_kind(config);
  const ModelInputs good = testing::pack(config, s.pairs, s.items, true);
  const int64_t n = good.tokens.size(0);
  at::NoGradGuard no_grad;
  auto error_with = [&](const std::function<void(MediaInputs&)>& change) {
    ModelInputs inputs = good;
    change(inputs.media);
    return torch_error_of([&] { model->forward(inputs); });
  };
  struct Case {
    std::string name;
    std::function<void(MediaInputs&)> change;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"one slot short",
       [](MediaInputs& m) {
         m.image_slots = m.image_slots.narrow(0, 0, m.image_slots.size(0) - 1);
       },
       {"image_slots has 5 slots", "gave 6 feature rows"}},
      {"one slot too many",
       [](MediaInputs& m) {
         m.audio_slots = at::cat({m.audio_slots, m.audio_slots.narrow(0, 0, 1)});
       },
       {"audio_slots has 3 slots", "gave 2 feature rows"}},
      {"slot past the end",
       [&](MediaInputs& m) {
         m.point_slots = m.point_slots.clone();
         m.point_slots[2] = n + 3;
       },
       {"point_slots holds row " + std::to_string(n + 3), "packed batch of " + std::to_string(n)}},
      {"negative slot",
       [](MediaInputs& m) {
         m.video_slots = m.video_slots.clone();
         m.video_slots[0] = -1;
       },
       {"video_slots holds row -1", "outside the packed batch"}},
      {"two kinds claim a row",
       [](MediaInputs& m) {
         m.audio_slots = m.audio_slots.clone();
         m.audio_slots[1] = m.image_slots[0].item<int64_t>();
       },
       {"claimed by two media feature rows"}},
      {"items without slots",
       [](MediaInputs& m) { m.point_slots = at::Tensor(); },
       {"points given without point_slots"}},
      {"slots without items",
       [](MediaInputs& m) { m.audio = at::Tensor(); },
       {"audio_slots given without audio"}},
      {"wrong image size",
       [](MediaInputs& m) {
         m.images = at::zeros({2, 3, 8, 8});
       },
       {"model.image_size", "[2, 3, 8, 8]"}},
      {"frame index missing",
       [](MediaInputs& m) { m.frame_index = at::Tensor(); },
       {"frame_index must be [F]"}},
  };
  for (const Case& c : cases) {
    const std::string message = error_with(c.change);
    for (const std::string& part : c.expected) {
      EXPECT_NE(message.find(part), std::string::npos)
          << c.name << ": '" << part << "' not in: " << message;
    }
  }

  // Items of a kind whose tower the model lacks.
  ModelConfig no_audio = config;
  no_audio.audio_layers = 0;
  RewardModel text_and_vision = make_model(no_audio, 43);
  const std::string message = torch_error_of([&] { text_and_vision->forward(good); });
  EXPECT_NE(message.find("no audio tower (model.audio_layers = 0)"), std::string::npos) << message;
}

TEST(MediaSplice, TokenCountsEqualTheTowersOutputRows) {
  ModelConfig other = testing::omni_test_config();
  other.image_tokens = 5;
  other.audio_frames = 37;  // odd: the stride-2 convolution rounds up to 19 frames
  other.audio_pool_stride = 3;
  other.point_groups = 6;
  for (const ModelConfig& config : {testing::omni_test_config(), other}) {
    at::manual_seed(51);
    MediaEncoder encoder(config);
    MediaInputs media;
    media.images = at::rand({2, 3, config.image_size, config.image_size});
    media.video_frames = at::rand({3, 3, config.image_size, config.image_size});
    media.frame_index = at::tensor(std::vector<int64_t>{0, 1, 2}, at::kLong);
    media.audio = at::randn({4, config.mel_bins, config.audio_frames});
    media.points = at::randn({1, config.num_points, 3});
    const MediaTokenCounts counts = media_token_counts(config);
    media.image_slots = at::arange(2 * counts.image);
    media.video_slots = at::arange(3 * counts.video_frame);
    media.audio_slots = at::arange(4 * counts.audio);
    media.point_slots = at::arange(counts.points);
    at::NoGradGuard no_grad;
    const MediaFeatures features = encoder->forward(media);
    EXPECT_EQ(features.images.sizes(),
              (std::vector<int64_t>{2 * counts.image, config.hidden_size}));
    EXPECT_EQ(features.video.sizes(),
              (std::vector<int64_t>{3 * counts.video_frame, config.hidden_size}));
    EXPECT_EQ(features.audio.sizes(), (std::vector<int64_t>{4 * counts.audio, config.hidden_size}));
    EXPECT_EQ(features.points.sizes(), (std::vector<int64_t>{counts.points, config.hidden_size}));
    EXPECT_EQ(encoder->encoded_items(), 2 + 3 + 4 + 1);
  }
  EXPECT_EQ(media_token_counts(other).audio, 6);  // 19 encoder frames pooled by 3
}

// With two frames per vision patch, two 4-frame videos give 2 × 2 tubelets of image_tokens
// rows each; a video's frames reversed give other tokens (the motion is seen), and a video
// whose frames do not come in whole pairs is refused.
TEST(MediaSplice, TemporalPatchesEncodeFramePairs) {
  ModelConfig config = testing::omni_test_config();
  config.video_temporal_patch = 2;
  at::manual_seed(52);
  MediaEncoder encoder(config);
  const int64_t s = config.image_size;
  const at::Tensor clip = at::rand({4, 3, s, s});
  MediaInputs media;
  media.images = at::rand({1, 3, s, s});
  media.image_slots = at::arange(config.image_tokens);
  media.video_frames = at::cat({clip, clip.flip(0)});
  media.frame_index = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}, at::kLong);
  media.video_slots = at::arange(4 * config.image_tokens);
  at::NoGradGuard no_grad;
  const MediaFeatures features = encoder->forward(media);
  ASSERT_EQ(features.video.sizes(),
            (std::vector<int64_t>{4 * config.image_tokens, config.hidden_size}));
  EXPECT_EQ(features.images.sizes(),
            (std::vector<int64_t>{config.image_tokens, config.hidden_size}));
  const at::Tensor forward_clip = features.video.narrow(0, 0, 2 * config.image_tokens);
  const at::Tensor reversed_clip =
      features.video.narrow(0, 2 * config.image_tokens, 2 * config.image_tokens);
  EXPECT_GT((forward_clip - reversed_clip).abs().max().item<float>(), 1e-4f);
  media.frame_index = at::tensor(std::vector<int64_t>{1, 2, 3, 4, 0, 1, 2, 3}, at::kLong);
  EXPECT_THROW(encoder->forward(media), c10::Error);
}

// With motion channels, the patch embedding's weights for the motion maps move video tokens
// and leave still images' tokens exactly as they were (an image's maps are zero).
TEST(MediaSplice, MotionChannelsReachVideoAndLeaveStillImagesAlone) {
  ModelConfig config = testing::omni_test_config();
  config.video_temporal_patch = 2;
  config.video_motion_channels = true;
  at::manual_seed(53);
  MediaEncoder encoder(config);
  const int64_t s = config.image_size;
  MediaInputs media;
  media.images = at::rand({1, 3, s, s});
  media.image_slots = at::arange(config.image_tokens);
  media.video_frames = at::rand({4, 3, s, s});
  media.frame_index = at::tensor(std::vector<int64_t>{0, 1, 2, 3}, at::kLong);
  media.video_slots = at::arange(2 * config.image_tokens);
  at::NoGradGuard no_grad;
  const MediaFeatures before = encoder->forward(media);
  at::Tensor weight = encoder->named_parameters()["vision_tower.embeddings.patch_embedding.weight"];
  ASSERT_EQ(weight.size(1), 3 * 2 + 2);
  // Random, not constant: a shift shared by every hidden unit would vanish in the LayerNorms.
  weight.narrow(1, 6, 2).add_(at::randn_like(weight.narrow(1, 6, 2)));
  const MediaFeatures after = encoder->forward(media);
  EXPECT_TRUE(at::equal(before.images, after.images));
  EXPECT_GT((before.video - after.video).abs().max().item<float>(), 1e-3f);
}

TEST(MediaInputs, ItemsCountsEveryKindAndToKeepsUndefinedTensors) {
  MediaInputs media;
  EXPECT_EQ(media.items(), 0);
  media.images = at::zeros({2, 3, 4, 4});
  media.points = at::zeros({3, 8, 3});
  media.image_slots = at::arange(6);
  EXPECT_EQ(media.items(), 5);
  const MediaInputs moved = media.to(at::Device(at::kCPU));
  EXPECT_EQ(moved.items(), 5);
  EXPECT_TRUE(at::equal(moved.image_slots, media.image_slots));
  EXPECT_FALSE(moved.audio.defined());
  EXPECT_FALSE(moved.video_frames.defined());
}

}  // namespace
}  // namespace omnirm::model
