// Loading, overriding, dumping and validating the experiment configuration
// (include/omnirm/core/config.h). Every key is one row of kConfigKeys, which says where the
// key's value lives inside Config and, through the pointer's type, what type it has.
// Loading a file, applying "section.key=value" overrides, dumping and "did you mean"
// suggestions all walk that one table. Scalars follow the YAML 1.2 core schema: integers are
// whole decimal numbers, numbers also take a fraction and exponent, booleans are true/false.
#include "omnirm/core/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <variant>

#include "omnirm/core/error.h"
#include "omnirm/core/nearest_key.h"
#include "omnirm/core/parse_scalar.h"

namespace omnirm {
namespace {

// ---------------------------------------------------------------------------------------
// The schema.

// Where one key's value lives; which pointer it holds is the key's type.
using FieldRef = std::variant<int64_t*, double*, bool*, std::string*>;

struct ConfigKey {
  std::string_view path;       // "section.name"
  FieldRef (*field)(Config&);  // the key's value inside a Config
};

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
    OMNIRM_CONFIG_KEY(data, media_cache_mb),

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
    OMNIRM_CONFIG_KEY(train, param_dtype),
    OMNIRM_CONFIG_KEY(train, memory_budget_mb),
    OMNIRM_CONFIG_KEY(train, init_from),

    OMNIRM_CONFIG_KEY(lora, rank),
    OMNIRM_CONFIG_KEY(lora, alpha),
    OMNIRM_CONFIG_KEY(lora, dropout),
    OMNIRM_CONFIG_KEY(lora, target_modules),

    OMNIRM_CONFIG_KEY(eval, batch_pairs),

    OMNIRM_CONFIG_KEY(dist, backend),
    OMNIRM_CONFIG_KEY(dist, zero_stage),
    OMNIRM_CONFIG_KEY(dist, reduce_dtype),
    OMNIRM_CONFIG_KEY(dist, timeout),
    OMNIRM_CONFIG_KEY(dist, bucket_mb),
    OMNIRM_CONFIG_KEY(dist, verbose),
};

#undef OMNIRM_CONFIG_KEY

constexpr std::array<std::string_view, 6> kSections = {"model", "data", "train",
                                                       "lora",  "eval", "dist"};

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

// ---------------------------------------------------------------------------------------
// Messages.

[[noreturn]] void fail(std::string_view origin, const std::string& message) {
  throw UserError(fmt::format("{}: {}", origin, message));
}

// How far a misspelling may be from a valid name and still be suggested: one edit for every
// three characters of the misspelt name, rounded to nearest, at least one ("trian" may be two
// edits from "train", "lrr" only one from "lr").
std::size_t suggestion_distance(std::string_view name) {
  return std::max<std::size_t>(1, (name.size() + 1) / 3);
}

std::string suggest_section(std::string_view section) {
  if (auto nearest = nearest_key(section, section_names(), suggestion_distance(section))) {
    return fmt::format("did you mean '{}'?", *nearest);
  }
  return fmt::format("valid sections are {}", join(section_names()));
}

// "did you mean 'train.lr'?" (also for a bare "lr") or, when no key is close, the valid keys
// of that section.
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

std::string describe_value(const YAML::Node& node) {
  if (node.IsSequence()) return "a sequence";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "an empty value";
  return fmt::format("'{}'", node.Scalar());
}

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

// ---------------------------------------------------------------------------------------
// Typed scalars.

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

[[noreturn]] void reject_value(std::string_view origin, std::string_view where,
                               std::string_view expected, const YAML::Node& value) {
  fail(origin, fmt::format("{}: expected {}, got {}", where, expected, describe_value(value)));
}

// Stores `value` into `key`'s field of `config`. `where` names the key in messages, e.g.
// "train.lr (line 12)".
void assign_value(Config& config, const ConfigKey& key, const YAML::Node& value,
                  std::string_view origin, std::string_view where) {
  const FieldRef field = key.field(config);
  const std::string text = value.IsScalar() ? value.Scalar() : std::string();
  if (int64_t* const* integer = std::get_if<int64_t*>(&field)) {
    const std::optional<int64_t> parsed = value.IsScalar() ? parse_integer(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "an integer", value);
    **integer = *parsed;
  } else if (double* const* number = std::get_if<double*>(&field)) {
    const std::optional<double> parsed = value.IsScalar() ? parse_number(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "a number", value);
    **number = *parsed;
  } else if (bool* const* boolean = std::get_if<bool*>(&field)) {
    const std::optional<bool> parsed = value.IsScalar() ? parse_bool(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "a boolean (true or false)", value);
    **boolean = *parsed;
  } else if (std::string* const* string = std::get_if<std::string*>(&field)) {
    // An empty value (`key:` or `~`) is the empty string.
    if (!value.IsScalar() && !value.IsNull()) reject_value(origin, where, "a string", value);
    **string = text;
  }
}

// ---------------------------------------------------------------------------------------
// Loading YAML documents and overrides.

YAML::Node parse_yaml(const std::string& text, std::string_view origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    if (error.mark.is_null()) fail(origin, fmt::format("invalid YAML: {}", error.msg));
    fail(origin, fmt::format("invalid YAML at line {}, column {}: {}", error.mark.line + 1,
                             error.mark.column + 1, error.msg));
  }
}

