// Tests of the streaming loader: each record exactly once per epoch across ranks, seeded
// order, resume mid-epoch and across epochs, mixing ratios, caps, micro-batches by tokens,
// the prefetch bound, memory per record, bad records and the media hook.
#include "omnirm/data/loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "data_test_support.h"
#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

using testing::numbered_pairs;
using testing::pair_line;
using testing::shared_tokenizer;
using testing::write_lines;

LoaderOptions options_for(const std::vector<DatasetSource>& datasets) {
  LoaderOptions options;
  options.datasets = datasets;
  options.seed = 7;
  options.epochs = 1;
  options.global_batch_pairs = 8;
  options.micro_batch_pairs = 8;
  options.num_workers = 2;
  return options;
}

// Every id the loader hands out, in order, one inner vector per batch.
std::vector<std::vector<std::string>> drain(Loader& loader, int64_t max_batches = 1 << 30) {
  std::vector<std::vector<std::string>> batches;
  while (static_cast<int64_t>(batches.size()) < max_batches) {
    std::optional<LoaderBatch> batch = loader.next();
    if (!batch) break;
    std::vector<std::string> ids;
    for (const MicroBatch& micro : batch->micro_batches) {
      for (const EncodedPair& pair : micro.pairs) ids.push_back(pair.id);
    }
    batches.push_back(std::move(ids));
  }
  return batches;
}

std::vector<std::string> flatten(const std::vector<std::vector<std::string>>& batches) {
  std::vector<std::string> ids;
  for (const auto& batch : batches) ids.insert(ids.end(), batch.begin(), batch.end());
  return ids;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = omnirm::testing::make_temp_dir("loader"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(LoaderTest, EveryRecordExactlyOncePerEpochAcrossRanks) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 103));
  const int64_t world = 3;
  std::vector<std::vector<std::vector<std::string>>> per_rank;
  for (int64_t rank = 0; rank < world; ++rank) {
    LoaderOptions options = options_for({{path}});
    options.rank = rank;
    options.world_size = world;
    Loader loader(shared_tokenizer(), options);
    EXPECT_EQ(loader.pairs_per_epoch(), 103);
    EXPECT_EQ(loader.steps_per_epoch(), 13);  // 12 full batches of 8 and one of 7
    per_rank.push_back(drain(loader));
  }
  std::multiset<std::string> seen;
  for (int64_t step = 0; step < 13; ++step) {
    int64_t global = 0;
    for (int64_t rank = 0; rank < world; ++rank) {
      const auto& ids = per_rank[rank][step];
      global += static_cast<int64_t>(ids.size());
      // Shares differ by at most one pair.
      EXPECT_GE(static_cast<int64_t>(ids.size()), (step < 12 ? 8 : 7) / world);
      seen.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(global, step < 12 ? 8 : 7);
  }
  ASSERT_EQ(seen.size(), 103u);
  for (int i = 0; i < 103; ++i) EXPECT_EQ(seen.count("a-" + std::to_string(i)), 1u) << i;
}

TEST_F(LoaderTest, SameSeedSameOrderOtherSeedOrEpochAnother) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 64));
  auto order = [&](uint64_t seed, int64_t workers) {
    LoaderOptions options = options_for({{path}});
    options.seed = seed;
    options.epochs = 2;
    options.num_workers = workers;
    Loader loader(shared_tokenizer(), options);
    return flatten(drain(loader));
  };
  const std::vector<std::string> first = order(11, 2);
  ASSERT_EQ(first.size(), 128u);
  EXPECT_EQ(first, order(11, 2));
  EXPECT_EQ(first, order(11, 0));  // the worker count does not change the output
  EXPECT_EQ(first, order(11, 5));
  EXPECT_NE(first, order(12, 2));
  const std::vector<std::string> epoch0(first.begin(), first.begin() + 64);
  const std::vector<std::string> epoch1(first.begin() + 64, first.end());
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(std::set<std::string>(epoch0.begin(), epoch0.end()),
            std::set<std::string>(epoch1.begin(), epoch1.end()));
}

