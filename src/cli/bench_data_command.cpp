// `omnirm bench data`: the streaming loader's throughput (read + parse + tokenize + pack,
// pairs/s on one core by default) and its peak resident memory, on generated text corpora of
// realistic lengths at several sizes, to show that memory does not grow with the corpus.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/data/bench_corpus.h"
#include "omnirm/data/loader_bench.h"
#include "omnirm/data/token_cache.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::cli {
namespace {

namespace fs = std::filesystem;

constexpr double kGoalPairsPerSecond = 20000.0;
constexpr int64_t kGoalPeakBytes = int64_t{1} << 30;

struct BenchDataOptions {
  std::vector<int64_t> sizes = {100000, 317382};
  uint64_t seed = 1;
  std::string tokenizer;
  int64_t vocab_size = 8000;
  int64_t workers = 0;
  int64_t global_batch = 64;
  int64_t micro_batch = 8;
  int64_t max_length = 2048;
  bool no_token_cache = false;
  std::string dir;
  bool keep = false;
};

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string thousands(double value) {
  const std::string digits = fmt::format("{:.0f}", value);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && digits[i - 1] != '-' && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

void run_bench_data(const BenchDataOptions& options) {
  if (options.sizes.empty()) throw UserError("--pairs: give at least one corpus size");
  for (int64_t size : options.sizes) {
    if (size < 1) throw UserError("--pairs: corpus sizes must be positive");
  }
  const bool own_dir = options.dir.empty();
  const fs::path dir =
      own_dir ? fs::temp_directory_path() / ("omnirm-bench-data-" + std::to_string(::getpid()))
              : fs::path(options.dir);
  fs::create_directories(dir);

  std::string tokenizer_path = options.tokenizer;
  if (tokenizer_path.empty()) {
    const auto start = std::chrono::steady_clock::now();
    text::TokenizerTrainOptions train;
    train.corpus_path = (dir / "tokenizer_corpus.txt").string();
    train.model_prefix = (dir / "tokenizer").string();
    train.vocab_size = options.vocab_size;
    data::write_bench_tokenizer_corpus(train.corpus_path, 20000, options.seed);
    text::train_tokenizer(train);
    tokenizer_path = train.model_prefix + ".model";
    fmt::print("trained a tokenizer (vocab {}) on the corpus's kind of text in {:.1f} s\n",
               options.vocab_size,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const text::Tokenizer tokenizer = text::Tokenizer::load(tokenizer_path);
  const bool cache = !options.no_token_cache && data::TokenCache::segmentable(tokenizer);
  fmt::print(
      "bench data: read + parse + tokenize + pack one epoch, {}; tokenizer {} (vocab {}), token "
      "cache {}; global batch {}, micro-batch {}, max_length {}\n",
      options.workers == 0 ? "one core (the calling thread does all the work)"
                           : fmt::format("{} worker threads", options.workers),
      tokenizer_path, tokenizer.vocab_size(), cache ? "on" : "off", options.global_batch,
      options.micro_batch, options.max_length);
  fmt::print("{:>9} {:>8} {:>7} {:>8} {:>8} {:>9} {:>11} {:>11} {:>16} {:>16} {:>11} {:>10}\n",
             "pairs", "file MB", "gen s", "index s", "epoch s", "pairs/s", "pairs/cpu-s",
             "tokens/s", "prompt p50/p90", "pair p50/p90/max", "loader RSS", "index+plan");

  double slowest = 1e300;
  double slowest_cpu = 1e300;
  std::vector<int64_t> peaks;
  for (int64_t size : options.sizes) {
    const std::string corpus = (dir / fmt::format("corpus-{}.jsonl", size)).string();
    const auto start = std::chrono::steady_clock::now();
    const int64_t bytes = data::write_bench_corpus(corpus, size, options.seed);
    const double generate_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    data::LoaderOptions loader;
    loader.datasets = {data::DatasetSource{corpus}};
    loader.seed = options.seed;
    loader.global_batch_pairs = options.global_batch;
    loader.micro_batch_pairs = options.micro_batch;
    loader.max_length = options.max_length;
    loader.num_workers = options.workers;
    loader.token_cache = !options.no_token_cache;
    const data::LoaderBenchResult r = data::bench_loader_epoch_in_child(tokenizer, loader);
    fmt::print(
        "{:>9} {:>8.0f} {:>7.1f} {:>8.2f} {:>8.2f} {:>9} {:>11} {:>11} {:>16} {:>16} {:>7.0f} MiB "
        "{:>6.1f} MB\n",
        thousands(static_cast<double>(r.pairs)), static_cast<double>(bytes) / 1e6, generate_seconds,
        r.index_seconds, r.epoch_seconds, thousands(r.pairs_per_second()),
        thousands(r.pairs_per_cpu_second()),
        thousands(static_cast<double>(r.packed_tokens) / r.epoch_seconds),
        fmt::format("{}/{}", r.prompt_tokens.p50, r.prompt_tokens.p90),
        fmt::format("{}/{}/{}", r.pair_tokens.p50, r.pair_tokens.p90, r.pair_tokens.max),
        mib(r.loader_peak_bytes()), static_cast<double>(r.index_bytes) / 1e6);
    if (r.truncated + r.dropped > 0) {
      fmt::print("          ({} pairs truncated, {} dropped at max_length {})\n", r.truncated,
                 r.dropped, options.max_length);
    }
    slowest = std::min(slowest, r.pairs_per_second());
    slowest_cpu = std::min(slowest_cpu, r.pairs_per_cpu_second());
    peaks.push_back(r.loader_peak_bytes());
    if (!options.keep) fs::remove(corpus);
  }
  fmt::print(
      "loader RSS: peak resident memory the loader added to its process (VmHWM after a "
      "reset, minus VmRSS before)\n");
  fmt::print(
      "pairs/cpu-s: pairs per second of the process's CPU time (one thread works when "
      "--workers is 0), the rate of one core of its own on a busy machine\n");
  double load[1] = {0.0};
  if (::getloadavg(load, 1) == 1) {
    fmt::print("machine: {} cores, load average {:.2f} during the run\n",
               std::thread::hardware_concurrency(), load[0]);
  }
  fmt::print("goal >= {} pairs/s: {} (slowest {} pairs/s wall, {} pairs/cpu-s)\n",
             thousands(kGoalPairsPerSecond), slowest >= kGoalPairsPerSecond ? "met" : "NOT met",
             thousands(slowest), thousands(slowest_cpu));
  const int64_t worst = *std::max_element(peaks.begin(), peaks.end());
  fmt::print("goal <= 1 GiB loader peak RSS: {} (largest {:.0f} MiB)\n",
             worst <= kGoalPeakBytes ? "met" : "NOT met", mib(worst));
  if (own_dir && !options.keep) {
    std::error_code error;
    fs::remove_all(dir, error);
  } else {
    fmt::print("files kept in {}\n", dir.string());
  }
}

}  // namespace

void add_bench_data_command(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");
  auto* command = bench->add_subcommand(
      "data", "Loader pairs/s (read + tokenize + pack) and peak memory on generated corpora");
  auto options = std::make_shared<BenchDataOptions>();
  command->add_option("--pairs", options->sizes, "Corpus sizes in pairs (100000,317382)")
      ->delimiter(',');
  command->add_option("--seed", options->seed, "Corpus seed");
  command->add_option(
      "--tokenizer", options->tokenizer,
      "A sentencepiece .model or an HF tokenizer.json (default: train a .model on generated text)");
  command->add_option("--vocab-size", options->vocab_size, "Vocabulary of the trained tokenizer");
  command->add_option("--workers", options->workers,
                      "Loader worker threads; 0 (default): all work on the calling thread");
  command->add_option("--global-batch", options->global_batch, "Pairs per global batch");
  command->add_option("--micro-batch", options->micro_batch, "Pairs per packed micro-batch");
  command->add_option("--max-length", options->max_length, "data.max_length for encoding");
  command->add_flag("--no-token-cache", options->no_token_cache,
                    "Tokenize every text with the tokenizer directly");
  command->add_option("--dir", options->dir, "Where the corpora go (default: a temp directory)");
  command->add_flag("--keep", options->keep, "Keep the generated files");
  command->callback([options] { run_bench_data(*options); });
}

}  // namespace omnirm::cli
