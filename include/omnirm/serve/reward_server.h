// `omnirm serve`: the reward model behind HTTP.
//   POST /score       {"prompt", "criteria"?, "responses": [...], "id"?}  →  {"rewards": [...]}
//                     (serve/score_request.h; media by path under --media-root or inline)
//   POST /get_reward  OpenRLHF's remote reward model protocol (serve/openrlhf_request.h)
//   GET  /health      →  {"status": "ok", queue, batch and connection counters, the limits}
// A request is parsed, its media decoded and its text tokenized on a handler thread, then it
// waits in the batching scheduler for the model thread. Answers: 400 bad request (the message
// names the field), 404 unknown path, 405 wrong method, 413 body or media too large, 503 queue
// full or stopping, 500 a scoring failure. Bad input never stops the server. See
// docs/serve.md.
#pragma once

#include <ATen/Device.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/serve/batch_scheduler.h"
#include "omnirm/serve/http_server.h"
#include "omnirm/serve/request_encoder.h"
#include "omnirm/serve/score_request.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;        // 0: any free port
  int http_threads = 64;  // handler threads: requests parsed, decoded and awaiting rewards at once
  int64_t max_connections = 4096;
  int64_t max_request_bytes = 16 << 20;
  int64_t max_media_bytes = 16 << 20;  // one media part, inline or by path
  std::string media_root;              // media by path are read under it; "" refuses them
  int64_t max_queue = 256;
  int64_t max_batch_tokens = 16384;
  int64_t max_responses = 32;
  int64_t max_length = 0;      // 0: the model's data.max_length
  double head_timeout = 10.0;  // seconds from a request head's first byte to its end
  double body_timeout = 60.0;  // seconds from the end of a head to the end of its body
  double idle_timeout = 60.0;  // seconds a kept-alive connection may wait for its next request
  bool batching = true;        // false: one request per forward (the benchmark's baseline)
};

// Throws UserError naming the option when `options` cannot work (max_length is resolved).
void check_serve_options(const ServeOptions& options);

// The model scorer of the scheduler: infer::score_rows on `device` under the media `layout`
// the requests were encoded with. The model must outlive it.
BatchScorer model_scorer(model::RewardModelImpl& model,
                         const std::optional<data::MediaLayout>& layout, at::Device device);

class RewardServer {
 public:
  // Starts the scheduler and the HTTP server (listening when the constructor returns).
  // `config` is the model's (its media settings); `tokenizer` must outlive the server;
  // `model_name` is reported by /health.
  RewardServer(const ServeOptions& options, const Config& config, const text::Tokenizer& tokenizer,
               BatchScorer scorer, std::string model_name);
  ~RewardServer();  // stop()

  int port() const { return http_->port(); }
  const ServeOptions& options() const { return options_; }
  const RequestEncoder& encoder() const { return *encoder_; }

  // Stops accepting, answers every request already received, then stops the model thread.
  void stop();

  SchedulerStats stats() const { return scheduler_->stats(); }
  HttpServerStats http_stats() const { return http_->stats(); }
  int64_t http_max_connections() const { return http_->max_connections(); }

 private:
  HttpResponse handle(const HttpRequest& request);
  HttpResponse score(const HttpRequest& request);
  HttpResponse get_reward(const HttpRequest& request);
  HttpResponse health() const;
  // Submits the rows and waits for their rewards; an error response when any was refused or
  // failed.
  std::optional<HttpResponse> rewards_of(std::vector<infer::ScoringRow> rows,
                                         std::vector<std::vector<float>>& rewards);

  ServeOptions options_;
  RequestLimits limits_;
  std::string model_name_;
  std::atomic<int64_t> bad_requests_{0};
  std::unique_ptr<RequestEncoder> encoder_;
  std::unique_ptr<BatchScheduler> scheduler_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace omnirm::serve