TEST_F(LoaderTest, WithoutShuffleFileOrder) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 20));
  LoaderOptions options = options_for({{path}});
  options.shuffle = false;
  Loader loader(shared_tokenizer(), options);
  const std::vector<std::string> ids = flatten(drain(loader));
  ASSERT_EQ(ids.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ids[i], "a-" + std::to_string(i));
}

TEST_F(LoaderTest, ResumeContinuesWithTheNextUnseenRecord) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 50));
  LoaderOptions options = options_for({{path}});
  options.epochs = 3;
  Loader reference(shared_tokenizer(), options);
  const auto all = drain(reference);
  ASSERT_EQ(all.size(), 21u);  // 7 steps per epoch (6 x 8 + 2)

  for (int64_t stop : {1, 3, 6, 7, 10}) {  // mid-epoch, last batch, epoch boundary, later
    Loader first(shared_tokenizer(), options);
    std::optional<LoaderBatch> batch;
    for (int64_t i = 0; i < stop; ++i) batch = first.next();
    const std::string saved = batch->next.to_json();
    EXPECT_EQ(first.position().to_json(), saved);

    Loader resumed(shared_tokenizer(), options);
    resumed.seek(LoaderPosition::from_json(saved, "checkpoint/loader.json"));
    const auto rest = drain(resumed);
    ASSERT_EQ(rest.size(), all.size() - stop) << stop;
    for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], all[stop + i]) << stop << " " << i;
  }
}

TEST_F(LoaderTest, PositionRecordsPerDatasetStateAndResumesWithOtherWorldSize) {
  const std::string a = write_lines(dir_, "a.jsonl", numbered_pairs("a", 30));
  const std::string b = write_lines(dir_, "b.jsonl", numbered_pairs("b", 10));
  LoaderOptions options = options_for({{a}, {b}});
  Loader loader(shared_tokenizer(), options);
  loader.next();
  loader.next();
  const LoaderPosition position = loader.position();
  EXPECT_EQ(position.epoch, 0);
  EXPECT_EQ(position.offset, 16);
  ASSERT_EQ(position.datasets.size(), 2u);
  EXPECT_EQ(position.datasets[0].consumed + position.datasets[1].consumed, 16);
  EXPECT_EQ(position.datasets[0].records, 30);
  EXPECT_EQ(position.datasets[1].records, 10);

  // The rest of the epoch, over two ranks, is exactly what one rank would have seen.
  const auto single = flatten(drain(loader));
  std::multiset<std::string> expected(single.begin(), single.end());
  std::multiset<std::string> seen;
  for (int64_t rank = 0; rank < 2; ++rank) {
    LoaderOptions ranked = options;
    ranked.rank = rank;
    ranked.world_size = 2;
    Loader resumed(shared_tokenizer(), ranked);
    resumed.seek(position);
    for (const std::string& id : flatten(drain(resumed))) seen.insert(id);
  }
  EXPECT_EQ(seen, expected);
}

TEST_F(LoaderTest, SeekRefusesAPositionThatDoesNotFit) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 40));
  Loader loader(shared_tokenizer(), options_for({{path}}));
  loader.next();
  const LoaderPosition good = loader.position();

  LoaderPosition other_seed = good;
  other_seed.seed = 8;
  EXPECT_THROW(loader.seek(other_seed), UserError);
  LoaderPosition mid_batch = good;
  mid_batch.offset = 5;
  EXPECT_THROW(loader.seek(mid_batch), UserError);

  // The same file name with other contents.
  write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 41));
  Loader changed(shared_tokenizer(), options_for({{path}}));
  try {
    changed.seek(good);
    FAIL() << "seek accepted a position of other data";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find("40 records"), std::string::npos) << error.what();
  }
  EXPECT_THROW(LoaderPosition::from_json("{\"seed\": 1", "ckpt.json"), UserError);
}