std::string key_text(const YAML::Node& key, std::string_view origin) {
  if (!key.IsScalar()) {
    fail(origin, fmt::format("line {}: keys must be plain names, got {}", line_of(key),
                             describe_value(key)));
  }
  return key.Scalar();
}

// Rejects a key met twice; `first_lines` remembers where each key was first seen.
void check_not_repeated(std::map<std::string, int>& first_lines, const std::string& path, int line,
                        std::string_view origin) {
  const auto [entry, inserted] = first_lines.emplace(path, line);
  if (!inserted) {
    fail(origin,
         fmt::format("'{}' is given twice (lines {} and {}); keep one", path, entry->second, line));
  }
}

void apply_section(Config& config, const std::string& section, const YAML::Node& body,
                   std::map<std::string, int>& first_lines, std::string_view origin) {
  for (const auto& entry : body) {
    const std::string path = section + "." + key_text(entry.first, origin);
    const int line = line_of(entry.first);
    const ConfigKey* key = find_key(path);
    if (key == nullptr) {
      fail(origin, fmt::format("unknown key '{}' (line {}); {}", path, line, suggest_key(path)));
    }
    check_not_repeated(first_lines, path, line, origin);
    assign_value(config, *key, entry.second, origin, fmt::format("{} (line {})", path, line));
  }
}

void apply_document(Config& config, const YAML::Node& root, std::string_view origin) {
  if (root.IsNull()) return;  // an empty document keeps the defaults
  if (!root.IsMap()) {
    fail(origin, fmt::format("the top level must be a mapping of sections ({}), got {}",
                             join(section_names()), describe_value(root)));
  }
  std::map<std::string, int> first_lines;
  for (const auto& entry : root) {
    const std::string section = key_text(entry.first, origin);
    const int line = line_of(entry.first);
    if (find_key(section) != nullptr) {
      fail(origin, fmt::format("unknown section '{}' (line {}); write '{}:' and under it '  {}:'",
                               section, line, section_of(section), name_of(section)));
    }
    if (!is_section(section)) {
      fail(origin, fmt::format("unknown section '{}' (line {}); {}", section, line,
                               suggest_section(section)));
    }
    check_not_repeated(first_lines, section, line, origin);
    const YAML::Node& body = entry.second;
    if (body.IsNull()) continue;  // `train:` with nothing under it
    if (!body.IsMap()) {
      fail(origin, fmt::format("section '{}' (line {}) must be a mapping of keys, got {}", section,
                               line, describe_value(body)));
    }
    apply_section(config, section, body, first_lines, origin);
  }
}

