// The experiment configuration: model, data, train, eval and dist sections of a YAML file.
// Every key is validated on load: an unknown key fails naming its path and the nearest
// valid key; a value of the wrong type names the expected type. Defaults below are the
// values used when a key is absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm {

struct ModelConfig {
  int64_t vocab_size = 0;  // 0: taken from the tokenizer
  int64_t hidden_size = 128;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t num_kv_heads = 2;  // grouped-query attention: num_heads % num_kv_heads == 0
  int64_t intermediate_size = 384;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  bool qkv_bias = true;
  bool head_bias = true;
  double head_dropout = 0.0;
  double init_std = 0.02;
  std::string attention_backend = "auto";  // reference | sdpa | cuda | auto
  bool prefix_sharing = true;  // false: naive [prompt|chosen] + [prompt|rejected] layout

  // Media towers; a tower with 0 layers is absent (the defaults give a text-only model).
  // Vision: a SigLIP-style ViT over image_size² pixels in patch_size² patches, then a
  // perceiver resampler giving image_tokens tokens per image or video frame.
  int64_t vision_layers = 0;
  int64_t vision_hidden = 64;
  int64_t vision_heads = 4;
  int64_t vision_intermediate = 256;
  int64_t image_size = 32;  // images and video frames arrive resized to this square
  int64_t patch_size = 8;
  int64_t image_tokens = 8;  // resampler queries per image / video frame
  int64_t max_frames = 16;   // temporal positions for video frames
  // Video frames per vision patch (a tubelet): 1 encodes each frame alone; 2 lets every patch
  // see two consecutive frames, so motion is visible to the first layer. data.video_frames
  // must be a multiple; a video gives video_frames / video_temporal_patch × image_tokens tokens.
  int64_t video_temporal_patch = 1;
  // With video_temporal_patch > 1: the patch embedding also sees each tubelet's motion-energy
  // maps (model/motion_energy.h), so which way things move is in the first, linear features.
  bool video_motion_channels = false;
  // > 0: each resampler query starts looking at its own region of the image (see
  // model/vision_tower.h ResamplerOptions::locality); 0: plain learned-query attention.
  double resampler_locality = 0.0;
  // Width of the resampler's cross-attention: 0 works at vision_hidden (kv_proj vision →
  // vision, proj vision → hidden_size); hidden_size gives MiniCPM-o-2.6's shape (kv_proj
  // vision → LLM, proj LLM → LLM), which its checkpoints need. Must be divisible by
  // vision_heads (the resampler's head count).
  int64_t resampler_hidden = 0;
  // Audio: a Whisper-style encoder over log-mel clips padded or cut to audio_frames, average
  // pooled by audio_pool_stride: ceil(audio_frames / 2) / audio_pool_stride tokens per clip.
  int64_t audio_layers = 0;
  int64_t audio_hidden = 64;
  int64_t audio_heads = 4;
  int64_t audio_intermediate = 256;
  int64_t mel_bins = 80;
  int64_t audio_frames = 100;  // mel frames per clip
  int64_t audio_pool_stride = 5;
  // 3D: a point-patch encoder over num_points points giving point_groups tokens per cloud.
  int64_t point_layers = 0;
  int64_t point_hidden = 64;  // its MLP width is 4 * point_hidden
  int64_t point_heads = 4;
  int64_t num_points = 512;
  int64_t point_groups = 16;
  int64_t point_group_size = 16;  // nearest points per group
  // Frozen towers keep their weights (requires_grad false); the resampler counts as vision.
  bool freeze_vision = false;
  bool freeze_audio = false;
  bool freeze_points = false;
  // The model family: "omnirm" (the towers above: square images, temporal embedding, motion
  // channels, fixed audio window) or "minicpmo", MiniCPM-o-2.6's own computation after
  // LLaMA-Factory's minicpm_o template and plugin (docs/minicpmo.md): images sliced into NaViT
  // patch grids (image_size / patch_size is then the side of SigLIP's position table), a
  // resampler with 2-D sin-cos key positions and hidden_size / 128 heads, Whisper over 30 s
  // windows with a chunked causal mask. A MiniCPM-o config.json sets these.
  std::string arch = "omnirm";
  int64_t slice_max = 9;             // minicpmo: most slices of one image (max_slice_nums)
  int64_t slice_resolution = 448;    // minicpmo: side of a slice's target area (scale_resolution)
  double audio_chunk_seconds = 1.0;  // minicpmo: Whisper's attention chunk (audio_chunk_length)
};

struct DataConfig {
  std::string train = "";               // JSONL of canonical pair records
  std::string eval = "";                // JSONL; empty: no evaluation
  std::string root = "";                // media root; empty: the JSONL file's directory
  std::string tokenizer = "";           // sentencepiece .model
  int64_t max_length = 1024;            // tokens of prompt + the longer response
  std::string truncation = "truncate";  // truncate | drop
  std::string on_bad_record = "error";  // error | skip
  bool shuffle = true;
  // Training sets with weights and caps, "PATH [weight=W] [max_pairs=N], ...", read after
  // `train` (if set, with weight 1); see data/loader.h.
  std::string mix = "";
  int64_t num_workers = 2;         // loader threads; 0: the training thread reads
  int64_t prefetch = 4;            // batches prepared ahead
  int64_t micro_batch_tokens = 0;  // > 0: micro-batches by packed tokens, not pair count
  bool token_cache = true;         // memoised tokenization (same ids, faster)
  double video_fps = 2.0;          // videos are sampled at most this many frames per second
  int64_t video_frames = 4;        // frames taken from each video (at most model.max_frames)
  // model.arch minicpmo: a sampled frame above this many pixels is shrunk (nearest neighbour)
  // to fit, as LLaMA-Factory's video_max_pixels does; omnirm's towers use model.image_size.
  int64_t video_max_pixels = 256 * 256;
  int64_t media_cache_mb = 256;  // decoded media kept in memory; 0: no cache
  // A directory of decoded media (data/media_store.h): read before decoding, filled with what
  // is decoded; the only media source of a build without decoders. Empty: none.
  std::string media_store = "";
};

