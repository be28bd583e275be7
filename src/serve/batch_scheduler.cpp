// Implementation of serve/batch_scheduler.h.
#include "omnirm/serve/batch_scheduler.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace omnirm::serve {

BatchScheduler::BatchScheduler(const SchedulerOptions& options, BatchScorer scorer)
    : options_(options), scorer_(std::move(scorer)) {
  model_thread_ = std::thread([this] { model_loop(); });
}

BatchScheduler::~BatchScheduler() { stop(); }

Submission BatchScheduler::submit(TokenizedRequest request) {
  Submission submission;
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) {
    submission.refusal = Refusal::stopping;
    return submission;
  }
  if (static_cast<int64_t>(queue_.size()) >= options_.max_queue) {
    submission.refusal = Refusal::queue_full;
    return submission;
  }
  queue_.push_back(Job{std::move(request), {}});
  submission.rewards = queue_.back().rewards.get_future();
  lock.unlock();
  work_.notify_one();
  return submission;
}

void BatchScheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !model_thread_.joinable()) return;
    stopping_ = true;
  }
  work_.notify_all();
  if (model_thread_.joinable()) model_thread_.join();
}

SchedulerStats BatchScheduler::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SchedulerStats stats = stats_;
  stats.queued = static_cast<int64_t>(queue_.size());
  return stats;
}

std::vector<BatchScheduler::Job> BatchScheduler::take_batch() {
  std::vector<Job> batch;
  int64_t tokens = 0;
  while (!queue_.empty()) {
    const int64_t next = queue_.front().request.tokens();
    const bool full_by_tokens = !batch.empty() && tokens + next > options_.max_batch_tokens;
    const bool full_by_count = options_.max_batch_requests > 0 &&
                               static_cast<int64_t>(batch.size()) >= options_.max_batch_requests;
    if (full_by_tokens || full_by_count) break;
    tokens += next;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void BatchScheduler::model_loop() {
  while (true) {
    std::vector<Job> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is answered
      batch = take_batch();
    }
    std::vector<const TokenizedRequest*> requests;
    for (const Job& job : batch) requests.push_back(&job.request);
    std::vector<std::vector<float>> rewards;
    std::exception_ptr error;
    try {
      rewards = scorer_(requests);
      if (rewards.size() != batch.size()) {
        throw std::logic_error("scorer returned rewards for " + std::to_string(rewards.size()) +
                               " of " + std::to_string(batch.size()) + " requests");
      }
    } catch (...) {
      error = std::current_exception();
    }
    {
      // Counted before answering, so whoever holds an answer sees it in stats().
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.batches;
      stats_.requests += static_cast<int64_t>(batch.size());
      stats_.largest_batch = std::max(stats_.largest_batch, static_cast<int64_t>(batch.size()));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (error) {
        batch[i].rewards.set_exception(error);
      } else {
        batch[i].rewards.set_value(std::move(rewards[i]));
      }
    }
  }
}

}  // namespace omnirm::serve
