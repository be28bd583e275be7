// Implementation of serve/reward_server.h.
#include "omnirm/serve/reward_server.h"

#include <nlohmann/json.hpp>

#include <exception>

#include "omnirm/core/error.h"
#include "omnirm/infer/scoring_rows.h"
#include "omnirm/serve/openrlhf_request.h"

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

void require_positive_seconds(double value, const char* flag) {
  if (!(value > 0.0) || value > 86400.0) {
    throw UserError(std::string(flag) +
                    " must be a number of seconds above 0 (at most a day), got " +
                    std::to_string(value));
  }
}

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int milliseconds(double seconds) { return static_cast<int>(seconds * 1000.0); }

}  // namespace

void check_serve_options(const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    throw UserError("--port must be 0 (any free port) to 65535, got " + std::to_string(o.port));
  }
  require_positive(o.http_threads, "--http-threads");
  require_positive(o.max_connections, "--max-connections");
  require_positive(o.max_request_bytes, "--max-request-bytes");
  require_positive(o.max_media_bytes, "--max-media-bytes");
  require_positive(o.max_queue, "--max-queue");
  require_positive(o.max_batch_tokens, "--max-batch-tokens");
  require_positive(o.max_responses, "--max-responses");
  require_positive(o.max_length, "--max-length");
  require_positive_seconds(o.head_timeout, "--head-timeout");
  require_positive_seconds(o.body_timeout, "--body-timeout");
  require_positive_seconds(o.idle_timeout, "--idle-timeout");
  if (o.max_responses > infer::kMaxResponsesPerRow) {
    throw UserError(
        "--max-responses must be at most " + std::to_string(infer::kMaxResponsesPerRow) +
        " (responses of one request share a packed row), got " + std::to_string(o.max_responses));
  }
  if (o.max_batch_tokens < o.max_length) {
    throw UserError("--max-batch-tokens " + std::to_string(o.max_batch_tokens) +
                    " is below the max length " + std::to_string(o.max_length) +
                    ": a request of one response at full length could never be scored; raise it");
  }
}

BatchScorer model_scorer(model::RewardModelImpl& model,
                         const std::optional<data::MediaLayout>& layout, at::Device device) {
  model.eval();
  return [&model, layout, device](const std::vector<const TokenizedRequest*>& requests) {
    return infer::score_rows(model, requests, layout, device);
  };
}

RewardServer::RewardServer(const ServeOptions& options, const Config& config,
                           const text::Tokenizer& tokenizer, BatchScorer scorer,
                           std::string model_name)
    : options_(options), model_name_(std::move(model_name)) {
  check_serve_options(options_);
  limits_.max_responses = options_.max_responses;
  limits_.max_length = options_.max_length;
  limits_.max_request_tokens = options_.max_batch_tokens;
  limits_.max_media_bytes = options_.max_media_bytes;
  limits_.media_paths = !options_.media_root.empty();
  encoder_ = std::make_unique<RequestEncoder>(config, tokenizer, options_.media_root, limits_);
  SchedulerOptions scheduling;
  scheduling.max_batch_tokens = options_.max_batch_tokens;
  scheduling.max_queue = options_.max_queue;
  scheduling.max_batch_requests = options_.batching ? 0 : 1;
  scheduler_ = std::make_unique<BatchScheduler>(scheduling, std::move(scorer));
  HttpServerOptions http;
  http.host = options_.host;
  http.port = options_.port;
  http.handler_threads = options_.http_threads;
  http.max_connections = options_.max_connections;
  http.max_body_bytes = options_.max_request_bytes;
  http.head_timeout_ms = milliseconds(options_.head_timeout);
  http.body_timeout_ms = milliseconds(options_.body_timeout);
  http.idle_timeout_ms = milliseconds(options_.idle_timeout);
  http_ = std::make_unique<HttpServer>(
      http, [this](const HttpRequest& request) { return handle(request); });
}

RewardServer::~RewardServer() { stop(); }

void RewardServer::stop() {
  // The handler threads wait for their requests' rewards, so the scheduler stops second.
  if (http_) http_->stop();
  if (scheduler_) scheduler_->stop();
}

