// `omnirm export`: writes a trained model as a directory in one of two HF layouts
// (--layout; model/hf_names.h): a text model in the Qwen2 sequence-classification layout
// (model.* and score.weight in model.safetensors, or in shards of at most --max-shard-size
// listed by model.safetensors.index.json; config.json with num_labels 1), a model with media
// towers in MiniCPM-o-2.6's (llm.*, vpm.*, resampler.*, apm.*, audio_projection_layer.*, and
// omnirm_<name> for what MiniCPM-o lacks; config.json with model_type minicpmo). Either way
// the value head sits beside it as value_head.safetensors (v_head.summary.weight / .bias, the
// LLaMA-Factory names), with the tokenizer, the chat template and omnirm's own config. The
// directory is written atomically. A model trained with LoRA is
// merged into its base weights first; with --adapters-only the directory holds the adapters
// and the value head alone in PEFT's layout (adapter_model.safetensors, adapter_config.json).
// transformers' AutoModelForSequenceClassification + AutoTokenizer score the export as omnirm
// does (tools/check_hf_export.py; tests/integration/hf_export_test.cpp): pad_token_id is
// <|im_end|>, never the last token of a rendered response ("...<|im_end|>\n"), so the head
// reads the same last token; Qwen2ForSequenceClassification's score has no bias, so a value
// head bias is written as config.json "omnirm_score_bias" (add it to the logits); the chat
// template renders omnirm's prompt format, add_generation_prompt included.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/io/hf_config_writer.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/lora.h"
#include "omnirm/text/chat_template.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::cli {