std::string trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const std::size_t last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// Applies one "section.key=value" string; the value is read as a YAML scalar.
void apply_override(Config& config, const std::string& assignment) {
  const std::string origin = fmt::format("override '{}'", assignment);
  const std::size_t equals = assignment.find('=');
  const std::string path = trim(assignment.substr(0, equals));
  if (equals == std::string::npos || path.empty()) {
    fail(origin, "expected section.key=value, e.g. train.lr=1e-4");
  }
  const ConfigKey* key = find_key(path);
  if (key == nullptr) fail(origin, fmt::format("unknown key '{}'; {}", path, suggest_key(path)));
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& error) {
    fail(origin, fmt::format("{}: the value is not valid YAML ({}); quote it", path, error.msg));
  }
  assign_value(config, *key, value, origin, path);
}

// ---------------------------------------------------------------------------------------
// Dumping.

// The shortest decimal text that reads back as the same double, always with a '.' in the
// mantissa so that YAML 1.1 readers see a float too ("100.0", "1.0e-08").
std::string format_number(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  std::string text = fmt::format("{}", value);
  if (text.find('.') == std::string::npos) {
    const std::size_t exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  return text;
}

// A YAML double-quoted scalar, so that any string (empty, "true", "1e3", "a: b") reads
// back as the same string.
std::string quote_string(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"') {
      quoted += "\\\"";
    } else if (c == '\\') {
      quoted += "\\\\";
    } else if (c == '\n') {
      quoted += "\\n";
    } else if (c == '\t') {
      quoted += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      quoted += fmt::format("\\x{:02x}", byte);
    } else {
      quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

std::string format_value(const FieldRef& field) {
  if (int64_t* const* integer = std::get_if<int64_t*>(&field)) return std::to_string(**integer);
  if (double* const* number = std::get_if<double*>(&field)) return format_number(**number);
  if (bool* const* boolean = std::get_if<bool*>(&field)) return **boolean ? "true" : "false";
  return quote_string(*std::get<std::string*>(field));
}

// ---------------------------------------------------------------------------------------
// Cross-field validation.

void require(bool condition, const std::string& message) {
  if (!condition) throw UserError(message);
}

void require_positive(std::string_view path, int64_t value) {
  require(value > 0, fmt::format("{} must be positive, got {}", path, value));
}

void require_non_negative(std::string_view path, int64_t value) {
  require(value >= 0, fmt::format("{} must be 0 or more, got {}", path, value));
}

// Every comparison with NaN is false, so NaN fails these checks too.
void require_positive_number(std::string_view path, double value) {
  require(value > 0.0 && std::isfinite(value),
          fmt::format("{} must be a positive number, got {}", path, value));
}

void require_non_negative_number(std::string_view path, double value) {
  require(value >= 0.0 && std::isfinite(value),
          fmt::format("{} must be 0 or more, got {}", path, value));
}

// value in [0, 1), or [0, 1] when one_allowed.
void require_fraction(std::string_view path, double value, bool one_allowed) {
  const bool below_top = one_allowed ? value <= 1.0 : value < 1.0;
  require(value >= 0.0 && below_top,
          fmt::format("{} must be in [0, 1{}, got {}", path, one_allowed ? "]" : ")", value));
}

void require_one_of(std::string_view path, const std::string& value,
                    std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> names;
  for (std::string_view name : allowed) {
    if (value == name) return;
    names.emplace_back(name);
  }
  throw UserError(fmt::format("{} must be one of {}, got '{}'", path, join(names), value));
}

// `path` (value) must be divisible by `divisor_path` (divisor); divisor is positive.
void require_divisible(std::string_view path, int64_t value, std::string_view divisor_path,
                       int64_t divisor) {
  require(value % divisor == 0,
          fmt::format("{} ({}) must be divisible by {} ({})", path, value, divisor_path, divisor));
}

void validate_vision(const ModelConfig& model) {
  require_non_negative("model.vision_layers", model.vision_layers);
  require_positive("model.vision_hidden", model.vision_hidden);
  require_positive("model.vision_heads", model.vision_heads);
  require_positive("model.vision_intermediate", model.vision_intermediate);
  require_positive("model.image_size", model.image_size);
  require_positive("model.patch_size", model.patch_size);
  require_positive("model.image_tokens", model.image_tokens);
  require_positive("model.max_frames", model.max_frames);
  require_positive("model.video_temporal_patch", model.video_temporal_patch);
  require(!model.video_motion_channels || model.video_temporal_patch > 1,
          "model.video_motion_channels measures motion between the frames of a tubelet: set "
          "model.video_temporal_patch to 2 or more, or turn it off");
  require_divisible("model.vision_hidden", model.vision_hidden, "model.vision_heads",
                    model.vision_heads);
  require_divisible("model.image_size", model.image_size, "model.patch_size", model.patch_size);
  require_non_negative("model.resampler_hidden", model.resampler_hidden);
  if (model.resampler_hidden > 0)
    require_divisible("model.resampler_hidden", model.resampler_hidden, "model.vision_heads",
                      model.vision_heads);
}

void validate_audio(const ModelConfig& model) {
  require_non_negative("model.audio_layers", model.audio_layers);
  require_positive("model.audio_hidden", model.audio_hidden);
  require_positive("model.audio_heads", model.audio_heads);
  require_positive("model.audio_intermediate", model.audio_intermediate);
  require_positive("model.mel_bins", model.mel_bins);
  require_positive("model.audio_frames", model.audio_frames);
  require_positive("model.audio_pool_stride", model.audio_pool_stride);
  require_divisible("model.audio_hidden", model.audio_hidden, "model.audio_heads",
                    model.audio_heads);
  require(model.audio_hidden >= 4 && model.audio_hidden % 2 == 0,
          fmt::format("model.audio_hidden must be even and at least 4 (sinusoidal positions), "
                      "got {}",
                      model.audio_hidden));
  const int64_t encoder_frames = (model.audio_frames + 1) / 2;  // after the stride-2 conv
  require(encoder_frames >= model.audio_pool_stride,
          fmt::format("model.audio_frames ({}) leaves {} encoder frames, fewer than "
                      "model.audio_pool_stride ({}); raise the one or lower the other",
                      model.audio_frames, encoder_frames, model.audio_pool_stride));
}

void validate_points(const ModelConfig& model) {
  require_non_negative("model.point_layers", model.point_layers);
  require_positive("model.point_hidden", model.point_hidden);
  require_positive("model.point_heads", model.point_heads);
  require_positive("model.num_points", model.num_points);
  require_positive("model.point_groups", model.point_groups);
  require_positive("model.point_group_size", model.point_group_size);
  require_divisible("model.point_hidden", model.point_hidden, "model.point_heads",
                    model.point_heads);
  require(model.point_groups <= model.num_points,
          fmt::format("model.point_groups ({}) must not exceed model.num_points ({})",
                      model.point_groups, model.num_points));
  require(model.point_group_size <= model.num_points,
          fmt::format("model.point_group_size ({}) must not exceed model.num_points ({})",
                      model.point_group_size, model.num_points));
}

void validate_model(const ModelConfig& model) {
  require_non_negative("model.vocab_size", model.vocab_size);
  require_positive("model.hidden_size", model.hidden_size);
  require_positive("model.num_layers", model.num_layers);
  require_positive("model.num_heads", model.num_heads);
  require_positive("model.num_kv_heads", model.num_kv_heads);
  require_positive("model.intermediate_size", model.intermediate_size);
  require(model.hidden_size % model.num_heads == 0,
          fmt::format("model.hidden_size ({}) must be divisible by model.num_heads ({})",
                      model.hidden_size, model.num_heads));
  require(model.num_heads % model.num_kv_heads == 0,
          fmt::format("model.num_heads ({}) must be divisible by model.num_kv_heads ({})",
                      model.num_heads, model.num_kv_heads));
  const int64_t head_size = model.hidden_size / model.num_heads;
  require(head_size % 2 == 0,
          fmt::format("the head size model.hidden_size / model.num_heads ({} / {} = {}) must be "
                      "even for rotary embeddings",
                      model.hidden_size, model.num_heads, head_size));
  require_positive_number("model.rope_theta", model.rope_theta);
  require_positive_number("model.rms_norm_eps", model.rms_norm_eps);
  require_fraction("model.head_dropout", model.head_dropout, /*one_allowed=*/false);
  require_non_negative_number("model.init_std", model.init_std);
  require_non_negative_number("model.resampler_locality", model.resampler_locality);
  require_one_of("model.attention_backend", model.attention_backend,
                 {"reference", "sdpa", "cuda", "auto"});
  validate_vision(model);
  validate_audio(model);
  validate_points(model);
}

void validate_data(const DataConfig& data) {
  require(data.max_length >= 8,
          fmt::format("data.max_length must be at least 8, got {}", data.max_length));
  require_one_of("data.truncation", data.truncation, {"truncate", "drop"});
  require_one_of("data.on_bad_record", data.on_bad_record, {"error", "skip"});
  require_non_negative("data.num_workers", data.num_workers);
  require_positive("data.prefetch", data.prefetch);
  require_non_negative("data.micro_batch_tokens", data.micro_batch_tokens);
  require_positive_number("data.video_fps", data.video_fps);
  require_positive("data.video_frames", data.video_frames);
  require_non_negative("data.media_cache_mb", data.media_cache_mb);
}

void validate_train(const TrainConfig& train) {
  require(!train.output_dir.empty(), "train.output_dir must not be empty");
  require_positive("train.epochs", train.epochs);
  require_non_negative("train.max_steps", train.max_steps);
  require_positive("train.global_batch_pairs", train.global_batch_pairs);
  require_positive("train.micro_batch_pairs", train.micro_batch_pairs);
  require(train.global_batch_pairs % train.micro_batch_pairs == 0,
          fmt::format("train.global_batch_pairs ({}) must be divisible by "
                      "train.micro_batch_pairs ({})",
                      train.global_batch_pairs, train.micro_batch_pairs));
  require_positive_number("train.lr", train.lr);
  require_fraction("train.min_lr_ratio", train.min_lr_ratio, /*one_allowed=*/true);
  require_fraction("train.warmup_ratio", train.warmup_ratio, /*one_allowed=*/false);
  require_non_negative_number("train.weight_decay", train.weight_decay);
  require_fraction("train.adam_beta1", train.adam_beta1, /*one_allowed=*/false);
  require_fraction("train.adam_beta2", train.adam_beta2, /*one_allowed=*/false);
  require_positive_number("train.adam_eps", train.adam_eps);
  require_non_negative_number("train.max_grad_norm", train.max_grad_norm);
  require(std::isfinite(train.margin_scale),
          fmt::format("train.margin_scale must be a finite number, got {}", train.margin_scale));
  require_non_negative_number("train.centering", train.centering);
  require_positive("train.log_every", train.log_every);
  require_non_negative("train.eval_every", train.eval_every);
  require_one_of("train.eval_benchmark_format", train.eval_benchmark_format,
                 {"omni-rewardbench", "vl-rewardbench", "multimodal-rewardbench", "rewardbench"});
  require(train.best_metric.starts_with("eval/") || train.best_metric.starts_with("bench/"),
          fmt::format("train.best_metric must name an evaluation metric (eval/... or bench/...), "
                      "got '{}'",
                      train.best_metric));
  require_one_of("train.best_mode", train.best_mode, {"max", "min"});
  require_non_negative("train.save_every", train.save_every);
  require_positive("train.keep_last", train.keep_last);
  require_non_negative("train.threads", train.threads);
  require_one_of("train.device", train.device, {"auto", "cpu", "cuda"});
  require_one_of("train.precision", train.precision, {"fp32", "bf16", "fp16"});
  require_non_negative("train.activation_checkpointing", train.activation_checkpointing);
  require_one_of("train.param_dtype", train.param_dtype, {"fp32", "bf16"});
  require_non_negative_number("train.memory_budget_mb", train.memory_budget_mb);
}

void validate_lora(const LoraConfig& lora) {
  require_non_negative("lora.rank", lora.rank);
  require_positive_number("lora.alpha", lora.alpha);
  require_fraction("lora.dropout", lora.dropout, /*one_allowed=*/false);
  if (lora.target_modules == "all") return;
  static const std::vector<std::string> kTargets = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                    "gate_proj", "up_proj", "down_proj"};
  std::string_view rest = lora.target_modules;
  require(!rest.empty(),
          "lora.target_modules must not be empty; write \"all\" or a list such "
          "as \"q_proj,v_proj\"");
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string name(rest.substr(0, comma));
    std::erase(name, ' ');
    require(std::find(kTargets.begin(), kTargets.end(), name) != kTargets.end(),
            fmt::format("lora.target_modules: unknown module '{}'; valid are all, {}", name,
                        join(kTargets)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

void validate_dist(const DistConfig& dist) {
  require_one_of("dist.backend", dist.backend, {"auto", "gloo", "nccl"});
  require(dist.zero_stage >= 0 && dist.zero_stage <= 3,
          fmt::format("dist.zero_stage must be 0, 1, 2 or 3, got {}", dist.zero_stage));
  require_one_of("dist.reduce_dtype", dist.reduce_dtype, {"fp32", "bf16"});
  require_positive_number("dist.timeout", dist.timeout);
  require_positive_number("dist.bucket_mb", dist.bucket_mb);
}

// What the sharded optimizer (train.param_dtype bf16, dist.zero_stage 2 and 3) can serve.
void validate_sharding(const TrainConfig& train, const DistConfig& dist) {
  const bool bf16_params = train.param_dtype == "bf16";
  require(!bf16_params || train.precision == "bf16",
          fmt::format("train.param_dtype: bf16 parameters compute in bf16 and need "
                      "train.precision: bf16, got '{}'",
                      train.precision));
  require(dist.zero_stage < 2 || train.precision != "fp16",
          fmt::format("dist.zero_stage: stage {} has no fp16 loss scaling; use "
                      "train.precision: bf16 (or fp32)",
                      dist.zero_stage));
  require(dist.reduce_dtype == "fp32" || bf16_params || dist.zero_stage >= 2,
          "dist.reduce_dtype: bf16 reduction needs the sharded optimizer (train.param_dtype: "
          "bf16 or dist.zero_stage 2 or 3); fp32 parameters at stage 0 and 1 reduce in fp32");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public API.

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  Config config;
  apply_document(config, parse_yaml(yaml_text, origin), origin);
  for (const std::string& assignment : overrides) apply_override(config, assignment);
  validate_config(config);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parse_config("", "defaults", overrides);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw UserError(fmt::format("{}: config file not found; check the path", path));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UserError(fmt::format("{}: cannot read the config file", path));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_config(text.str(), path, overrides);
}

std::string dump_config(const Config& config) {
  Config copy = config;  // the table hands out mutable field pointers, so read a copy
  std::string yaml;
  std::string_view current_section;
  for (const ConfigKey& key : kConfigKeys) {
    if (section_of(key.path) != current_section) {
      current_section = section_of(key.path);
      yaml += fmt::format("{}:\n", current_section);
    }
    yaml += fmt::format("  {}: {}\n", name_of(key.path), format_value(key.field(copy)));
  }
  return yaml;
}

void validate_config(const Config& config) {
  validate_model(config.model);
  validate_data(config.data);
  require(config.data.video_frames <= config.model.max_frames,
          fmt::format("data.video_frames ({}) must not exceed model.max_frames ({}), the "
                      "temporal positions the resampler has",
                      config.data.video_frames, config.model.max_frames));
  require(config.data.video_frames % config.model.video_temporal_patch == 0,
          fmt::format("data.video_frames ({}) must be a multiple of model.video_temporal_patch "
                      "({}), the frames one vision patch spans",
                      config.data.video_frames, config.model.video_temporal_patch));
  validate_train(config.train);
  validate_lora(config.lora);
  require_positive("eval.batch_pairs", config.eval.batch_pairs);
  validate_dist(config.dist);
  validate_sharding(config.train, config.dist);
}

}  // namespace omnirm