HttpResponse RewardServer::handle(const HttpRequest& request) {
  if (request.path == "/score") {
    if (request.method != "POST") return method_not_allowed(request.path, "POST");
    return score(request);
  }
  if (request.path == "/get_reward") {
    if (request.method != "POST") return method_not_allowed(request.path, "POST");
    return get_reward(request);
  }
  if (request.path == "/health") {
    if (request.method != "GET") return method_not_allowed(request.path, "GET");
    return health();
  }
  return json_error(
      404, "no endpoint " + request.path + "; use POST /score, POST /get_reward or GET /health");
}

std::optional<HttpResponse> RewardServer::rewards_of(std::vector<infer::ScoringRow> rows,
                                                     std::vector<std::vector<float>>& rewards) {
  std::vector<Submission> submissions;
  for (infer::ScoringRow& row : rows) {
    Submission submission = scheduler_->submit(std::move(row));
    if (submission.refusal == Refusal::queue_full) {
      return json_error(503, "queue full (" + std::to_string(options_.max_queue) +
                                 " requests waiting, server option --max-queue); retry later");
    }
    if (submission.refusal == Refusal::stopping) {
      return json_error(503, "the server is shutting down");
    }
    submissions.push_back(std::move(submission));
  }
  // Every accepted row is waited for, also after a failure, so none outlives this call.
  std::string failure;
  for (Submission& submission : submissions) {
    try {
      rewards.push_back(submission.rewards.get());
    } catch (const std::exception& error) {
      failure = error.what();
    }
  }
  if (!failure.empty()) return json_error(500, "scoring failed: " + failure);
  return std::nullopt;
}

HttpResponse RewardServer::score(const HttpRequest& request) {
  ScoreRequest parsed;
  std::vector<infer::ScoringRow> rows(1);
  try {
    parsed = parse_score_request(request.body, limits_);
    rows[0] = encoder_->encode(parsed);
  } catch (const BadRequest& error) {
    ++bad_requests_;
    return json_error(error.status(), error.what());
  }
  std::vector<std::vector<float>> rewards;
  if (std::optional<HttpResponse> refused = rewards_of(std::move(rows), rewards)) return *refused;
  nlohmann::json body = {{"rewards", rewards.front()}};
  if (!parsed.id.empty()) body["id"] = parsed.id;
  HttpResponse response;
  response.body = dump(body);
  return response;
}

HttpResponse RewardServer::get_reward(const HttpRequest& request) {
  RewardQueries queries;
  std::vector<infer::ScoringRow> rows;
  try {
    queries = parse_reward_queries(request.body, limits_);
    for (const ScoreRequest& grouped : queries.requests) rows.push_back(encoder_->encode(grouped));
  } catch (const BadRequest& error) {
    ++bad_requests_;
    return json_error(error.status(), error.what());
  }
  std::vector<std::vector<float>> rewards;
  if (std::optional<HttpResponse> refused = rewards_of(std::move(rows), rewards)) return *refused;
  std::vector<float> per_query;
  per_query.reserve(queries.where.size());
  for (const auto& [row, response] : queries.where) per_query.push_back(rewards[row][response]);
  HttpResponse response;
  // OpenRLHF reads "rewards" (and "scores", falling back to it) and logs "extra_logs".
  response.body = dump(nlohmann::json{
      {"rewards", per_query}, {"scores", per_query}, {"extra_logs", nlohmann::json::object()}});
  return response;
}

HttpResponse RewardServer::health() const {
  const SchedulerStats stats = scheduler_->stats();
  const HttpServerStats http = http_->stats();
  HttpResponse response;
  response.body = dump(nlohmann::json{{"status", "ok"},
                                      {"model", model_name_},
                                      {"queued", stats.queued},
                                      {"requests", stats.requests},
                                      {"batches", stats.batches},
                                      {"largest_batch", stats.largest_batch},
                                      {"bad_requests", bad_requests_.load()},
                                      {"connections", http.open_connections},
                                      {"max_connections", http_->max_connections()},
                                      {"timeouts", http.timeouts},
                                      {"max_length", options_.max_length},
                                      {"max_responses", options_.max_responses},
                                      {"max_batch_tokens", options_.max_batch_tokens},
                                      {"media_root", options_.media_root},
                                      {"batching", options_.batching}});
  return response;
}

}  // namespace omnirm::serve