TEST_F(LoaderTest, MixingRatiosFollowWeights) {
  const std::string a = write_lines(dir_, "general.jsonl", numbered_pairs("g", 400));
  const std::string b = write_lines(dir_, "instruct.jsonl", numbered_pairs("i", 200));
  LoaderOptions options = options_for({{a, 1.0, 0}, {b, 3.0, 0}});
  options.global_batch_pairs = 50;
  options.micro_batch_pairs = 50;
  Loader loader(shared_tokenizer(), options);
  ASSERT_EQ(loader.pairs_per_epoch(), 1000);
  std::map<std::string, int> instruct_seen;
  int general = 0;
  for (const auto& batch : drain(loader)) {
    int instruct_in_batch = 0;
    for (const std::string& id : batch) {
      if (id[0] == 'i') {
        ++instruct_seen[id];
        ++instruct_in_batch;
      } else {
        ++general;
      }
    }
    // 60% of every batch of 50 comes from the weighted set, give or take sampling noise.
    EXPECT_NEAR(instruct_in_batch / 50.0, 0.6, 0.25);
  }
  EXPECT_EQ(general, 400);
  ASSERT_EQ(instruct_seen.size(), 200u);
  for (const auto& [id, count] : instruct_seen) EXPECT_EQ(count, 3) << id;
}

TEST_F(LoaderTest, FractionalWeightRotatesAndCapsAreFixedSubsets) {
  const std::string half = write_lines(dir_, "half.jsonl", numbered_pairs("h", 100));
  const std::string capped = write_lines(dir_, "capped.jsonl", numbered_pairs("c", 100));
  LoaderOptions options = options_for({{half, 0.5, 0}, {capped, 1.0, 30}});
  options.epochs = 2;
  Loader loader(shared_tokenizer(), options);
  ASSERT_EQ(loader.pairs_per_epoch(), 80);
  const std::vector<std::string> ids = flatten(drain(loader));
  ASSERT_EQ(ids.size(), 160u);
  std::set<std::string> half_epochs[2];
  std::set<std::string> capped_epochs[2];
  for (size_t i = 0; i < ids.size(); ++i) {
    (ids[i][0] == 'h' ? half_epochs : capped_epochs)[i / 80].insert(ids[i]);
  }
  EXPECT_EQ(half_epochs[0].size(), 50u);
  EXPECT_EQ(half_epochs[1].size(), 50u);
  std::set<std::string> both = half_epochs[0];
  both.insert(half_epochs[1].begin(), half_epochs[1].end());
  EXPECT_EQ(both.size(), 100u);  // the second epoch sees the other half
  EXPECT_EQ(capped_epochs[0].size(), 30u);
  EXPECT_EQ(capped_epochs[0], capped_epochs[1]);  // the same 30 every epoch
}

TEST_F(LoaderTest, MicroBatchesByTokensStayWithinTheBudget) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 64));
  LoaderOptions options = options_for({{path}});
  options.global_batch_pairs = 32;
  options.micro_batch_tokens = 300;
  Loader loader(shared_tokenizer(), options);
  int64_t pairs = 0;
  while (std::optional<LoaderBatch> batch = loader.next()) {
    int64_t micro_pairs = 0;
    for (const MicroBatch& micro : batch->micro_batches) {
      int64_t tokens = 0;
      for (const EncodedPair& pair : micro.pairs) tokens += pair.packed_tokens(true);
      EXPECT_EQ(tokens, micro.packed_tokens);
      if (micro.pairs.size() > 1) {
        EXPECT_LE(micro.packed_tokens, 300);
      }
      const PairBatch packed = pack_micro_batch(micro, true);
      EXPECT_EQ(packed.tokens_in_batch(), micro.packed_tokens);
      EXPECT_EQ(packed.pairs(), static_cast<int64_t>(micro.pairs.size()));
      micro_pairs += static_cast<int64_t>(micro.pairs.size());
    }
    EXPECT_GT(batch->micro_batches.size(), 1u);
    EXPECT_EQ(micro_pairs, batch->pairs());
    pairs += micro_pairs;
  }
  EXPECT_EQ(pairs, 64);
}

