// Implementation of serve/bench_serve.h.
#include "omnirm/serve/bench_serve.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <latch>
#include <stdexcept>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/serve/http_client.h"
#include "omnirm/serve/request_encoder.h"
#include "omnirm/serve/reward_server.h"

namespace omnirm::serve {
namespace {

using Clock = std::chrono::steady_clock;

enum class PairKind { text, image_prompt, other };

PairKind kind_of(const data::Example& example) {
  auto media_in = [](const std::vector<data::ContentPart>& parts, bool* image_only) {
    bool any = false;
    for (const data::ContentPart& part : parts) {
      if (part.type == "text") continue;
      any = true;
      if (part.type != "image") *image_only = false;
    }
    return any;
  };
  bool image_only = true;
  bool prompt_media = false;
  for (const data::Turn& turn : example.prompt) {
    prompt_media = media_in(turn.content, &image_only) || prompt_media;
  }
  bool response_image_only = true;
  const bool response_media = media_in(example.chosen, &response_image_only) ||
                              media_in(example.rejected, &response_image_only);
  if (response_media) return PairKind::other;
  if (!prompt_media) return PairKind::text;
  return image_only ? PairKind::image_prompt : PairKind::other;
}

nlohmann::json parts_json(const std::vector<data::ContentPart>& parts) {
  nlohmann::json out = nlohmann::json::array();
  for (const data::ContentPart& part : parts) {
    if (part.type == "text") {
      out.push_back({{"type", "text"}, {"text", part.text}});
    } else {
      out.push_back({{"type", part.type}, {"path", part.path}});
    }
  }
  return out;
}

// A /score body of a pair's prompt, criteria and both responses; media by path.
std::string request_body(const data::Example& example) {
  nlohmann::json prompt = nlohmann::json::array();
  for (const data::Turn& turn : example.prompt) {
    prompt.push_back({{"role", turn.role}, {"content", parts_json(turn.content)}});
  }
  nlohmann::json body = {{"prompt", prompt},
                         {"responses", {parts_json(example.chosen), parts_json(example.rejected)}}};
  if (!example.criteria.empty()) body["criteria"] = example.criteria;
  return body.dump();
}

double percentile_ms(std::vector<double> seconds, double fraction) {
  if (seconds.empty()) return 0.0;
  std::sort(seconds.begin(), seconds.end());
  // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
  const auto rank = static_cast<size_t>(std::ceil(fraction * double(seconds.size())));
  return 1000.0 * seconds[std::max<size_t>(rank, 1) - 1];
}

std::vector<float> rewards_of(const HttpReply& reply) {
  if (reply.status != 200) {
    throw std::runtime_error("bench serve: the server answered " + std::to_string(reply.status) +
                             ": " + reply.body);
  }
  return nlohmann::json::parse(reply.body).at("rewards").get<std::vector<float>>();
}

// Runs the clients against `server`; rewards[i] receives the rewards of bodies[i].
ServeTiming run_clients(RewardServer& server, const std::vector<std::string>& bodies,
                        int64_t concurrency, int64_t requests,
                        std::vector<std::vector<float>>& rewards) {
  std::latch warmed_up(concurrency + 1);
  // Released once the scheduler's counters are read, so no timed batch is counted before.
  std::latch start_timing(1);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(concurrency));
  std::vector<std::string> failures(static_cast<size_t>(concurrency));
  std::vector<std::thread> clients;
  for (int64_t c = 0; c < concurrency; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", server.port());
      bool arrived = false;
      try {
        // One untimed request per client opens its connection and warms the caches.
        rewards_of(client.request("POST", "/score", bodies[c % bodies.size()]));
        warmed_up.arrive_and_wait();
        arrived = true;
        start_timing.wait();
        for (int64_t i = c; i < requests; i += concurrency) {
          const size_t which = static_cast<size_t>(i) % bodies.size();
          const Clock::time_point sent = Clock::now();
          const HttpReply reply = client.request("POST", "/score", bodies[which]);
          latencies[c].push_back(std::chrono::duration<double>(Clock::now() - sent).count());
          std::vector<float> values = rewards_of(reply);
          if (static_cast<int64_t>(which) == i) rewards[which] = std::move(values);
        }
      } catch (const std::exception& error) {
        failures[c] = error.what();
        if (!arrived) warmed_up.count_down();
      }
    });
  }
  warmed_up.arrive_and_wait();
  const SchedulerStats before = server.stats();
  const Clock::time_point start = Clock::now();
  start_timing.count_down();
  for (std::thread& client : clients) client.join();
  ServeTiming timing;
  timing.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const std::string& failure : failures) {
    if (!failure.empty()) throw std::runtime_error(failure);
  }
  std::vector<double> all;
  for (const std::vector<double>& client : latencies)
    all.insert(all.end(), client.begin(), client.end());
  timing.requests = static_cast<int64_t>(all.size());
  timing.p50_ms = percentile_ms(all, 0.50);
  timing.p99_ms = percentile_ms(all, 0.99);
  timing.batches = server.stats().batches - before.batches;
  return timing;
}

