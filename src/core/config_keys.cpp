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

// A table row whose path is spelt exactly like the member it reaches, and what the key means
// (one or two sentences of Markdown, shown in docs/config.md; keep them short).
// clang-format off
#define OMNIRM_CONFIG_KEY(section, name, meaning) \
  ConfigKey{#section "." #name, [](Config& c) -> FieldRef { return &c.section.name; }, meaning}
// clang-format on

// Grouped by section in the order model, data, train, lora, eval, dist; dump_config keeps this
// order.
constexpr ConfigKey kConfigKeys[] = {
    OMNIRM_CONFIG_KEY(model, vocab_size, "Embedding rows; 0 takes the tokenizer's size."),
    OMNIRM_CONFIG_KEY(model, hidden_size, "Width of the Qwen2 decoder."),
    OMNIRM_CONFIG_KEY(model, num_layers, "Decoder layers."),
    OMNIRM_CONFIG_KEY(model, num_heads,
                      "Attention heads; must divide hidden_size, and the head size must be even "
                      "(rotary embeddings)."),
    OMNIRM_CONFIG_KEY(model, num_kv_heads,
                      "Key/value heads (grouped-query attention); must divide num_heads."),
    OMNIRM_CONFIG_KEY(model, intermediate_size, "Width of the SwiGLU MLP."),
    OMNIRM_CONFIG_KEY(model, rope_theta, "Rotary embedding base."),
    OMNIRM_CONFIG_KEY(model, rms_norm_eps, "Epsilon of the RMSNorm layers."),
    OMNIRM_CONFIG_KEY(model, qkv_bias,
                      "Biases on the query, key and value projections (Qwen2 has them)."),
    OMNIRM_CONFIG_KEY(model, head_bias, "A bias on the value head."),
    OMNIRM_CONFIG_KEY(model, head_dropout, "Dropout before the value head, in training only."),
    OMNIRM_CONFIG_KEY(model, init_std, "Standard deviation of the random initialisation."),
    OMNIRM_CONFIG_KEY(model, attention_backend,
                      "`reference` (dense masked attention, the ground truth), `sdpa` (LibTorch's "
                      "fused attention on the same mask), `cuda` (the flash-style kernels for "
                      "bf16/fp16, head dims 64 and 128, required: other inputs stop the run) or "
                      "`auto` (the kernels where they serve and passed their self-test, sdpa "
                      "elsewhere): [attention.md](attention.md)."),
    OMNIRM_CONFIG_KEY(
        model, prefix_sharing,
        "The pair-prefix layout, one row `[prompt | chosen | rejected]` per pair; false: the naive "
        "two-sequence layout (the same rewards, the prompt encoded twice)."),
    OMNIRM_CONFIG_KEY(model, vision_layers,
                      "Layers of the SigLIP-style ViT for images, video frames and multi-view "
                      "renders; 0: no vision adapter."),
    OMNIRM_CONFIG_KEY(model, vision_hidden, "Width of the ViT."),
    OMNIRM_CONFIG_KEY(model, vision_heads,
                      "Heads of the ViT and of the resampler; must divide vision_hidden."),
    OMNIRM_CONFIG_KEY(model, vision_intermediate, "MLP width of the ViT."),
    OMNIRM_CONFIG_KEY(
        model, image_size,
        "Images and video frames are resized to this square; a multiple of patch_size."),
    OMNIRM_CONFIG_KEY(model, patch_size, "Side of a ViT patch, in pixels."),
    OMNIRM_CONFIG_KEY(model, image_tokens,
                      "Tokens the perceiver resampler gives each image or video frame."),
    OMNIRM_CONFIG_KEY(model, max_frames,
                      "Temporal positions of the resampler: the most frames a video may give."),
    OMNIRM_CONFIG_KEY(model, resampler_locality,
                      "> 0: each resampler query starts out looking at its own region of the "
                      "image; 0: plain learned-query attention."),
    OMNIRM_CONFIG_KEY(model, resampler_hidden,
                      "Width of the resampler's cross-attention; 0: vision_hidden; hidden_size: "
                      "MiniCPM-o-2.6's shape (its checkpoints need it; a MiniCPM-o `config.json` "
                      "sets it). Must be divisible by vision_heads."),
    OMNIRM_CONFIG_KEY(
        model, video_temporal_patch,
        "Video frames per vision patch (a tubelet): 1 encodes each frame alone, 2 lets every patch "
        "see two consecutive frames. data.video_frames must be a multiple of it."),
    OMNIRM_CONFIG_KEY(model, video_motion_channels,
                      "With video_temporal_patch > 1: the patch embedding also sees each tubelet's "
                      "motion-energy maps, so the direction of motion is in the first features."),
    OMNIRM_CONFIG_KEY(model, audio_layers,
                      "Layers of the Whisper-style audio encoder; 0: no audio adapter."),
    OMNIRM_CONFIG_KEY(model, audio_hidden, "Width of the audio encoder; even, at least 4."),
    OMNIRM_CONFIG_KEY(model, audio_heads, "Heads of the audio encoder; must divide audio_hidden."),
    OMNIRM_CONFIG_KEY(model, audio_intermediate, "MLP width of the audio encoder."),
    OMNIRM_CONFIG_KEY(model, mel_bins, "Log-mel bins of an audio clip."),
    OMNIRM_CONFIG_KEY(model, audio_frames, "Mel frames (10 ms each) a clip is cut or padded to."),
    OMNIRM_CONFIG_KEY(model, audio_pool_stride,
                      "Average pooling after the encoder: ceil(audio_frames / 2) / "
                      "audio_pool_stride tokens per clip."),
    OMNIRM_CONFIG_KEY(model, point_layers,
                      "Layers of the point-patch encoder for meshes and point clouds; 0: none."),
    OMNIRM_CONFIG_KEY(model, point_hidden, "Width of the point encoder (its MLP is 4 × wider)."),
    OMNIRM_CONFIG_KEY(model, point_heads, "Heads of the point encoder; must divide point_hidden."),
    OMNIRM_CONFIG_KEY(model, num_points, "Points sampled from each 3D file."),
    OMNIRM_CONFIG_KEY(model, point_groups,
                      "Tokens per point cloud (one per group); at most num_points."),
    OMNIRM_CONFIG_KEY(model, point_group_size, "Nearest points in each group; at most num_points."),
    OMNIRM_CONFIG_KEY(model, freeze_vision,
                      "Keep the vision tower and resampler fixed (left out of the optimizer)."),
    OMNIRM_CONFIG_KEY(model, freeze_audio, "Keep the audio encoder fixed."),
    OMNIRM_CONFIG_KEY(model, freeze_points, "Keep the point encoder fixed."),
    OMNIRM_CONFIG_KEY(model, arch,
                      "`omnirm` (omnirm's own towers) or `minicpmo` (MiniCPM-o-2.6's own "
                      "computation: image slices, NaViT grids, chunked Whisper; a MiniCPM-o "
                      "config.json sets it): [minicpmo.md](minicpmo.md)."),
    OMNIRM_CONFIG_KEY(model, slice_max, "minicpmo: the most slices of one image (max_slice_nums)."),
    OMNIRM_CONFIG_KEY(model, slice_resolution,
                      "minicpmo: side of a slice's target area in pixels (scale_resolution)."),
    OMNIRM_CONFIG_KEY(model, audio_chunk_seconds,
                      "minicpmo: the span of Whisper's chunked causal attention "
                      "(audio_chunk_length)."),

    OMNIRM_CONFIG_KEY(data, train,
                      "Training pair JSONL (paths relative to the working directory)."),
    OMNIRM_CONFIG_KEY(
        data, eval,
        "Held-out pair JSONL evaluated at train.eval_every and at the end; empty: none."),
    OMNIRM_CONFIG_KEY(data, root,
                      "Media root of the pair files; empty: each JSONL file's own directory."),
    OMNIRM_CONFIG_KEY(data, tokenizer,
                      "A sentencepiece `.model`, or an HF `tokenizer.json` (byte-level BPE, e.g. "
                      "Qwen2's): [data.md](data.md)."),
    OMNIRM_CONFIG_KEY(data, max_length, "Tokens of the prompt plus the longer response."),
    OMNIRM_CONFIG_KEY(data, truncation,
                      "`truncate`: cut the prompt from the left (to no less than half the budget), "
                      "then the responses from the right keeping their closing tokens; `drop`: "
                      "leave over-long pairs out. Both are counted in the summary."),
    OMNIRM_CONFIG_KEY(data, on_bad_record,
                      "`error`: stop at the first bad record (`file:line: field: what`); `skip`: "
                      "leave it out and count it."),
    OMNIRM_CONFIG_KEY(data, shuffle, "A seeded shuffle per epoch."),
    OMNIRM_CONFIG_KEY(data, mix,
                      "More training sets, `PATH [weight=W] [max_pairs=N], ...` (weight: times "
                      "each record is seen per epoch; max_pairs: a fixed seeded subset)."),
    OMNIRM_CONFIG_KEY(data, num_workers, "Loader threads; 0: the training thread reads."),
    OMNIRM_CONFIG_KEY(data, prefetch, "Batches prepared ahead."),
    OMNIRM_CONFIG_KEY(data, micro_batch_tokens,
                      "> 0: length-aware micro-batches of at most this many packed tokens instead "
                      "of a fixed pair count."),
    OMNIRM_CONFIG_KEY(data, token_cache, "Memoised tokenization (the same ids, faster)."),
    OMNIRM_CONFIG_KEY(data, video_fps,
                      "Videos are sampled uniformly at no more than this many frames per second "
                      "(under model.arch minicpmo by LLaMA-Factory's rule: "
                      "[minicpmo.md](minicpmo.md))."),
    OMNIRM_CONFIG_KEY(data, video_frames,
                      "Frames taken from each video (the last one repeated for shorter clips); at "
                      "most model.max_frames (minicpmo: at most this many, no repetition)."),
    OMNIRM_CONFIG_KEY(data, video_max_pixels,
                      "minicpmo: a sampled frame above this many pixels shrinks to fit (nearest "
                      "neighbour), as the fork's video_resolution (256² in the recipe) does in "
                      "LLaMA-Factory's plugin; omnirm's towers use model.image_size."),
    OMNIRM_CONFIG_KEY(data, media_cache_mb,
                      "Decoded media kept in memory, keyed by file content, so a file shared by "
                      "many pairs is decoded once; 0: no cache."),
    OMNIRM_CONFIG_KEY(data, media_store,
                      "A directory of decoded media kept across runs, keyed by file content and "
                      "decode settings: read before decoding, filled with what is decoded; the "
                      "only media source of a build without decoders: [data.md](data.md)."),

    OMNIRM_CONFIG_KEY(train, output_dir, "Where metrics, TensorBoard files and checkpoints go."),
    OMNIRM_CONFIG_KEY(train, seed, "Seed of the initialisation, the shuffle and dropout."),
    OMNIRM_CONFIG_KEY(train, epochs, "Passes over the training data."),
    OMNIRM_CONFIG_KEY(train, max_steps,
                      "> 0: stop after this many optimizer steps, whatever epochs says."),
    OMNIRM_CONFIG_KEY(train, global_batch_pairs, "Pairs per optimizer step, over all ranks."),
    OMNIRM_CONFIG_KEY(train, micro_batch_pairs,
                      "Pairs per forward pass; gradient accumulation is global / (micro × ranks)."),
    OMNIRM_CONFIG_KEY(train, lr, "Peak learning rate: linear warmup, then cosine decay."),
    OMNIRM_CONFIG_KEY(train, min_lr_ratio, "The cosine decays to lr × min_lr_ratio."),
    OMNIRM_CONFIG_KEY(train, warmup_ratio, "Share of the steps spent warming up."),
    OMNIRM_CONFIG_KEY(train, weight_decay, "AdamW weight decay (none on norms and biases)."),
    OMNIRM_CONFIG_KEY(train, adam_beta1, "AdamW β1."),
    OMNIRM_CONFIG_KEY(train, adam_beta2, "AdamW β2."),
    OMNIRM_CONFIG_KEY(train, adam_eps, "AdamW ε."),
    OMNIRM_CONFIG_KEY(train, max_grad_norm, "Gradient clipping norm; 0: no clipping."),
    OMNIRM_CONFIG_KEY(train, margin_scale,
                      "Multiplies each record's `margin` in the loss −log σ(r_c − r_r − margin)."),
    OMNIRM_CONFIG_KEY(train, centering,
                      "λ of the centering term λ·mean((r_c + r_r)²) (TRL recommends 0.01)."),
    OMNIRM_CONFIG_KEY(train, log_every, "Steps between metric lines."),
    OMNIRM_CONFIG_KEY(train, tensorboard,
                      "Also write every `metrics.jsonl` scalar to a TensorBoard event file in "
                      "`OUTPUT/tb/`: [metrics.md](metrics.md)."),
    OMNIRM_CONFIG_KEY(train, eval_every, "Steps between evaluations; 0: only at the end."),
    OMNIRM_CONFIG_KEY(train, eval_benchmark,
                      "A benchmark evaluated at the cadence of eval_every (metrics `bench/...`): "
                      "[eval.md](eval.md)."),
    OMNIRM_CONFIG_KEY(train, eval_benchmark_format,
                      "Its layout: `omni-rewardbench`, `vl-rewardbench`, `multimodal-rewardbench` "
                      "or `rewardbench`."),
    OMNIRM_CONFIG_KEY(train, best_metric,
                      "The evaluation metric whose best step is kept as `checkpoints/best` "
                      "(`eval/accuracy`, `eval/loss`, `bench/overall_with_ties`, ...)."),
    OMNIRM_CONFIG_KEY(train, best_mode,
                      "`max` or `min`: whether larger or smaller best_metric is better."),
    OMNIRM_CONFIG_KEY(train, save_every, "Steps between checkpoints; 0: only at the end."),
    OMNIRM_CONFIG_KEY(train, keep_last,
                      "Checkpoints kept (older ones are pruned; `best` never is)."),
    OMNIRM_CONFIG_KEY(train, threads, "CPU threads; 0: all cores."),
    OMNIRM_CONFIG_KEY(train, device,
                      "`cpu`, `cuda` (the LOCAL_RANK-th GPU, for data-parallel ranks) or `auto` "
                      "(cuda when a GPU is present)."),
    OMNIRM_CONFIG_KEY(
        train, precision,
        "`fp32`, or `bf16` / `fp16` mixed precision (autocast; fp32 master weights, optimizer "
        "state, value head, rewards and loss; fp16 adds dynamic loss scaling, logged as "
        "`loss_scale`). bf16 runs on the CPU too: [memory.md](memory.md)."),
    OMNIRM_CONFIG_KEY(train, activation_checkpointing,
                      "1: recompute every transformer block (backbone and towers) in backward "
                      "instead of keeping its activations; k: every k-th block; 0: none."),
    OMNIRM_CONFIG_KEY(train, param_dtype,
                      "Storage type of the working parameters: `fp32`, or `bf16` (forward and "
                      "backward in bf16, the fp32 master copy only inside the optimizer's shards; "
                      "needs train.precision bf16). Frozen modules are stored in bf16 too: "
                      "[memory.md](memory.md)."),
    OMNIRM_CONFIG_KEY(train, memory_budget_mb,
                      "> 0: per-rank memory budget in MiB. Training is refused before its first "
                      "step when `omnirm plan` predicts more; on the CPU the allocator is capped "
                      "at it too. 0: no budget."),
    OMNIRM_CONFIG_KEY(train, init_from,
                      "An `omnirm export` directory, a checkpoint or a Hugging Face checkpoint to "
                      "start from; the model's shape, and the tokenizer when data.tokenizer is "
                      "empty, come from it: [finetune.md](finetune.md)."),

    OMNIRM_CONFIG_KEY(lora, rank,
                      "Rank of LoRA adapters on the backbone's projections; 0: full fine-tuning. "
                      "With LoRA the base weights and towers are frozen and the value head trains "
                      "in full: [finetune.md](finetune.md)."),
    OMNIRM_CONFIG_KEY(lora, alpha, "The adapters' update is scaled by alpha / rank."),
    OMNIRM_CONFIG_KEY(lora, dropout, "Dropout on the adapters' input."),
    OMNIRM_CONFIG_KEY(lora, target_modules,
                      "Comma-separated `q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                      "down_proj`, or `all`."),

    OMNIRM_CONFIG_KEY(
        eval, batch_pairs,
        "Pairs per forward pass when evaluating (training's evaluation, `eval`, `score`)."),

    OMNIRM_CONFIG_KEY(dist, backend,
                      "`auto` (NCCL for CUDA devices, Gloo for the CPU), `gloo` or `nccl`."),
    OMNIRM_CONFIG_KEY(dist, zero_stage,
                      "0: every rank keeps everything; 1: the AdamW state is sharded over the "
                      "ranks; 2: gradients too (reduce-scattered during backward); 3: parameters "
                      "too (gathered block by block): [memory.md](memory.md)."),
    OMNIRM_CONFIG_KEY(dist, reduce_dtype,
                      "Type gradients are reduced in: `fp32`, or `bf16` (needs train.param_dtype "
                      "bf16 or dist.zero_stage 2 or 3)."),
    OMNIRM_CONFIG_KEY(
        dist, timeout,
        "Seconds a rendezvous or collective may wait before it fails, naming the operation."),
    OMNIRM_CONFIG_KEY(dist, bucket_mb,
                      "Gradient all-reduce bucket size in MiB (smaller buckets start communicating "
                      "earlier in backward)."),
    OMNIRM_CONFIG_KEY(
        dist, verbose,
        "Every rank prints, each line prefixed `[rank r]`; otherwise only rank 0 prints."),
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