TEST_F(LoaderTest, MemoryIsEightBytesPerRecordPlusThePlan) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 1000));
  LoaderOptions options = options_for({{path}});
  options.num_workers = 0;
  Loader loader(shared_tokenizer(), options);
  EXPECT_EQ(loader.index_bytes(), 8 * 1000);  // the spans; no record text is kept
  loader.next();
  // One epoch plan: 8 bytes per entry plus a count per step and dataset.
  EXPECT_LE(loader.index_bytes(), 8 * 1000 + 8 * 1000 + 8 * (1000 / 8 + 2));
}

TEST_F(LoaderTest, PrefetchBoundsTheWorkDoneAhead) {
  std::vector<std::string> lines;
  for (int i = 0; i < 80; ++i) {
    lines.push_back(
        R"({"id": "m-)" + std::to_string(i) +
        R"(", "prompt": [{"role": "user", "content": [{"type": "image", "path": "img/)" +
        std::to_string(i) +
        R"(.png"}, {"type": "text", "text": "What is it?"}]}], "chosen": "A cat.", "rejected": "A dog."})");
  }
  const std::string path = write_lines(dir_, "media.jsonl", lines);
  std::atomic<int> decoded{0};
  std::string seen_path;
  LoaderOptions options = options_for({{path}});
  options.global_batch_pairs = 4;
  options.micro_batch_pairs = 4;
  options.prefetch = 2;
  options.num_workers = 3;
  options.root = "/data/media-root";
  options.media_hook = [&](const Example& example, EncodedPair& pair) {
    ++decoded;
    EXPECT_EQ(pair.media.size(), 1u);
    EXPECT_EQ(pair.media[0].segment, kPrompt);
    EXPECT_EQ(pair.media[0].type, "image");
    EXPECT_EQ(pair.media[0].path, "/data/media-root/" + example.prompt[0].content[0].path);
  };
  Loader loader(shared_tokenizer(), options);
  auto wait_for = [&](int count) {
    for (int i = 0; i < 200 && decoded.load() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  wait_for(8);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(decoded.load(), 8);  // two batches of four ahead, no more
  loader.next();
  wait_for(12);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(decoded.load(), 12);
}

TEST_F(LoaderTest, BadRecordsStopOrAreSkippedAndCounted) {
  std::vector<std::string> lines = numbered_pairs("a", 10);
  lines.insert(lines.begin() + 3, R"({"id": "broken", "prompt": )");
  lines.insert(lines.begin() + 6, pair_line("same", "Q?", "Yes.", "Yes."));
  lines.push_back(pair_line("tie", "Q?", "Yes.", "No.", R"("preference": "tie")"));
  const std::string path = write_lines(dir_, "bad.jsonl", lines);
  LoaderOptions options = options_for({{path}});
  try {
    Loader loader(shared_tokenizer(), options);
    FAIL() << "a bad record was accepted";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find(path + ":4: record: malformed JSON"),
              std::string::npos)
        << error.what();
  }
  options.on_bad_record = OnBadRecord::skip;
  Loader loader(shared_tokenizer(), options);
  const DatasetIndexSummary& summary = loader.index_summary().at(0);
  EXPECT_EQ(summary.lines, 13);
  EXPECT_EQ(summary.bad, 2);
  EXPECT_EQ(summary.ties, 1);
  EXPECT_EQ(summary.usable, 10);
  ASSERT_EQ(summary.problems.size(), 2u);
  EXPECT_NE(summary.problems[1].find(path + ":7: rejected: identical to chosen"), std::string::npos)
      << summary.problems[1];
  EXPECT_EQ(flatten(drain(loader)).size(), 10u);

  options.keep_ties = true;
  Loader with_ties(shared_tokenizer(), options);
  EXPECT_EQ(with_ties.pairs_per_epoch(), 11);
}

