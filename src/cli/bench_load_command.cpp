// `omnirm bench load PATH`: reads a safetensors checkpoint (directory, index or file) once
// mapped and once copied, each in a fresh process of this binary, touches every byte of every
// tensor, and reports read time and peak resident memory (VmHWM) side by side,
// with the checksum of the bytes read so both readers are seen to read the same weights.
// `--synthesize DIR` first writes a checkpoint of random weights with the tensor names and
// shapes of a Qwen2 sequence-classification model (Qwen2-0.5B sizes by default).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/core/process_memory.h"
#include "omnirm/io/safetensors_checkpoint.h"

namespace omnirm::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SynthesizeOptions {
  int64_t hidden = 896, layers = 24, heads = 14, kv_heads = 2, intermediate = 4864;
  int64_t vocab = 151936;
  std::string dtype = "bf16";
  std::string max_shard_size = "500MB";
};

struct BenchLoadOptions {
  std::string path;
  std::string storage = "both";
  std::string synthesize;
  SynthesizeOptions model;
};

// The Qwen2ForSequenceClassification tensors for the given sizes, random values.
io::NamedTensors qwen2_weights(const SynthesizeOptions& m) {
  const at::ScalarType type = m.dtype == "bf16"   ? at::kBFloat16
                              : m.dtype == "fp16" ? at::kHalf
                              : m.dtype == "fp32" ? at::kFloat
                                                  : at::ScalarType::Undefined;
  if (type == at::ScalarType::Undefined) {
    throw UserError("omnirm bench load --dtype: '" + m.dtype + "' is not bf16, fp16 or fp32");
  }
  if (m.heads <= 0 || m.kv_heads <= 0 || m.hidden % m.heads != 0) {
    throw UserError("omnirm bench load: --hidden must be a multiple of --heads, both positive");
  }
  const int64_t kv = m.hidden / m.heads * m.kv_heads;
  io::NamedTensors tensors;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    tensors.emplace_back(name, at::randn(shape).to(type));
  };
  add("model.embed_tokens.weight", {m.vocab, m.hidden});
  for (int64_t layer = 0; layer < m.layers; ++layer) {
    const std::string p = fmt::format("model.layers.{}.", layer);
    add(p + "input_layernorm.weight", {m.hidden});
    add(p + "self_attn.q_proj.weight", {m.hidden, m.hidden});
    add(p + "self_attn.q_proj.bias", {m.hidden});
    add(p + "self_attn.k_proj.weight", {kv, m.hidden});
    add(p + "self_attn.k_proj.bias", {kv});
    add(p + "self_attn.v_proj.weight", {kv, m.hidden});
    add(p + "self_attn.v_proj.bias", {kv});
    add(p + "self_attn.o_proj.weight", {m.hidden, m.hidden});
    add(p + "post_attention_layernorm.weight", {m.hidden});
    add(p + "mlp.gate_proj.weight", {m.intermediate, m.hidden});
    add(p + "mlp.up_proj.weight", {m.intermediate, m.hidden});
    add(p + "mlp.down_proj.weight", {m.hidden, m.intermediate});
  }
  add("model.norm.weight", {m.hidden});
  add("score.weight", {1, m.hidden});
  return tensors;
}

// One reader in this process; prints one `key=value ...` line for the parent.
void measure_one(const std::string& path, io::TensorStorage storage) {
  const int64_t rss_before = resident_bytes() / 1024;
  const auto start = Clock::now();
  const io::SafetensorsCheckpoint checkpoint = io::read_safetensors_checkpoint(path, storage);
  const double read_s = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t rss_after_read = resident_bytes() / 1024;
  // Sum every byte as 64-bit words: each page is touched once and nothing is allocated.
  uint64_t checksum = 0;
  const auto touch_start = Clock::now();
  for (const auto& [name, tensor] : checkpoint.tensors) {
    const auto* bytes = static_cast<const unsigned char*>(tensor.data_ptr());
    const size_t size = static_cast<size_t>(tensor.numel()) * tensor.element_size();
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      uint64_t word;
      std::memcpy(&word, bytes + i, 8);
      checksum += word;
    }
    for (; i < size; ++i) checksum += bytes[i];
  }
  const double touch_s = std::chrono::duration<double>(Clock::now() - touch_start).count();
  fmt::print(
      "tensors={} files={} weight_bytes={} read_s={:.3f} touch_s={:.3f} rss_before_kb={} "
      "rss_after_read_kb={} peak_kb={} checksum={:016x}\n",
      checkpoint.tensors.size(), checkpoint.files.size(), checkpoint.tensor_bytes, read_s, touch_s,
      rss_before, rss_after_read, peak_resident_bytes() / 1024, checksum);
}

