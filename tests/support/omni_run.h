// A tiny multi-task omni setup for the integration tests, made with the omnirm binary:
// synthetic pairs with real media, a tokenizer trained on their corpus, and a config for a
// one-layer model with small vision, audio and (optionally) point towers.
#pragma once

#include <string>
#include <vector>

namespace omnirm::testing {

// What differs between the suites that use make_omni_run_dir. The LLM is always one layer,
// 32 wide (2 heads, 1 KV head, intermediate 64), with max_length 512, 8 pairs a step and
// lr 0.003; every tower is one layer with 2 heads, images give 2 tokens, audio pools by 10,
// the point tower takes 64 points in 4 groups.
struct OmniRun {
  std::string tasks;  // `data synth --tasks`, e.g. "ti2t,tv2t,ta2t,t23d"
  int train_pairs = 8;
  int eval_pairs = 4;
  int seed = 0;
  int tower_hidden = 32;        // vision, audio and point tower width
  int tower_intermediate = 64;  // vision and audio MLP width
  bool point_tower = true;      // point_* model keys (needed for t23d)
  bool eval_in_config = true;   // data.eval: the synthesised eval.jsonl
  // Corpora the tokenizer learns from besides the synthesised one; when there are any, all
  // are written together to dir/corpus.txt first.
  std::vector<std::string> extra_corpora;
  int micro_batch_pairs = 4;
  int max_steps = 2;
  int save_every = 0;  // left out when 0
  int keep_last = 0;   // left out when 0
  int threads = 1;
  std::string output_dir;  // train.output_dir; left out when empty
};

// Writes the pairs to dir/data/{train,eval}.jsonl, a 400-piece tokenizer dir/data/tok.model
// and the config dir/omni.yaml. Returns "" on success, else the failing command's output.
std::string make_omni_run_dir(const std::string& dir, const OmniRun& run);

}  // namespace omnirm::testing
