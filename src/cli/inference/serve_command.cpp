// `omnirm serve`: loads a model and serves POST /score, POST /get_reward and GET /health over
// HTTP until SIGINT or SIGTERM, then stops gracefully (requests already received are answered).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/serve/reward_server.h"

namespace omnirm::cli {
namespace {

// Written to by the signal handler (async-signal-safe), read by the waiting main thread.
int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int signal_number) {
  const char byte = static_cast<char>(signal_number);
  [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
  // A second Ctrl-C ends the process at once.
  ::signal(signal_number, SIG_DFL);
}

// Installs the handlers, blocks until SIGINT or SIGTERM, and returns its name.
const char* wait_for_stop_signal() {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("serve: cannot create a pipe: ") + std::strerror(errno));
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  char received = 0;
  while (true) {
    pollfd entry{g_signal_pipe[0], POLLIN, 0};
    if (::poll(&entry, 1, -1) > 0 && ::read(g_signal_pipe[0], &received, 1) == 1) break;
  }
  return received == SIGINT ? "SIGINT" : "SIGTERM";
}

// Open connections each take a descriptor: take the hard limit the system allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

at::Device parse_device(const std::string& name) {
  if (name == "cpu") return at::Device(at::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    try {
      return at::Device(name);
    } catch (const std::exception&) {
    }
  }
  throw UserError("--device '" + name + "': use cpu, cuda or cuda:N");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "serve",
      "Serve rewards over HTTP: POST /score {prompt, criteria, responses}, POST /get_reward "
      "(OpenRLHF), GET /health (docs/serve.md)");
  struct Options {
    std::string model;
    std::string device = "cpu";
    int64_t threads = 0;
    serve::ServeOptions serve;
  };
  auto o = std::make_shared<Options>();
  serve::ServeOptions& s = o->serve;
  command
      ->add_option("-m,--model", o->model,
                   "Checkpoint directory, run output directory or export directory")
      ->required();
  command->add_option("--host", s.host, "Address to listen on (127.0.0.1: this machine only)");
  command->add_option("--port", s.port, "Port (0: any free port, printed at start)");
  command->add_option("--media-root", s.media_root,
                      "Directory that media parts given by path are read under (none: media "
                      "only inline, as base64)");
  command->add_option("--max-batch-tokens", s.max_batch_tokens,
                      "Tokens of one forward pass; waiting requests are packed up to it");
  command->add_option("--max-queue", s.max_queue, "Requests waiting for the model; beyond: 503");
  command->add_option("--max-request-bytes", s.max_request_bytes,
                      "Largest request body; beyond: 413");
  command->add_option("--max-media-bytes", s.max_media_bytes,
                      "Largest media part (inline or by path); beyond: 413 / 400");
  command->add_option("--max-responses", s.max_responses, "Most responses in one request");
  command->add_option(
      "--max-length", s.max_length,
      "Most tokens of prompt + one response (default: the model's data.max_length)");
  command->add_option("--max-connections", s.max_connections,
                      "Open connections at once; beyond: 503 and close");
  command->add_option("--http-threads", s.http_threads,
                      "Request handler threads: requests parsed, decoded and awaiting rewards at "
                      "once");
  command->add_option("--head-timeout", s.head_timeout,
                      "Seconds a request head may take from its first byte; beyond: 408");
  command->add_option("--body-timeout", s.body_timeout,
                      "Seconds a request body may take after its head; beyond: 408");
  command->add_option("--idle-timeout", s.idle_timeout,
                      "Seconds a kept-alive connection may wait for its next request");
  command->add_option("--threads", o->threads,
                      "Model threads (default: the model's train.threads, "
                      "else all cores)");
  command->add_option("--device", o->device, "cpu, cuda or cuda:N");
  command->add_flag("!--no-batching", s.batching, "Score one request per forward pass");
  command->callback([o] {
    const at::Device device = parse_device(o->device);
    infer::LoadedModel loaded = infer::load_model_dir(o->model);
    serve::ServeOptions options = o->serve;
    if (options.max_length == 0) options.max_length = loaded.config.data.max_length;
    serve::check_serve_options(options);
    const int64_t threads = o->threads > 0 ? o->threads : loaded.config.train.threads;
    if (threads > 0) at::set_num_threads(static_cast<int>(threads));
    raise_descriptor_limit();
    loaded.model->to(device);
    serve::RewardServer server(
        options, loaded.config, loaded.tokenizer,
        serve::model_scorer(*loaded.model, infer::media_layout_for(loaded.config, loaded.tokenizer),
                            device),
        loaded.dir);
    fmt::print(stderr,
               "omnirm serve: listening on http://{}:{} (model {}, {}, max_length {}, batch "
               "budget {} tokens, {} model threads, media {}, up to {} connections); Ctrl-C "
               "stops\n",
               options.host, server.port(), loaded.dir, device.str(), options.max_length,
               options.max_batch_tokens, at::get_num_threads(),
               options.media_root.empty() ? std::string("inline only")
                                          : "inline or under " + options.media_root,
               server.http_max_connections());
    std::fflush(stderr);
    const char* signal_name = wait_for_stop_signal();
    fmt::print(stderr, "omnirm serve: {} received; finishing requests in progress\n", signal_name);
    server.stop();
    const serve::SchedulerStats stats = server.stats();
    fmt::print(stderr, "omnirm serve: stopped after {} requests in {} batches\n", stats.requests,
               stats.batches);
  });
}

}  // namespace omnirm::cli