namespace {

namespace fs = std::filesystem;

// text/chat_template.h's format: a system turn (the criteria) only where the messages have
// one, every turn closed by "<|im_end|>\n", and the assistant header when a generation
// prompt is asked for (omnirm's prompt part ends with it).
std::string jinja_chat_template() {
  return "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
         "{{ message['content'] }}<|im_end|>\n{% endfor %}"
         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
}

nlohmann::json tokenizer_config(bool is_json) {
  nlohmann::json config = {
      {"tokenizer_class", is_json ? "PreTrainedTokenizerFast" : "LlamaTokenizer"},
      {"chat_template", jinja_chat_template()},
      {"eos_token", "<|im_end|>"},
      {"pad_token", "<|im_end|>"},
      {"padding_side", "right"},
      {"add_bos_token", false},
      {"add_eos_token", false},
      {"add_prefix_space", false},
      {"clean_up_tokenization_spaces", false}};
  if (!is_json) {
    // The sentencepiece model encodes text as is (no dummy prefix): the legacy LlamaTokenizer
    // path hands each run between special tokens to sentencepiece unchanged.
    config["legacy"] = true;
  }
  return config;
}

// PEFT's adapter_config.json for a sequence-classification LoRA.
nlohmann::json peft_adapter_config(const LoraConfig& lora, const std::string& base_model) {
  return {{"peft_type", "LORA"},
          {"task_type", "SEQ_CLS"},
          {"base_model_name_or_path", base_model},
          {"r", lora.rank},
          {"lora_alpha", lora.alpha},
          {"lora_dropout", lora.dropout},
          {"target_modules", model::lora_target_modules(lora)},
          {"bias", "none"},
          {"modules_to_save", {"score"}},
          {"fan_in_fan_out", false},
          {"inference_mode", true}};
}

void write_adapters(infer::LoadedModel& loaded, const std::string& out) {
  if (!model::has_lora(*loaded.model)) {
    throw UserError(loaded.dir +
                    ": the model has no LoRA adapters (lora.rank is 0); export it without "
                    "--adapters-only");
  }
  io::AtomicDirectory dir(out);
  io::save_safetensors(dir.file("adapter_model.safetensors"),
                       model::peft_adapter_tensors(*loaded.model), {{"format", "pt"}});
  std::ofstream(dir.file("adapter_config.json"))
      << peft_adapter_config(loaded.config.lora, loaded.config.train.init_from).dump(2) << "\n";
  io::write_file_atomic(dir.file("omnirm.yaml"), dump_config(loaded.config));
  dir.commit();
}

bool has_towers(const ModelConfig& m) {
  return m.vision_layers > 0 || m.audio_layers > 0 || m.point_layers > 0;
}

// The model's tensors under `layout`'s names (model/hf_weights.h to_hf_tensors): the weights
// for model.safetensors and the value head (v_head.summary.*) for value_head.safetensors.
// Qwen2 seq-cls keeps score.weight in the weights too (transformers reads it there) and
// writes the towers, if any, under omnirm's names.
void split_tensors(model::RewardModelImpl& model, bool minicpmo, io::NamedTensors& weights,
                   io::NamedTensors& head) {
  if (minicpmo) {
    for (auto& [name, tensor] : model::to_hf_tensors(model, model::HfLayout::minicpmo))
      (name.starts_with("v_head.") ? head : weights).emplace_back(name, tensor);
    return;
  }
  for (const auto& item : model.named_parameters()) {
    if (item.key() != "score.bias") weights.emplace_back(item.key(), item.value());
    if (item.key() == "score.weight") head.emplace_back("v_head.summary.weight", item.value());
    if (item.key() == "score.bias") head.emplace_back("v_head.summary.bias", item.value());
  }
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "export",
      "Export a trained model as an HF-layout directory: Qwen2 sequence classification for "
      "a text model, MiniCPM-o-2.6 for a model with media towers (see --layout)");
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  command->add_option("-m,--model", *model, "Checkpoint directory or run output directory")
      ->required();
  command->add_option("-o,--out", *out, "Directory to write")->required();
  auto adapters_only = std::make_shared<bool>(false);
  command->add_flag("--adapters-only", *adapters_only,
                    "Write only the LoRA adapters and the value head (PEFT layout) instead of "
                    "the merged model");
  auto max_shard_size = std::make_shared<std::string>("5GB");
  command
      ->add_option("--max-shard-size", *max_shard_size,
                   "Largest model.safetensors shard: bytes, or 500MB, 5GB, 2GiB; a model "
                   "that fits is one model.safetensors")
      ->capture_default_str();
  auto layout = std::make_shared<std::string>("auto");
  command
      ->add_option("--layout", *layout,
                   "auto: minicpmo for a model with vision, audio or point towers, qwen2 for a "
                   "text model; qwen2: Qwen2ForSequenceClassification names (towers under "
                   "omnirm's names); minicpmo: MiniCPM-o-2.6 names (llm.*, vpm.*, resampler.*, "
                   "apm.*; omnirm_* for what MiniCPM-o lacks). Both write value_head.safetensors")
      ->check(CLI::IsMember({"auto", "qwen2", "minicpmo"}))
      ->capture_default_str();
  command->callback([model, out, adapters_only, max_shard_size, layout] {
    const uint64_t max_shard_bytes =
        io::parse_byte_size(*max_shard_size, "omnirm export --max-shard-size");
    infer::LoadedModel loaded = infer::load_model_dir(*model);
    if (fs::path(*out).has_parent_path()) fs::create_directories(fs::path(*out).parent_path());
    if (*adapters_only) {
      write_adapters(loaded, *out);
      fmt::print("exported the LoRA adapters of {} to {}\n", loaded.dir, *out);
      return;
    }
    model::merge_lora(*loaded.model);
    const bool minicpmo =
        *layout == "minicpmo" || (*layout == "auto" && has_towers(loaded.config.model));
    io::AtomicDirectory dir(*out);
    io::NamedTensors weights, head;
    split_tensors(*loaded.model, minicpmo, weights, head);
    io::save_safetensors_sharded(dir.path(), weights, max_shard_bytes, {{"format", "pt"}});
    io::save_safetensors(dir.file("value_head.safetensors"), head, {{"format", "pt"}});
    const int64_t vocab_size = loaded.model->vocab_size();
    const int32_t im_end_id = loaded.tokenizer.piece_id(text::kImEnd);
    nlohmann::json config =
        minicpmo ? io::minicpmo_config_json(loaded.config.model, vocab_size, im_end_id)
                 : io::qwen2_seq_cls_config_json(loaded.config.model, vocab_size, im_end_id);
    for (const auto& [name, tensor] : head) {
      // Qwen2ForSequenceClassification's score has no bias: add this to its logits.
      if (name == "v_head.summary.bias" && !minicpmo) {
        config["omnirm_score_bias"] = tensor.to(at::kDouble).item<double>();
      }
    }
    std::ofstream(dir.file("config.json")) << config.dump(2) << "\n";
    // A tokenizer.json loads in transformers as a fast tokenizer; a .model as Llama's.
    const std::string tokenizer_file = text::checkpoint_tokenizer_file(loaded.dir);
    const bool is_json = text::tokenizer_kind_of(tokenizer_file) == text::TokenizerKind::bpe_json;
    std::ofstream(dir.file("tokenizer_config.json")) << tokenizer_config(is_json).dump(2) << "\n";
    fs::copy_file(tokenizer_file, dir.file(fs::path(tokenizer_file).filename().string()));
    io::write_file_atomic(dir.file("omnirm.yaml"), dump_config(loaded.config));
    dir.commit();
    fmt::print("exported {} to {} ({} layout)\n", loaded.dir, *out,
               minicpmo ? "MiniCPM-o-2.6" : "Qwen2 sequence-classification");
  });
}

}  // namespace omnirm::cli
