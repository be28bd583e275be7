// The streaming pair loader: canonical JSONL files in, batches of tokenized pairs out, one
// global training step at a time, never holding a dataset in memory.
//
// Indexing. When built, the loader reads each file once, sequentially in large chunks, and
// validates every record (bad ones stop it or are skipped and counted, per on_bad_record;
// ties are dropped unless keep_ties). What it keeps is one 8-byte span per usable record:
// its byte offset (40 bits) and length (24 bits). Records are then read back by offset.
//
// Epochs. A dataset's selection is all its usable records, or a fixed seeded subset of
// max_pairs of them. Its weight says how many times each selected record is seen per epoch:
// 1 once, 2 twice, 0.5 half of them (the other half the next epoch). Each dataset is walked
// in passes, each pass a seeded permutation of its selection; the epoch plan, all datasets
// together, is then shuffled as a whole by (seed, epoch), so the datasets are mixed evenly
// through the epoch in the ratio of their counts. Without shuffle, passes keep file order
// and the datasets are interleaved in proportion. Memory: 8 bytes per selected record for
// the spans plus 8 bytes per plan entry for the current epoch (and the next one, near an
// epoch's end); 317K pairs take about 5 MB. Everything else is bounded by the prefetch depth.
//
// Steps and ranks. The plan is cut into global batches of global_batch_pairs (the last may
// be short); rank r of world w takes the entries [r*B/w, (r+1)*B/w) of each global batch of
// B entries, so the ranks see disjoint shares whose union is the whole epoch.
//
// Work. Worker threads each build whole batches (read the spans, parse, tokenize through a
// TokenCache, run the media hook, cut micro-batches); at most `prefetch` batches are ready
// or in progress ahead of the consumer, and they are handed out in step order. A batch
// depends only on its step, so the output is the same for any number of workers.
//
// Position. LoaderPosition is (seed, epoch, offset into the epoch plan) plus each dataset's
// fingerprint and consumed count; seek() restores it exactly, also with a different number
// of ranks, provided the data, the seed, the weights and the caps are unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/example.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/pair_batch.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/text/truncation.h"

namespace omnirm::data {

struct DatasetSource {
  std::string path;       // canonical JSONL
  double weight = 1.0;    // times each selected record is seen per epoch
  int64_t max_pairs = 0;  // 0: every usable record; N: a fixed seeded subset of N
};

// Parses data.mix: entries separated by ',', each "PATH [weight=W] [max_pairs=N]", e.g.
// "general.jsonl max_pairs=50000, instruct.jsonl weight=2". Throws UserError naming the entry.
std::vector<DatasetSource> parse_mix(const std::string& spec);

// A media part of a pair, for the media decoder.
struct MediaRef {
  Segment segment = kPrompt;  // which run of tokens it belongs to
  std::string type;           // image | video | audio | mesh | views
  std::string path;           // root joined with the record's relative path
};

struct EncodedPair {
  text::PairTokens tokens;
  float margin = 0.0f;
  bool tie = false;
  std::string id;
  std::string task;
  std::vector<std::string> tags;
  std::vector<MediaRef> media;         // in token order: prompt, chosen, rejected
  std::vector<MediaItem> media_items;  // the decoded media, one per ref (set by the media hook)
  int32_t dataset = 0;                 // index into LoaderOptions::datasets

  // Tokens this pair takes in a packed batch: P + C + R, or 2P + C + R without sharing.
  int64_t packed_tokens(bool prefix_sharing) const;
};

struct MicroBatch {
  std::vector<EncodedPair> pairs;
  int64_t packed_tokens = 0;  // sum over its pairs
};

// pack_pairs over a micro-batch's pairs and margins (each margin times margin_scale).
PairBatch pack_micro_batch(const MicroBatch& micro_batch, bool prefix_sharing,
                           double margin_scale = 1.0);

struct DatasetPosition {
  std::string path;
  int64_t records = 0;     // selected records (after validation, ties and the cap)
  int64_t file_bytes = 0;  // the file's size when it was indexed
  int64_t consumed = 0;    // its plan entries before the offset, this epoch
};

struct LoaderPosition {
  uint64_t seed = 0;
  int64_t epoch = 0;   // 0-based
  int64_t offset = 0;  // plan entries of the epoch already handed out (whole global batches)
  std::vector<DatasetPosition> datasets;

