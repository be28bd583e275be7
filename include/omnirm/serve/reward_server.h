// `omnirm serve`: the reward model behind HTTP.
//   POST /score   {"prompt", "criteria"?, "responses": [...], "id"?}  →  {"rewards": [...]}
//   GET  /health  →  {"status": "ok", queue and batch counters, the limits}
// A request is parsed and tokenized on its connection's worker, then waits in the batching
// scheduler for the model thread. Answers: 400 bad request (the message names the field),
// 404 unknown path, 405 wrong method, 413 body too large, 503 queue full or stopping, 500 a
// scoring failure. Bad input never stops the server. See docs/serve.md.
#pragma once

#include <ATen/Device.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "omnirm/model/reward_model.h"
#include "omnirm/serve/batch_scheduler.h"
#include "omnirm/serve/http_server.h"
#include "omnirm/serve/score_request.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;        // 0: any free port
  int http_threads = 64;  // also the most requests in flight (a worker waits for its rewards)
  int64_t max_request_bytes = 1024 * 1024;
  int64_t max_queue = 256;
  int64_t max_batch_tokens = 16384;
  int64_t max_responses = 32;
  int64_t max_length = 0;  // 0: the model's data.max_length
  bool batching = true;    // false: one request per forward (the benchmark's baseline)
};

// Throws UserError naming the option when `options` cannot work (max_length is resolved).
void check_serve_options(const ServeOptions& options);

// The model scorer of the scheduler: score_requests on `device`. The model must outlive it.
BatchScorer model_scorer(model::RewardModelImpl& model, at::Device device);

class RewardServer {
 public:
  // Starts the scheduler and the HTTP server (listening when the constructor returns).
  // `tokenizer` must outlive the server; `model_name` is reported by /health.
  RewardServer(const ServeOptions& options, const text::Tokenizer& tokenizer, BatchScorer scorer,
               std::string model_name);
  ~RewardServer();  // stop()

  int port() const { return http_->port(); }
  const ServeOptions& options() const { return options_; }

  // Stops accepting, answers every request already received, then stops the model thread.
  void stop();

  SchedulerStats stats() const { return scheduler_->stats(); }

 private:
  HttpResponse handle(const HttpRequest& request);
  HttpResponse score(const HttpRequest& request);
  HttpResponse health() const;

  ServeOptions options_;
  RequestLimits limits_;
  const text::Tokenizer& tokenizer_;
  std::string model_name_;
  std::atomic<int64_t> bad_requests_{0};
  std::unique_ptr<BatchScheduler> scheduler_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace omnirm::serve