TEST_F(LoaderTest, DroppedPairsAreCountedInTheirBatch) {
  std::vector<std::string> lines = numbered_pairs("a", 8);
  std::string long_prompt;
  for (int i = 0; i < 200; ++i) long_prompt += "the quiet river ";
  lines.push_back(pair_line("long", long_prompt, "Yes.", "No."));
  const std::string path = write_lines(dir_, "pairs.jsonl", lines);
  LoaderOptions options = options_for({{path}});
  options.global_batch_pairs = 9;
  options.max_length = 160;
  options.truncation = text::TruncationPolicy::drop;
  Loader loader(shared_tokenizer(), options);
  const std::optional<LoaderBatch> batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->global_pairs, 9);
  EXPECT_EQ(batch->counts.dropped, 1);
  EXPECT_EQ(batch->pairs(), 8);
}

TEST_F(LoaderTest, ChangedFileIsReportedWithItsLine) {
  const std::string path = write_lines(dir_, "pairs.jsonl", numbered_pairs("a", 16));
  LoaderOptions options = options_for({{path}});
  options.shuffle = false;
  options.num_workers = 0;
  Loader loader(shared_tokenizer(), options);
  // Same length, broken contents: the second line's first byte.
  std::string content = omnirm::testing::read_file(path);
  content[content.find('\n') + 1] = '#';
  omnirm::testing::write_file(path, content);
  try {
    loader.next();
    FAIL() << "a changed record was accepted";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find(path + ":2: record: malformed JSON"),
              std::string::npos)
        << error.what();
  }
}

TEST(LoaderMix, ParsesEntriesAndNamesBadOnes) {
  const std::vector<DatasetSource> sources =
      parse_mix("general.jsonl max_pairs=50000 , data/instruct.jsonl weight=2.5");
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].path, "general.jsonl");
  EXPECT_EQ(sources[0].weight, 1.0);
  EXPECT_EQ(sources[0].max_pairs, 50000);
  EXPECT_EQ(sources[1].path, "data/instruct.jsonl");
  EXPECT_EQ(sources[1].weight, 2.5);
  EXPECT_EQ(sources[1].max_pairs, 0);
  try {
    parse_mix("a.jsonl, b.jsonl wieght=2");
    FAIL();
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find("entry 2 'b.jsonl wieght=2': unknown option"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(parse_mix("a.jsonl weight=-1"), UserError);
  EXPECT_THROW(parse_mix("a.jsonl max_pairs=1.5"), UserError);
  EXPECT_THROW(parse_mix("a.jsonl,,b.jsonl"), UserError);
}

TEST(LoaderOptionsFromConfig, TrainThenMixEntries) {
  Config config;
  config.data.train = "main.jsonl";
  config.data.mix = "extra.jsonl weight=2";
  config.data.num_workers = 3;
  config.data.micro_batch_tokens = 2048;
  config.train.global_batch_pairs = 64;
  config.train.micro_batch_pairs = 16;
  const LoaderOptions options = loader_options_from_config(config, 1, 4);
  ASSERT_EQ(options.datasets.size(), 2u);
  EXPECT_EQ(options.datasets[0].path, "main.jsonl");
  EXPECT_EQ(options.datasets[1].weight, 2.0);
  EXPECT_EQ(options.rank, 1);
  EXPECT_EQ(options.world_size, 4);
  EXPECT_EQ(options.num_workers, 3);
  EXPECT_EQ(options.micro_batch_tokens, 2048);
  EXPECT_EQ(options.global_batch_pairs, 64);
  EXPECT_THROW(loader_options_from_config(Config{}, 0, 1), UserError);
}

}  // namespace
}  // namespace omnirm::data