  // One line of JSON; from_json throws UserError(origin + ": what") on a bad text.
  std::string to_json() const;
  static LoaderPosition from_json(const std::string& text, const std::string& origin);
};

struct LoaderBatch {
  int64_t epoch = 0;
  int64_t step = 0;                       // global step within the epoch
  int64_t global_pairs = 0;               // plan entries of this global step, every rank together
  std::vector<MicroBatch> micro_batches;  // this rank's share
  EncodeCounts counts;                    // this rank's share: encoded, truncated, dropped
  int64_t skipped = 0;  // records found bad on reading (only when the file changed)
  LoaderPosition next;  // the position right after this batch: save it to resume there

  int64_t pairs() const;
};

// Called on worker threads for every pair that has media parts, after tokenization: the
// place where media decoding and the media token layout plug in.
using MediaHook = std::function<void(const Example& example, EncodedPair& pair)>;

// An Example as a pair ready for batching: tokens (through `cache` when given), labels and its
// media references (paths joined to `media_root`), handed to `media_hook` when it has media.
// nullopt when the length policy drops it. Errors are UserErrors naming the record.
std::optional<EncodedPair> encode_pair(const Example& example, const PairEncoder& encoder,
                                       EncodeCounts& counts, TokenCache* cache,
                                       const std::string& media_root, const MediaHook& media_hook);

struct LoaderOptions {
  std::vector<DatasetSource> datasets;
  std::string root;  // media root; empty: each file's own directory
  uint64_t seed = 42;
  bool shuffle = true;
  int64_t epochs = 0;  // 0: never ends
  int64_t global_batch_pairs = 32;
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t micro_batch_pairs = 32;  // micro-batch size when micro_batch_tokens is 0
  int64_t micro_batch_tokens = 0;  // > 0: micro-batches of at most this many packed tokens
  bool prefix_sharing = true;      // the layout whose tokens micro_batch_tokens counts
  int64_t max_length = 1024;
  text::TruncationPolicy truncation = text::TruncationPolicy::truncate;
  OnBadRecord on_bad_record = OnBadRecord::error;
  bool keep_ties = false;
  int64_t num_workers = 2;  // 0: next() does the work on the caller's thread
  int64_t prefetch = 4;     // batches ready or in progress ahead of the consumer
  bool token_cache = true;
  MediaHook media_hook;
  std::optional<MediaLayout> media_layout;  // placeholder expansion (models with adapters)
  std::optional<MinicpmoLayoutOptions> minicpmo_layout;  // model.arch minicpmo rendering
};

// Training options from a config: data.train or data.mix, data.* loader keys, train.seed,
// train.epochs, train.global_batch_pairs, train.micro_batch_pairs, model.prefix_sharing.
LoaderOptions loader_options_from_config(const Config& config, int64_t rank, int64_t world_size);

// What the index pass found in one file.
struct DatasetIndexSummary {
  std::string path;
  int64_t lines = 0;                  // non-blank lines
  int64_t usable = 0;                 // valid records kept (ties excluded unless keep_ties)
  int64_t bad = 0;                    // skipped under on_bad_record: skip
  int64_t ties = 0;                   // tie records left out
  int64_t selected = 0;               // after max_pairs
  int64_t per_epoch = 0;              // plan entries per epoch (selected x weight)
  std::vector<std::string> problems;  // the first 100 bad records, "file:line: what"
};

class Loader {
 public:
  // Indexes every dataset; throws UserError on a missing file, a bad record under `error`,
  // or options that cannot work. `tokenizer` must outlive the loader.
  Loader(const text::Tokenizer& tokenizer, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in step order; nullopt once `epochs` epochs are done. Rethrows an error
  // met while building that batch.
  std::optional<LoaderBatch> next();

  // Where the next batch starts. Throws UserError when `position` does not fit the data.
  LoaderPosition position() const;
  void seek(const LoaderPosition& position);

  int64_t steps_per_epoch() const;
  int64_t pairs_per_epoch() const;  // plan entries, every rank together
  const std::vector<DatasetIndexSummary>& index_summary() const;
  // Bytes held by the spans and the cached epoch plans.
  int64_t index_bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace omnirm::data
