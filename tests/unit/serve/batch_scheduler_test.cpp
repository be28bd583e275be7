// The batching scheduler with the real model scorer: requests that wait while a batch is
// scored are taken in arrival order up to the token budget (an over-budget request alone),
// each gets the rewards it gets scored alone; a full queue refuses, stop() answers what is
// queued and refuses the rest; a batch whose scoring fails fails each of its requests and
// the next batch is scored as usual. A gate in front of the scorer holds the model thread
// so that the queue's contents are known when the batch is taken.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "omnirm/infer/scoring_rows.h"
#include "omnirm/serve/batch_scheduler.h"
#include "serve_test_support.h"

namespace omnirm::serve {
namespace {

constexpr int64_t kVocab = 60;

using testing::GatedScorer;

// The model's scorer without a gate.
BatchScorer direct_scorer(model::RewardModelImpl& model) {
  return [&model](const std::vector<const TokenizedRequest*>& requests) {
    return infer::score_rows(model, requests, std::nullopt, at::Device(at::kCPU));
  };
}

std::vector<float> alone(model::RewardModelImpl& model, const TokenizedRequest& request) {
  return infer::score_rows(model, {&request}, std::nullopt, at::Device(at::kCPU))[0];
}

void expect_near(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
}

TEST(BatchScheduler, TakesWaitingRequestsInOrderUpToTheTokenBudget) {
  model::RewardModel model = testing::tiny_model(kVocab, 11);
  at::manual_seed(2);
  std::vector<TokenizedRequest> requests;
  requests.push_back(testing::random_request(kVocab, 3, {2}));  // scored first, alone
  for (int i = 0; i < 5; ++i) requests.push_back(testing::random_request(kVocab, 5, {3, 2}));
  requests.push_back(testing::random_request(kVocab, 20, {10, 10}));  // 40 tokens: over budget
  requests.push_back(testing::random_request(kVocab, 4, {1}));

  GatedScorer gate(direct_scorer(*model));
  SchedulerOptions options;
  options.max_batch_tokens = 25;  // two 10-token requests, not three
  BatchScheduler scheduler(options, gate.scorer());
  std::vector<std::future<std::vector<float>>> futures;
  futures.push_back(scheduler.submit(requests[0]).rewards);
  gate.wait_for_batches(1);  // the model thread holds request 0; the others queue up
  for (size_t i = 1; i < requests.size(); ++i) {
    Submission submission = scheduler.submit(requests[i]);
    ASSERT_EQ(submission.refusal, Refusal::none);
    futures.push_back(std::move(submission.rewards));
  }
  EXPECT_EQ(scheduler.stats().queued, static_cast<int64_t>(requests.size()) - 1);
  gate.open();
  for (size_t i = 0; i < requests.size(); ++i)
    expect_near(futures[i].get(), alone(*model, requests[i]));

  // Batches: {0}, {1, 2}, {3, 4}, {5}, {6 (over budget, alone)}, {7}.
  const std::vector<std::vector<size_t>> expected = {{0}, {1, 2}, {3, 4}, {5}, {6}, {7}};
  const auto batches = gate.batches();
  ASSERT_EQ(batches.size(), expected.size());
  for (size_t b = 0; b < expected.size(); ++b) {
    ASSERT_EQ(batches[b].size(), expected[b].size()) << "batch " << b;
    for (size_t k = 0; k < expected[b].size(); ++k) {
      EXPECT_EQ(batches[b][k], requests[expected[b][k]].prompt) << "batch " << b;
    }
  }
  const SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.requests, 8);
  EXPECT_EQ(stats.batches, 6);
  EXPECT_EQ(stats.largest_batch, 2);
}

TEST(BatchScheduler, OneRequestPerBatchWithoutBatching) {
  model::RewardModel model = testing::tiny_model(kVocab, 11);
  at::manual_seed(4);
  GatedScorer gate(direct_scorer(*model));
  SchedulerOptions options;
  options.max_batch_requests = 1;
  BatchScheduler scheduler(options, gate.scorer());
  std::vector<std::future<std::vector<float>>> futures;
  for (int i = 0; i < 4; ++i) {
    futures.push_back(scheduler.submit(testing::random_request(kVocab, 2, {1, 1})).rewards);
  }
  gate.open();
  for (auto& future : futures) EXPECT_EQ(future.get().size(), 2u);
  EXPECT_EQ(scheduler.stats().batches, 4);
  EXPECT_EQ(scheduler.stats().largest_batch, 1);
}

TEST(BatchScheduler, AFullQueueRefusesAndStopAnswersWhatIsQueued) {
  model::RewardModel model = testing::tiny_model(kVocab, 11);
  at::manual_seed(5);
  std::vector<TokenizedRequest> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(testing::random_request(kVocab, 3, {2, 4}));
  GatedScorer gate(direct_scorer(*model));
  SchedulerOptions options;
  options.max_queue = 2;
  BatchScheduler scheduler(options, gate.scorer());
  std::future<std::vector<float>> first = scheduler.submit(requests[0]).rewards;
  gate.wait_for_batches(1);
  std::future<std::vector<float>> second = scheduler.submit(requests[1]).rewards;
  std::future<std::vector<float>> third = scheduler.submit(requests[2]).rewards;
  EXPECT_EQ(scheduler.submit(requests[3]).refusal, Refusal::queue_full);

  std::thread stopper([&] { scheduler.stop(); });
  // Once stopping, nothing new is taken, whatever room the queue has.
  while (scheduler.submit(requests[3]).refusal != Refusal::stopping) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  gate.open();
  stopper.join();
  expect_near(first.get(), alone(*model, requests[0]));
  expect_near(second.get(), alone(*model, requests[1]));
  expect_near(third.get(), alone(*model, requests[2]));
  EXPECT_EQ(scheduler.stats().requests, 3);
}

TEST(BatchScheduler, AFailedBatchFailsItsRequestsAndTheNextOneIsScored) {
  model::RewardModel model = testing::tiny_model(kVocab, 11);
  at::manual_seed(6);
  const TokenizedRequest holder = testing::random_request(kVocab, 2, {2});
  const TokenizedRequest good = testing::random_request(kVocab, 3, {2});
  TokenizedRequest bad = testing::random_request(kVocab, 3, {2});
  bad.responses[0][0] = static_cast<int32_t>(kVocab + 5);  // no such token: the embedding fails
  GatedScorer gate(direct_scorer(*model));
  BatchScheduler scheduler(SchedulerOptions{}, gate.scorer());
  std::future<std::vector<float>> first = scheduler.submit(holder).rewards;
  gate.wait_for_batches(1);
  std::future<std::vector<float>> in_bad_batch = scheduler.submit(good).rewards;
  std::future<std::vector<float>> failing = scheduler.submit(bad).rewards;
  gate.open();
  expect_near(first.get(), alone(*model, holder));
  EXPECT_THROW(in_bad_batch.get(), std::exception);
  EXPECT_THROW(failing.get(), std::exception);
  expect_near(scheduler.submit(good).rewards.get(), alone(*model, good));
}

}  // namespace
}  // namespace omnirm::serve
