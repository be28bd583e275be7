// Implementation of data/loader.h: the index and selection per dataset, the epoch plans,
// the worker threads with their bounded prefetch, and positions.
#include "omnirm/data/loader.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "line_reader.h"
#include "loader_index.h"
#include "loader_plan.h"
#include "omnirm/core/error.h"
#include "omnirm/data/token_cache.h"

namespace omnirm::data {
namespace {

enum SelectionTag : uint64_t { kSubsetTag = 11 };

struct Dataset {
  DatasetSource source;
  std::string media_root;
  int fd = -1;
  int64_t file_bytes = 0;
  std::vector<uint64_t> spans;  // the selection, in file order
};

// Per-thread tools: a parser and a token cache keep buffers between records.
struct WorkerTools {
  PairRecordParser parser;
  std::unique_ptr<TokenCache> cache;
  std::string buffer;
};

// A batch built ahead, or the error met while building it.
struct Prepared {
  std::optional<LoaderBatch> batch;
  std::exception_ptr error;
};

// Keeps `max_pairs` spans chosen by seed, in file order.
void apply_cap(std::vector<uint64_t>& spans, int64_t max_pairs, uint64_t seed, size_t dataset) {
  if (max_pairs <= 0 || max_pairs >= static_cast<int64_t>(spans.size())) return;
  const std::vector<uint32_t> order =
      seeded_permutation(spans.size(), PlanRandom(plan_seed(seed, kSubsetTag, dataset)));
  std::vector<uint32_t> chosen(order.begin(), order.begin() + max_pairs);
  std::sort(chosen.begin(), chosen.end());
  std::vector<uint64_t> kept;
  kept.reserve(chosen.size());
  for (uint32_t i : chosen) kept.push_back(spans[i]);
  spans = std::move(kept);
}

void check_options(const LoaderOptions& options) {
  if (options.datasets.empty()) {
    throw UserError("the loader has no datasets; set data.train or data.mix");
  }
  if (options.global_batch_pairs < 1) throw UserError("train.global_batch_pairs must be positive");
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    throw UserError("rank " + std::to_string(options.rank) + " is outside world size " +
                    std::to_string(options.world_size) + "; check the launch settings");
  }
  if (options.micro_batch_pairs < 1) throw UserError("train.micro_batch_pairs must be positive");
  if (options.micro_batch_tokens < 0) throw UserError("data.micro_batch_tokens must be 0 or more");
  if (options.num_workers < 0) throw UserError("data.num_workers must be 0 or more");
  if (options.prefetch < 1) throw UserError("data.prefetch must be at least 1");
  if (options.epochs < 0) throw UserError("train.epochs must be 0 or more");
  if (options.datasets.size() > 0xFFFF) throw UserError("data.mix: at most 65535 datasets");
}

}  // namespace

struct Loader::State {
  State(const text::Tokenizer& tokenizer_in, LoaderOptions options_in)
      : tokenizer(tokenizer_in),
        options(std::move(options_in)),
        encoder(tokenizer_in, options.max_length, options.truncation, options.media_layout) {
    if (options.minicpmo_layout) encoder.set_minicpmo_layout(*options.minicpmo_layout);
  }

  const text::Tokenizer& tokenizer;
  LoaderOptions options;
  PairEncoder encoder;
  std::vector<Dataset> datasets;
  std::vector<DatasetIndexSummary> summaries;
  PlanInputs plan_inputs;
  int64_t pairs_per_epoch = 0;
  int64_t steps_per_epoch = 0;

  std::mutex plan_mutex;
  std::map<int64_t, std::shared_ptr<const EpochPlan>> plans;

  std::mutex mutex;
  std::condition_variable work_ready;   // workers wait for room
  std::condition_variable batch_ready;  // the consumer waits for its batch
  int64_t next_step = 0;                // global step (epochs together) the consumer takes next
  int64_t claim_step = 0;               // next step a worker may start
  bool stopping = false;
  std::map<int64_t, Prepared> ready;
  std::vector<std::thread> workers;
  WorkerTools caller_tools;  // num_workers == 0

  int64_t total_steps() const {
    return options.epochs > 0 ? options.epochs * steps_per_epoch : INT64_MAX;
  }

  void make_tools(WorkerTools& tools) const {
    if (options.token_cache) tools.cache = std::make_unique<TokenCache>(tokenizer);
  }