struct TrainConfig {
  std::string output_dir = "runs/omnirm";
  int64_t seed = 42;
  int64_t epochs = 1;
  int64_t max_steps = 0;            // 0: epochs decide
  int64_t global_batch_pairs = 32;  // pairs per optimizer step
  int64_t micro_batch_pairs = 32;   // pairs per forward/backward; accumulation = global / micro
  double lr = 1e-3;
  double min_lr_ratio = 0.1;  // cosine decays to lr * min_lr_ratio
  double warmup_ratio = 0.05;
  double weight_decay = 0.01;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double max_grad_norm = 1.0;  // 0: no clipping
  double margin_scale = 1.0;   // multiplies each record's margin in the loss
  double centering = 0.0;      // lambda of lambda * mean((r_c + r_r)^2)
  int64_t log_every = 10;
  // Every metrics.jsonl scalar also goes to a TensorBoard event file in output_dir/tb/.
  bool tensorboard = true;
  int64_t eval_every = 0;  // 0: only at the end
  // A benchmark evaluated at the same cadence as data.eval (metrics.jsonl keys "bench/...");
  // its format: omni-rewardbench | vl-rewardbench | multimodal-rewardbench | rewardbench.
  std::string eval_benchmark = "";
  std::string eval_benchmark_format = "omni-rewardbench";
  // The evaluation metric whose best step is kept as checkpoints/best ("eval/accuracy",
  // "eval/loss", "bench/overall_with_ties", ...; any key of an evaluation record), and
  // whether larger (max) or smaller (min) is better.
  std::string best_metric = "eval/accuracy";
  std::string best_mode = "max";
  int64_t save_every = 0;  // 0: only at the end
  int64_t keep_last = 2;
  int64_t threads = 0;  // 0: all cores
  // Where training runs: cpu, cuda (the process's LOCAL_RANK-th GPU), or auto (cuda when a
  // GPU is present, else cpu).
  std::string device = "auto";
  // Compute precision: fp32, or bf16 / fp16 mixed precision (fp32 master weights, optimizer
  // state, rewards and loss; fp16 adds dynamic loss scaling). bf16 works on CPU and GPU.
  std::string precision = "fp32";
  // Activation checkpointing of transformer blocks (backbone and media towers): 0 none,
  // 1 every block, k every k-th block; a checkpointed block recomputes its activations in
  // the backward pass instead of keeping them.
  int64_t activation_checkpointing = 0;
  // Storage type of the working parameters: fp32, or bf16 (forward and backward in bf16, the
  // fp32 master copy only inside the optimizer's shards; needs precision bf16). Frozen
  // modules are stored in bf16 too, the value head stays fp32.
  std::string param_dtype = "fp32";
  // > 0: the per-rank memory budget in MiB. Training is refused before its first step when
  // `omnirm plan` predicts more; on the CPU the allocator is also capped at it.
  double memory_budget_mb = 0.0;
  // Start from these weights instead of a random initialisation: an `omnirm export`
  // directory or a checkpoint/run directory (the model shape is taken from it).
  std::string init_from = "";
};

// Low-rank adapters on the backbone's linear layers (rank 0: full fine-tuning). With LoRA
// on, the base weights are frozen; the adapters and the value head train.
struct LoraConfig {
  int64_t rank = 0;
  double alpha = 16.0;  // the update is scaled by alpha / rank
  double dropout = 0.0;
  // Comma-separated module names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
  // down_proj), or "all" for every one of them.
  std::string target_modules = "all";
};

struct EvalConfig {
  int64_t batch_pairs = 64;
};

// Data-parallel training (used only when several processes train together; see
// dist/world.h for how a process learns its rank).
struct DistConfig {
  std::string backend = "auto";  // auto (NCCL for CUDA, Gloo for CPU) | gloo | nccl
  // 0: every rank keeps everything; 1: the optimizer state is sharded; 2: gradients too
  // (reduce-scattered during backward); 3: parameters too (gathered block by block).
  int64_t zero_stage = 0;
  std::string reduce_dtype = "fp32";  // type gradients are reduced in: fp32 | bf16
  double timeout = 1800.0;            // seconds a collective may wait before it fails
  double bucket_mb = 25.0;            // gradient all-reduce bucket size, in MiB
  bool verbose = false;               // every rank logs, each line prefixed "[rank r]"
};

struct Config {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  LoraConfig lora;
  EvalConfig eval;
  DistConfig dist;
};

// Loads a YAML file (an empty path gives the defaults) and applies overrides of the form
// "section.key=value" in order. Throws UserError naming the file / key path on any problem.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Parses YAML text (`origin` names it in messages) and applies overrides.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

// Every key and its current value as YAML; parse_config(dump_config(c)) == c.
std::string dump_config(const Config& config);

// Cross-field checks (heads divide, batch sizes divide, enums valid). Throws UserError.
void validate_config(const Config& config);

}  // namespace omnirm
