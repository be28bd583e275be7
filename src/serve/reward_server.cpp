// Implementation of serve/reward_server.h.
#include "omnirm/serve/reward_server.h"

#include <nlohmann/json.hpp>

#include <exception>

#include "omnirm/core/error.h"
#include "omnirm/serve/response_batch.h"

namespace omnirm::serve {
namespace {

HttpResponse method_not_allowed(const std::string& path, const std::string& allowed) {
  HttpResponse response = json_error(405, path + " takes " + allowed);
  response.headers.push_back(HttpHeader{"Allow", allowed});
  return response;
}

void require_positive(int64_t value, const char* flag) {
  if (value < 1) {
    throw UserError(std::string(flag) + " must be at least 1, got " + std::to_string(value));
  }
}

}  // namespace

void check_serve_options(const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    throw UserError("--port must be 0 (any free port) to 65535, got " + std::to_string(o.port));
  }
  require_positive(o.http_threads, "--http-threads");
  require_positive(o.max_request_bytes, "--max-request-bytes");
  require_positive(o.max_queue, "--max-queue");
  require_positive(o.max_batch_tokens, "--max-batch-tokens");
  require_positive(o.max_responses, "--max-responses");
  require_positive(o.max_length, "--max-length");
  if (o.max_responses > kMaxResponsesPerRow) {
    throw UserError("--max-responses must be at most " + std::to_string(kMaxResponsesPerRow) +
                    " (responses of one request share a packed row), got " +
                    std::to_string(o.max_responses));
  }
  if (o.max_batch_tokens < o.max_length) {
    throw UserError("--max-batch-tokens " + std::to_string(o.max_batch_tokens) +
                    " is below the max length " + std::to_string(o.max_length) +
                    ": a request of one response at full length could never be scored; raise it");
  }
}

BatchScorer model_scorer(model::RewardModelImpl& model, at::Device device) {
  model.eval();
  return [&model, device](const std::vector<const TokenizedRequest*>& requests) {
    return score_requests(model, requests, device);
  };
}

RewardServer::RewardServer(const ServeOptions& options, const text::Tokenizer& tokenizer,
                           BatchScorer scorer, std::string model_name)
    : options_(options), tokenizer_(tokenizer), model_name_(std::move(model_name)) {
  check_serve_options(options_);
  limits_.max_responses = options_.max_responses;
  limits_.max_length = options_.max_length;
  limits_.max_request_tokens = options_.max_batch_tokens;
  SchedulerOptions scheduling;
  scheduling.max_batch_tokens = options_.max_batch_tokens;
  scheduling.max_queue = options_.max_queue;
  scheduling.max_batch_requests = options_.batching ? 0 : 1;
  scheduler_ = std::make_unique<BatchScheduler>(scheduling, std::move(scorer));
  HttpServerOptions http;
  http.host = options_.host;
  http.port = options_.port;
  http.threads = options_.http_threads;
  http.max_body_bytes = options_.max_request_bytes;
  http_ = std::make_unique<HttpServer>(
      http, [this](const HttpRequest& request) { return handle(request); });
}

RewardServer::~RewardServer() { stop(); }

void RewardServer::stop() {
  // The HTTP workers wait for their requests' rewards, so the scheduler stops second.
  if (http_) http_->stop();
  if (scheduler_) scheduler_->stop();
}

HttpResponse RewardServer::handle(const HttpRequest& request) {
  if (request.path == "/score") {
    if (request.method != "POST") return method_not_allowed(request.path, "POST");
    return score(request);
  }
  if (request.path == "/health") {
    if (request.method != "GET") return method_not_allowed(request.path, "GET");
    return health();
  }
  return json_error(404, "no endpoint " + request.path + "; use POST /score or GET /health");
}

HttpResponse RewardServer::score(const HttpRequest& request) {
  ScoreRequest parsed;
  TokenizedRequest tokens;
  try {
    parsed = parse_score_request(request.body, limits_);
    tokens = tokenize_score_request(parsed, tokenizer_, limits_);
  } catch (const BadRequest& error) {
    ++bad_requests_;
    return json_error(400, error.what());
  }
  Submission submission = scheduler_->submit(std::move(tokens));
  if (submission.refusal == Refusal::queue_full) {
    return json_error(503, "queue full (" + std::to_string(options_.max_queue) +
                               " requests waiting, server option --max-queue); retry later");
  }
  if (submission.refusal == Refusal::stopping) {
    return json_error(503, "the server is shutting down");
  }
  std::vector<float> rewards;
  try {
    rewards = submission.rewards.get();
  } catch (const std::exception& error) {
    return json_error(500, std::string("scoring failed: ") + error.what());
  }
  nlohmann::json body = {{"rewards", rewards}};
  if (!parsed.id.empty()) body["id"] = parsed.id;
  HttpResponse response;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse RewardServer::health() const {
  const SchedulerStats stats = scheduler_->stats();
  HttpResponse response;
  response.body = nlohmann::json{{"status", "ok"},
                                 {"model", model_name_},
                                 {"queued", stats.queued},
                                 {"requests", stats.requests},
                                 {"batches", stats.batches},
                                 {"largest_batch", stats.largest_batch},
                                 {"bad_requests", bad_requests_.load()},
                                 {"max_length", options_.max_length},
                                 {"max_responses", options_.max_responses},
                                 {"max_batch_tokens", options_.max_batch_tokens},
                                 {"batching", options_.batching}}
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace omnirm::serve