  std::shared_ptr<const EpochPlan> plan_for(int64_t epoch) {
    std::lock_guard<std::mutex> lock(plan_mutex);
    if (auto found = plans.find(epoch); found != plans.end()) return found->second;
    // Plans of epochs the consumer has left behind are no longer needed.
    int64_t consumer_epoch = 0;
    {
      std::lock_guard<std::mutex> state_lock(mutex);
      consumer_epoch = next_step / steps_per_epoch;
    }
    for (auto it = plans.begin(); it != plans.end();) {
      it = it->first < consumer_epoch ? plans.erase(it) : std::next(it);
    }
    auto plan = std::make_shared<const EpochPlan>(build_epoch_plan(plan_inputs, epoch));
    plans.emplace(epoch, plan);
    return plan;
  }

  LoaderPosition position_at(int64_t global_step) {
    LoaderPosition position;
    position.seed = options.seed;
    position.epoch = global_step / steps_per_epoch;
    const int64_t step = global_step % steps_per_epoch;
    position.offset = step * options.global_batch_pairs;
    std::shared_ptr<const EpochPlan> plan;
    if (step > 0) plan = plan_for(position.epoch);
    for (size_t d = 0; d < datasets.size(); ++d) {
      DatasetPosition dataset;
      dataset.path = datasets[d].source.path;
      dataset.records = static_cast<int64_t>(datasets[d].spans.size());
      dataset.file_bytes = datasets[d].file_bytes;
      dataset.consumed = plan ? plan->consumed_before(step, static_cast<int64_t>(d),
                                                      static_cast<int64_t>(datasets.size()))
                              : 0;
      position.datasets.push_back(std::move(dataset));
    }
    return position;
  }

  // Reads, parses and encodes one plan entry into `pairs`; bad records follow the policy.
  void load_entry(uint64_t entry, WorkerTools& tools, LoaderBatch& batch,
                  std::vector<EncodedPair>& pairs) {
    const uint32_t d = entry_dataset(entry);
    const Dataset& dataset = datasets[d];
    const uint64_t span = dataset.spans[entry_record(entry)];
    tools.buffer.resize(span_length(span));
    read_exactly(dataset.fd, span_offset(span), tools.buffer.size(), tools.buffer.data(),
                 dataset.source.path);
    try {
      const Example example = tools.parser.parse(tools.buffer, dataset.source.path);
      std::optional<EncodedPair> pair =
          encode_pair(example, encoder, batch.counts, tools.cache.get(), dataset.media_root,
                      options.media_hook);
      if (!pair) return;
      pair->dataset = static_cast<int32_t>(d);
      pairs.push_back(std::move(*pair));
    } catch (const UserError& error) {
      // The index pass validated this record, so the file changed since; say where.
      const std::string& path = dataset.source.path;
      std::string what = error.what();
      if (what.starts_with(path + ": ")) {
        what = path + ":" + std::to_string(line_number_at(path, span_offset(span))) +
               what.substr(path.size());
      }
      if (options.on_bad_record == OnBadRecord::error) {
        throw UserError(what + "; fix the record or set data.on_bad_record: skip");
      }
      ++batch.skipped;
    }
  }