std::map<std::string, std::string> run_child(const std::string& path, const std::string& storage) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string command =
      fmt::format("'{}' bench load '{}' --storage {} 2>&1", self, path, storage);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("bench load: cannot start " + self);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  std::map<std::string, std::string> fields;
  std::istringstream words(output);
  for (std::string word; words >> word;) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  if (status != 0 || !fields.count("peak_kb")) {
    while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) {
      output.pop_back();
    }
    const std::string last_line = output.substr(output.find_last_of('\n') + 1);
    throw UserError("bench load: the " + storage + " reader failed: " + last_line);
  }
  return fields;
}

void compare_readers(const std::string& path) {
  if (!fs::exists(path)) {
    throw UserError("omnirm bench load: " + path +
                    " does not exist; give a checkpoint directory, index or .safetensors file "
                    "(or --synthesize DTYPE to write one there)");
  }
  const std::map<std::string, std::string> mapped = run_child(path, "mapped");
  const std::map<std::string, std::string> copied = run_child(path, "copied");
  const double weight_mb = std::stod(mapped.at("weight_bytes")) / 1e6;
  fmt::print(
      "bench load: {}: {} tensors in {} files, {:.1f} MB of weights; each reader in a "
      "fresh process, every byte touched\n",
      path, mapped.at("tensors"), mapped.at("files"), weight_mb);
  fmt::print("{:<8} {:>8} {:>8} {:>12} {:>14} {:>10} {:>14} {:>16}\n", "reader", "read s",
             "touch s", "RSS before", "RSS after read", "peak RSS", "peak - before",
             "/ weight bytes");
  for (const auto& [name, row] : {std::pair{"mapped", mapped}, std::pair{"copied", copied}}) {
    const double before = std::stod(row.at("rss_before_kb")) / 1024;
    const double after_read = std::stod(row.at("rss_after_read_kb")) / 1024;
    const double peak = std::stod(row.at("peak_kb")) / 1024;
    fmt::print(
        "{:<8} {:>8} {:>8} {:>9.0f} MiB {:>10.0f} MiB {:>6.0f} MiB {:>10.0f} MiB {:>16.2f}\n", name,
        row.at("read_s"), row.at("touch_s"), before, after_read, peak, peak - before,
        (peak - before) * 1048576 / (weight_mb * 1e6));
  }
  fmt::print("checksums {} ({} / {})\n",
             mapped.at("checksum") == copied.at("checksum") ? "agree" : "DIFFER",
             mapped.at("checksum"), copied.at("checksum"));
  if (mapped.at("checksum") != copied.at("checksum")) {
    throw std::runtime_error("bench load: the two readers read different bytes");
  }
}

}  // namespace

void add_bench_load_command(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");
  auto* command = bench->add_subcommand(
      "load", "Peak memory and time of reading a safetensors checkpoint, mapped vs copied");
  auto o = std::make_shared<BenchLoadOptions>();
  command->add_option("path", o->path, "Checkpoint directory, index .json or .safetensors file")
      ->required();
  command->add_option("--storage", o->storage, "both (each in a fresh process), mapped, copied")
      ->check(CLI::IsMember({"both", "mapped", "copied"}))
      ->capture_default_str();
  command->add_option("--synthesize", o->synthesize,
                      "First write random Qwen2 weights to PATH as a checkpoint of this dtype "
                      "(bf16, fp16, fp32)");
  command->add_option("--hidden", o->model.hidden, "Synthesized hidden size")
      ->capture_default_str();
  command->add_option("--layers", o->model.layers, "Synthesized layers")->capture_default_str();
  command->add_option("--heads", o->model.heads, "Synthesized attention heads")
      ->capture_default_str();
  command->add_option("--kv-heads", o->model.kv_heads, "Synthesized key/value heads")
      ->capture_default_str();
  command->add_option("--intermediate", o->model.intermediate, "Synthesized MLP width")
      ->capture_default_str();
  command->add_option("--vocab", o->model.vocab, "Synthesized vocabulary")->capture_default_str();
  command
      ->add_option("--max-shard-size", o->model.max_shard_size,
                   "Shard size of the synthesized checkpoint")
      ->capture_default_str();
  command->callback([o] {
    if (!o->synthesize.empty()) {
      o->model.dtype = o->synthesize;
      const uint64_t shard_bytes =
          io::parse_byte_size(o->model.max_shard_size, "omnirm bench load --max-shard-size");
      fs::create_directories(o->path);
      const auto files =
          io::save_safetensors_sharded(o->path, qwen2_weights(o->model), shard_bytes);
      fmt::print("wrote {} files to {}\n", files.size(), o->path);
    }
    if (o->storage == "both") {
      compare_readers(o->path);
    } else {
      measure_one(o->path,
                  o->storage == "mapped" ? io::TensorStorage::mapped : io::TensorStorage::copied);
    }
  });
}

}  // namespace omnirm::cli
