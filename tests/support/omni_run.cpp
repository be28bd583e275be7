// Implementation of tests/support/omni_run.h.
#include "support/omni_run.h"

#include "support/test_support.h"

namespace omnirm::testing {

namespace {

std::string model_yaml(const OmniRun& run) {
  const std::string hidden = std::to_string(run.tower_hidden);
  const std::string intermediate = std::to_string(run.tower_intermediate);
  std::string yaml =
      "model:\n  hidden_size: 32\n  num_layers: 1\n  num_heads: 2\n  num_kv_heads: 1\n"
      "  intermediate_size: 64\n  vision_layers: 1\n  vision_hidden: " +
      hidden + "\n  vision_heads: 2\n  vision_intermediate: " + intermediate +
      "\n  image_tokens: 2\n  audio_layers: 1\n  audio_hidden: " + hidden +
      "\n  audio_heads: 2\n  audio_intermediate: " + intermediate + "\n  audio_pool_stride: 10\n";
  if (run.point_tower) {
    yaml += "  point_layers: 1\n  point_hidden: " + hidden +
            "\n  point_heads: 2\n  num_points: 64\n  point_groups: 4\n";
  }
  return yaml;
}

std::string data_yaml(const std::string& data, const OmniRun& run) {
  std::string yaml = "data:\n  train: " + data + "/train.jsonl\n";
  if (run.eval_in_config) yaml += "  eval: " + data + "/eval.jsonl\n";
  return yaml + "  tokenizer: " + data + "/tok.model\n  max_length: 512\n";
}

std::string train_yaml(const OmniRun& run) {
  std::string yaml = "train:\n  global_batch_pairs: 8\n  micro_batch_pairs: " +
                     std::to_string(run.micro_batch_pairs) +
                     "\n  max_steps: " + std::to_string(run.max_steps) + "\n";
  if (run.save_every > 0) yaml += "  save_every: " + std::to_string(run.save_every) + "\n";
  if (run.keep_last > 0) yaml += "  keep_last: " + std::to_string(run.keep_last) + "\n";
  yaml += "  lr: 0.003\n  threads: " + std::to_string(run.threads) + "\n";
  if (!run.output_dir.empty()) yaml += "  output_dir: " + run.output_dir + "\n";
  return yaml;
}

}  // namespace

std::string make_omni_run_dir(const std::string& dir, const OmniRun& run) {
  const std::string data = dir + "/data";
  const CommandResult synth =
      run_command(omnirm_binary() + " data synth --tasks " + run.tasks + " --out " + data +
                  " --train-pairs " + std::to_string(run.train_pairs) + " --eval-pairs " +
                  std::to_string(run.eval_pairs) + " --seed " + std::to_string(run.seed));
  if (synth.exit_code != 0) return synth.output;
  std::string corpus = data + "/corpus.txt";
  if (!run.extra_corpora.empty()) {
    std::string text = read_file(corpus);
    for (const std::string& extra : run.extra_corpora) text += read_file(extra);
    corpus = dir + "/corpus.txt";
    write_file(corpus, text);
  }
  const CommandResult tok = run_command(omnirm_binary() + " tokenizer train --corpus " + corpus +
                                        " --out " + data + "/tok --vocab-size 400");
  if (tok.exit_code != 0) return tok.output;
  write_file(dir + "/omni.yaml", model_yaml(run) + data_yaml(data, run) + train_yaml(run));
  return "";
}

}  // namespace omnirm::testing