  std::vector<MicroBatch> cut_micro_batches(std::vector<EncodedPair> pairs) const {
    std::vector<MicroBatch> micro_batches;
    const bool sharing = options.prefix_sharing;
    if (options.micro_batch_tokens == 0) {
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (i % static_cast<size_t>(options.micro_batch_pairs) == 0) micro_batches.emplace_back();
        micro_batches.back().packed_tokens += pairs[i].packed_tokens(sharing);
        micro_batches.back().pairs.push_back(std::move(pairs[i]));
      }
      return micro_batches;
    }
    // First fit, longest first: few micro-batches, each within the budget (a pair longer
    // than the budget goes alone).
    std::vector<size_t> order(pairs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return pairs[a].packed_tokens(sharing) > pairs[b].packed_tokens(sharing);
    });
    for (size_t i : order) {
      const int64_t tokens = pairs[i].packed_tokens(sharing);
      auto fits =
          std::find_if(micro_batches.begin(), micro_batches.end(), [&](const MicroBatch& m) {
            return m.packed_tokens + tokens <= options.micro_batch_tokens;
          });
      if (fits == micro_batches.end())
        fits = micro_batches.insert(micro_batches.end(), MicroBatch{});
      fits->packed_tokens += tokens;
      fits->pairs.push_back(std::move(pairs[i]));
    }
    return micro_batches;
  }

  LoaderBatch produce(int64_t global_step, WorkerTools& tools) {
    LoaderBatch batch;
    batch.epoch = global_step / steps_per_epoch;
    batch.step = global_step % steps_per_epoch;
    const std::shared_ptr<const EpochPlan> plan = plan_for(batch.epoch);
    const int64_t entries = static_cast<int64_t>(plan->entries.size());
    const int64_t begin = batch.step * options.global_batch_pairs;
    batch.global_pairs = std::min(options.global_batch_pairs, entries - begin);
    const int64_t mine_begin = begin + options.rank * batch.global_pairs / options.world_size;
    const int64_t mine_end = begin + (options.rank + 1) * batch.global_pairs / options.world_size;
    std::vector<EncodedPair> pairs;
    pairs.reserve(static_cast<size_t>(mine_end - mine_begin));
    for (int64_t i = mine_begin; i < mine_end; ++i) {
      load_entry(plan->entries[static_cast<size_t>(i)], tools, batch, pairs);
    }
    batch.micro_batches = cut_micro_batches(std::move(pairs));
    batch.next = position_at(global_step + 1);
    return batch;
  }

  void work() {
    WorkerTools tools;
    make_tools(tools);
    for (;;) {
      int64_t step = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_ready.wait(lock, [&] {
          return stopping ||
                 (claim_step < next_step + options.prefetch && claim_step < total_steps());
        });
        if (stopping) return;
        step = claim_step++;
      }
      Prepared prepared;
      try {
        prepared.batch = produce(step, tools);
      } catch (...) {
        prepared.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (stopping) return;
        ready.emplace(step, std::move(prepared));
      }
      batch_ready.notify_all();
    }
  }

  void start_workers() {
    stopping = false;
    claim_step = next_step;
    for (int64_t i = 0; i < options.num_workers; ++i) workers.emplace_back([this] { work(); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    work_ready.notify_all();
    for (std::thread& worker : workers) worker.join();
    workers.clear();
    ready.clear();
  }
};

Loader::Loader(const text::Tokenizer& tokenizer, LoaderOptions options)
    : state_(std::make_unique<State>(tokenizer, std::move(options))) {
  State& s = *state_;
  check_options(s.options);
  s.plan_inputs.seed = s.options.seed;
  s.plan_inputs.shuffle = s.options.shuffle;
  s.plan_inputs.batch = s.options.global_batch_pairs;
  for (size_t d = 0; d < s.options.datasets.size(); ++d) {
    const DatasetSource& source = s.options.datasets[d];
    if (!(source.weight >= 0.0) || source.weight > 1e6) {
      throw UserError("dataset '" + source.path + "': weight must be a number from 0 to 1e6");
    }
    RecordIndex index =
        build_record_index(source.path, s.options.on_bad_record, s.options.keep_ties);
    Dataset dataset;
    dataset.source = source;
    dataset.media_root = s.options.root.empty()
                             ? std::filesystem::path(source.path).parent_path().string()
                             : s.options.root;
    dataset.file_bytes = index.file_bytes;
    dataset.spans = std::move(index.spans);
    apply_cap(dataset.spans, source.max_pairs, s.options.seed, d);
    dataset.fd = open_for_reading(source.path);
    DatasetIndexSummary summary = std::move(index.summary);
    summary.selected = static_cast<int64_t>(dataset.spans.size());
    summary.per_epoch = std::llround(source.weight * static_cast<double>(summary.selected));
    s.plan_inputs.sizes.push_back(summary.selected);
    s.plan_inputs.counts.push_back(summary.per_epoch);
    s.pairs_per_epoch += summary.per_epoch;
    s.summaries.push_back(std::move(summary));
    s.datasets.push_back(std::move(dataset));
  }
  if (s.pairs_per_epoch == 0) {
    throw UserError("no usable training pairs in " + s.options.datasets.front().path +
                    (s.datasets.size() > 1 ? " and the other datasets" : "") +
                    "; check the files with `omnirm data validate`");
  }
  s.steps_per_epoch =
      (s.pairs_per_epoch + s.options.global_batch_pairs - 1) / s.options.global_batch_pairs;
  s.make_tools(s.caller_tools);
  s.start_workers();
}

Loader::~Loader() {
  state_->stop_workers();
  for (Dataset& dataset : state_->datasets) {
    if (dataset.fd >= 0) ::close(dataset.fd);
  }
}

std::optional<LoaderBatch> Loader::next() {
  State& s = *state_;
  if (s.options.num_workers == 0) {
    if (s.next_step >= s.total_steps()) return std::nullopt;
    LoaderBatch batch = s.produce(s.next_step, s.caller_tools);
    ++s.next_step;
    return batch;
  }
  Prepared prepared;
  {
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.next_step >= s.total_steps()) return std::nullopt;
    s.batch_ready.wait(lock, [&] { return s.ready.count(s.next_step) > 0; });
    auto found = s.ready.find(s.next_step);
    prepared = std::move(found->second);
    s.ready.erase(found);
    ++s.next_step;
  }
  s.work_ready.notify_all();
  if (prepared.error) std::rethrow_exception(prepared.error);
  return std::move(prepared.batch);
}