// Measures one set with batching on, then off, each on a fresh server.
ServeSetResult run_set(const std::string& name, const std::vector<const data::Example*>& pairs,
                       infer::LoadedModel& loaded, ServeOptions serve,
                       const BenchServeOptions& options) {
  ServeSetResult result;
  result.name = name;
  // Pairs too long for the model would be refused (400); they are left out.
  RequestLimits limits;
  limits.max_length = serve.max_length;
  limits.max_request_tokens = serve.max_batch_tokens;
  limits.media_paths = !serve.media_root.empty();
  const RequestEncoder check(loaded.config, loaded.tokenizer, serve.media_root, limits);
  std::vector<std::string> bodies;
  for (const data::Example* example : pairs) {
    std::string body = request_body(*example);
    try {
      check.tokenize(parse_score_request(body, limits));
    } catch (const BadRequest&) {
      ++result.skipped;
      continue;
    }
    bodies.push_back(std::move(body));
  }
  result.distinct_requests = static_cast<int64_t>(bodies.size());
  if (bodies.empty()) return result;
  std::vector<std::vector<float>> batched(bodies.size()), unbatched(bodies.size());
  const std::optional<data::MediaLayout> layout =
      infer::media_layout_for(loaded.config, loaded.tokenizer);
  for (const bool batching : {true, false}) {
    serve.batching = batching;
    RewardServer server(serve, loaded.config, loaded.tokenizer,
                        model_scorer(*loaded.model, layout, at::kCPU), loaded.dir);
    (batching ? result.batched : result.unbatched) = run_clients(
        server, bodies, options.concurrency, options.requests, batching ? batched : unbatched);
    server.stop();
  }
  for (size_t i = 0; i < bodies.size(); ++i) {
    for (size_t k = 0; k < batched[i].size() && k < unbatched[i].size(); ++k) {
      result.max_reward_difference =
          std::max(result.max_reward_difference, double(std::abs(batched[i][k] - unbatched[i][k])));
    }
  }
  return result;
}

}  // namespace

BenchServeResult bench_serve(const BenchServeOptions& options) {
  if (options.concurrency < 1) throw UserError("bench serve: --concurrency must be at least 1");
  if (options.requests < 1) throw UserError("bench serve: --requests must be at least 1");
  infer::LoadedModel loaded = infer::load_model_dir(options.model);
  if (loaded.config.train.threads > 0) {
    at::set_num_threads(static_cast<int>(loaded.config.train.threads));
  }
  BenchServeResult result;
  result.concurrency = options.concurrency;
  result.threads = at::get_num_threads();
  result.data = options.data.empty() ? loaded.config.data.eval : options.data;
  if (result.data.empty()) {
    throw UserError("bench serve: no -d given and the model's config has no data.eval");
  }
  const std::vector<data::Example> examples =
      data::read_pairs_jsonl(result.data, data::OnBadRecord::error, data::RecordUse::scoring)
          .examples;
  std::vector<const data::Example*> text, image_prompt;
  for (const data::Example& example : examples) {
    switch (kind_of(example)) {
      case PairKind::text:
        text.push_back(&example);
        break;
      case PairKind::image_prompt:
        image_prompt.push_back(&example);
        break;
      case PairKind::other:
        ++result.other_pairs;
        break;
    }
  }

  ServeOptions serve;
  serve.port = 0;
  serve.http_threads = static_cast<int>(options.concurrency);
  serve.max_queue = std::max<int64_t>(256, options.concurrency);
  serve.max_batch_tokens = options.max_batch_tokens;
  serve.max_length = options.max_length > 0 ? options.max_length : loaded.config.data.max_length;
  check_serve_options(serve);
  if (!text.empty()) result.sets.push_back(run_set("text", text, loaded, serve, options));
  if (!image_prompt.empty()) {
    const std::string root = loaded.config.data.root.empty()
                                 ? std::filesystem::path(result.data).parent_path().string()
                                 : loaded.config.data.root;
    serve.media_root = root.empty() ? "." : root;
    result.sets.push_back(run_set("image prompt", image_prompt, loaded, serve, options));
  }
  const bool any = std::any_of(result.sets.begin(), result.sets.end(),
                               [](const ServeSetResult& set) { return set.distinct_requests > 0; });
  if (!any) {
    throw UserError("bench serve: " + result.data +
                    " has no text or image-prompt pair within max_length " +
                    std::to_string(serve.max_length) + "; raise it with --max-length");
  }
  return result;
}

std::string format_bench_serve(const BenchServeResult& r) {
  std::string out = fmt::format(
      "bench serve: {} at concurrency {}, loopback, {} model threads; 2 responses per request{}\n",
      r.data, r.concurrency, r.threads,
      r.other_pairs > 0 ? fmt::format(" ({} pairs with other media left out)", r.other_pairs) : "");
  out += fmt::format("  {:<13} {:<9} {:>9} {:>12} {:>10} {:>10} {:>11}\n", "prompts", "batching",
                     "requests", "requests/s", "p50 ms", "p99 ms", "mean batch");
  for (const ServeSetResult& set : r.sets) {
    if (set.distinct_requests == 0) {
      out += fmt::format("  {:<13} none within max_length ({} skipped)\n", set.name, set.skipped);
      continue;
    }
    auto row = [&](const char* mode, const ServeTiming& t) {
      out += fmt::format("  {:<13} {:<9} {:>9} {:>12.1f} {:>10.2f} {:>10.2f} {:>11.2f}\n", set.name,
                         mode, t.requests, t.requests_per_second(), t.p50_ms, t.p99_ms,
                         t.mean_batch());
    };
    row("on", set.batched);
    row("off", set.unbatched);
  }
  for (const ServeSetResult& set : r.sets) {
    if (set.distinct_requests == 0) continue;
    out += fmt::format(
        "  {}: batching on vs off {:.2f}x requests/s, p50 latency off/on {:.2f}x; {} distinct "
        "requests{}; largest reward difference {:.2e}\n",
        set.name, set.speedup(),
        set.batched.p50_ms > 0.0 ? set.unbatched.p50_ms / set.batched.p50_ms : 0.0,
        set.distinct_requests,
        set.skipped > 0 ? fmt::format(" ({} too long skipped)", set.skipped) : "",
        set.max_reward_difference);
  }
  return out;
}

}  // namespace omnirm::serve
