// The key schema (src/core/config_schema.h): the table of every configuration key and the
// lookups and "did you mean" suggestions that walk it. Adding a key to Config means adding
// its row here; reading, writing and the key reference then know it.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "config_schema.h"
#include "omnirm/core/nearest_key.h"

namespace omnirm::config_schema {
namespace {

// A table row whose path is spelt exactly like the member it reaches.
// clang-format off
#define OMNIRM_CONFIG_KEY(section, name) \
  ConfigKey{#section "." #name, [](Config& c) -> FieldRef { return &c.section.name; }}
// clang-format on

// Grouped by section in the order model, data, train, lora, eval, dist; dump_config keeps this
// order.
constexpr ConfigKey kConfigKeys[] = {
    OMNIRM_CONFIG_KEY(model, vocab_size),
    OMNIRM_CONFIG_KEY(model, hidden_size),
    OMNIRM_CONFIG_KEY(model, num_layers),
    OMNIRM_CONFIG_KEY(model, num_heads),
    OMNIRM_CONFIG_KEY(model, num_kv_heads),
    OMNIRM_CONFIG_KEY(model, intermediate_size),
    OMNIRM_CONFIG_KEY(model, rope_theta),
    OMNIRM_CONFIG_KEY(model, rms_norm_eps),
    OMNIRM_CONFIG_KEY(model, qkv_bias),
    OMNIRM_CONFIG_KEY(model, head_bias),
    OMNIRM_CONFIG_KEY(model, head_dropout),
    OMNIRM_CONFIG_KEY(model, init_std),
    OMNIRM_CONFIG_KEY(model, attention_backend),
    OMNIRM_CONFIG_KEY(model, prefix_sharing),
    OMNIRM_CONFIG_KEY(model, vision_layers),
    OMNIRM_CONFIG_KEY(model, vision_hidden),
    OMNIRM_CONFIG_KEY(model, vision_heads),
    OMNIRM_CONFIG_KEY(model, vision_intermediate),
    OMNIRM_CONFIG_KEY(model, image_size),
    OMNIRM_CONFIG_KEY(model, patch_size),
    OMNIRM_CONFIG_KEY(model, image_tokens),
    OMNIRM_CONFIG_KEY(model, max_frames),
    OMNIRM_CONFIG_KEY(model, resampler_locality),
    OMNIRM_CONFIG_KEY(model, resampler_hidden),
    OMNIRM_CONFIG_KEY(model, video_temporal_patch),
    OMNIRM_CONFIG_KEY(model, video_motion_channels),
    OMNIRM_CONFIG_KEY(model, audio_layers),
    OMNIRM_CONFIG_KEY(model, audio_hidden),
    OMNIRM_CONFIG_KEY(model, audio_heads),
    OMNIRM_CONFIG_KEY(model, audio_intermediate),
    OMNIRM_CONFIG_KEY(model, mel_bins),
    OMNIRM_CONFIG_KEY(model, audio_frames),
    OMNIRM_CONFIG_KEY(model, audio_pool_stride),
    OMNIRM_CONFIG_KEY(model, point_layers),
    OMNIRM_CONFIG_KEY(model, point_hidden),
    OMNIRM_CONFIG_KEY(model, point_heads),
    OMNIRM_CONFIG_KEY(model, num_points),
    OMNIRM_CONFIG_KEY(model, point_groups),
    OMNIRM_CONFIG_KEY(model, point_group_size),
    OMNIRM_CONFIG_KEY(model, freeze_vision),
    OMNIRM_CONFIG_KEY(model, freeze_audio),
    OMNIRM_CONFIG_KEY(model, freeze_points),
    OMNIRM_CONFIG_KEY(model, arch),
    OMNIRM_CONFIG_KEY(model, slice_max),
    OMNIRM_CONFIG_KEY(model, slice_resolution),
    OMNIRM_CONFIG_KEY(model, audio_chunk_seconds),

    OMNIRM_CONFIG_KEY(data, train),
    OMNIRM_CONFIG_KEY(data, eval),
    OMNIRM_CONFIG_KEY(data, root),
    OMNIRM_CONFIG_KEY(data, tokenizer),
    OMNIRM_CONFIG_KEY(data, max_length),
    OMNIRM_CONFIG_KEY(data, truncation),
    OMNIRM_CONFIG_KEY(data, on_bad_record),
    OMNIRM_CONFIG_KEY(data, shuffle),
    OMNIRM_CONFIG_KEY(data, mix),
    OMNIRM_CONFIG_KEY(data, num_workers),
    OMNIRM_CONFIG_KEY(data, prefetch),
    OMNIRM_CONFIG_KEY(data, micro_batch_tokens),
    OMNIRM_CONFIG_KEY(data, token_cache),
    OMNIRM_CONFIG_KEY(data, video_fps),
    OMNIRM_CONFIG_KEY(data, video_frames),
    OMNIRM_CONFIG_KEY(data, video_max_pixels),
    OMNIRM_CONFIG_KEY(data, media_cache_mb),
    OMNIRM_CONFIG_KEY(data, media_store),

    OMNIRM_CONFIG_KEY(train, output_dir),
    OMNIRM_CONFIG_KEY(train, seed),
    OMNIRM_CONFIG_KEY(train, epochs),
    OMNIRM_CONFIG_KEY(train, max_steps),
    OMNIRM_CONFIG_KEY(train, global_batch_pairs),
    OMNIRM_CONFIG_KEY(train, micro_batch_pairs),
    OMNIRM_CONFIG_KEY(train, lr),
    OMNIRM_CONFIG_KEY(train, min_lr_ratio),
    OMNIRM_CONFIG_KEY(train, warmup_ratio),
    OMNIRM_CONFIG_KEY(train, weight_decay),
    OMNIRM_CONFIG_KEY(train, adam_beta1),
    OMNIRM_CONFIG_KEY(train, adam_beta2),
    OMNIRM_CONFIG_KEY(train, adam_eps),
    OMNIRM_CONFIG_KEY(train, max_grad_norm),
    OMNIRM_CONFIG_KEY(train, margin_scale),
    OMNIRM_CONFIG_KEY(train, centering),
    OMNIRM_CONFIG_KEY(train, log_every),
    OMNIRM_CONFIG_KEY(train, tensorboard),
    OMNIRM_CONFIG_KEY(train, eval_every),
    OMNIRM_CONFIG_KEY(train, eval_benchmark),
    OMNIRM_CONFIG_KEY(train, eval_benchmark_format),
    OMNIRM_CONFIG_KEY(train, best_metric),
    OMNIRM_CONFIG_KEY(train, best_mode),
    OMNIRM_CONFIG_KEY(train, save_every),
    OMNIRM_CONFIG_KEY(train, keep_last),
    OMNIRM_CONFIG_KEY(train, threads),
    OMNIRM_CONFIG_KEY(train, device),
    OMNIRM_CONFIG_KEY(train, precision),
    OMNIRM_CONFIG_KEY(train, activation_checkpointing),
    OMNIRM_CONFIG_KEY(train, init_from),

    OMNIRM_CONFIG_KEY(lora, rank),
    OMNIRM_CONFIG_KEY(lora, alpha),
    OMNIRM_CONFIG_KEY(lora, dropout),
    OMNIRM_CONFIG_KEY(lora, target_modules),

    OMNIRM_CONFIG_KEY(eval, batch_pairs),

    OMNIRM_CONFIG_KEY(dist, backend),
    OMNIRM_CONFIG_KEY(dist, zero_stage),
    OMNIRM_CONFIG_KEY(dist, timeout),
    OMNIRM_CONFIG_KEY(dist, bucket_mb),
    OMNIRM_CONFIG_KEY(dist, verbose),
};

#undef OMNIRM_CONFIG_KEY

constexpr std::array<std::string_view, 6> kSections = {"model", "data", "train",
                                                       "lora",  "eval", "dist"};

std::vector<std::string> section_names() { return {kSections.begin(), kSections.end()}; }

std::vector<std::string> all_key_paths() {
  std::vector<std::string> paths;
  for (const ConfigKey& key : kConfigKeys) paths.emplace_back(key.path);
  return paths;
}

std::vector<std::string> key_names_in(std::string_view section) {
  std::vector<std::string> names;
  for (const ConfigKey& key : kConfigKeys) {
    if (section_of(key.path) == section) names.emplace_back(name_of(key.path));
  }
  return names;
}

// How far a misspelling may be from a valid name and still be suggested: one edit for every
// three characters of the misspelt name, rounded to nearest, at least one ("trian" may be two
// edits from "train", "lrr" only one from "lr").
std::size_t suggestion_distance(std::string_view name) {
  return std::max<std::size_t>(1, (name.size() + 1) / 3);
}

}  // namespace

std::span<const ConfigKey> keys() { return kConfigKeys; }

std::span<const std::string_view> sections() { return kSections; }

std::string_view section_of(std::string_view path) { return path.substr(0, path.find('.')); }

std::string_view name_of(std::string_view path) {
  const std::size_t dot = path.find('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

const ConfigKey* find_key(std::string_view path) {
  for (const ConfigKey& key : kConfigKeys) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

bool is_section(std::string_view name) {
  return std::find(kSections.begin(), kSections.end(), name) != kSections.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += ", ";
    joined += item;
  }
  return joined;
}

std::string suggest_section(std::string_view section) {
  if (auto nearest = nearest_key(section, section_names(), suggestion_distance(section))) {
    return fmt::format("did you mean '{}'?", *nearest);
  }
  return fmt::format("valid sections are {}", join(section_names()));
}

std::string suggest_key(std::string_view path) {
  if (auto nearest = nearest_key(path, all_key_paths(), suggestion_distance(name_of(path)))) {
    return fmt::format("did you mean '{}'?", *nearest);
  }
  if (path.find('.') == std::string_view::npos) {  // a bare name such as "lr"
    for (const ConfigKey& key : kConfigKeys) {
      if (name_of(key.path) == path) return fmt::format("did you mean '{}'?", key.path);
    }
  }
  const std::string_view section = section_of(path);
  if (is_section(section)) {
    return fmt::format("valid keys in '{}' are {}", section, join(key_names_in(section)));
  }
  return fmt::format("valid sections are {}", join(section_names()));
}

}  // namespace omnirm::config_schema