LoaderPosition Loader::position() const {
  int64_t step = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    step = state_->next_step;
  }
  return state_->position_at(step);
}

void Loader::seek(const LoaderPosition& position) {
  State& s = *state_;
  const std::string where = "loader position: ";
  if (position.seed != s.options.seed) {
    throw UserError(where + "saved with seed " + std::to_string(position.seed) + ", the run uses " +
                    std::to_string(s.options.seed) + "; resume with the same train.seed");
  }
  if (position.datasets.size() != s.datasets.size()) {
    throw UserError(where + "saved with " + std::to_string(position.datasets.size()) +
                    " datasets, the run has " + std::to_string(s.datasets.size()) +
                    "; resume with the same data.train / data.mix");
  }
  if (position.epoch < 0 || position.offset < 0 || position.offset >= s.pairs_per_epoch ||
      position.offset % s.options.global_batch_pairs != 0) {
    throw UserError(where + "offset " + std::to_string(position.offset) +
                    " is not the start of a global batch of " +
                    std::to_string(s.options.global_batch_pairs) + " in an epoch of " +
                    std::to_string(s.pairs_per_epoch) +
                    " pairs; resume with the same train.global_batch_pairs");
  }
  const int64_t step =
      position.epoch * s.steps_per_epoch + position.offset / s.options.global_batch_pairs;
  const LoaderPosition expected = s.position_at(step);
  for (size_t d = 0; d < s.datasets.size(); ++d) {
    const DatasetPosition& saved = position.datasets[d];
    const DatasetPosition& now = expected.datasets[d];
    if (saved.records != now.records || saved.file_bytes != now.file_bytes) {
      throw UserError(where + "dataset " + std::to_string(d + 1) + " ('" + saved.path + "') had " +
                      std::to_string(saved.records) + " records in " +
                      std::to_string(saved.file_bytes) + " bytes, now '" + now.path + "' has " +
                      std::to_string(now.records) + " in " + std::to_string(now.file_bytes) +
                      "; resume with the same data");
    }
    if (saved.consumed != now.consumed) {
      throw UserError(where + "dataset '" + saved.path + "' consumed " +
                      std::to_string(saved.consumed) + " records, the plan says " +
                      std::to_string(now.consumed) +
                      "; resume with the same weights, caps and data.shuffle");
    }
  }
  s.stop_workers();
  s.next_step = step;
  s.start_workers();
}

int64_t Loader::steps_per_epoch() const { return state_->steps_per_epoch; }
int64_t Loader::pairs_per_epoch() const { return state_->pairs_per_epoch; }
const std::vector<DatasetIndexSummary>& Loader::index_summary() const { return state_->summaries; }

int64_t Loader::index_bytes() const {
  int64_t bytes = 0;
  for (const Dataset& dataset : state_->datasets) {
    bytes += static_cast<int64_t>(dataset.spans.capacity() * sizeof(uint64_t));
  }
  std::lock_guard<std::mutex> lock(state_->plan_mutex);
  for (const auto& [epoch, plan] : state_->plans) {
    bytes += static_cast<int64_t>(plan->entries.capacity() * sizeof(uint64_t) +
                                  plan->consumed.capacity() * sizeof(int64_t));
  }
  return bytes;
}

}  // namespace omnirm::data
