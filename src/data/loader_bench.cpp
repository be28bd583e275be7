// Implementation of data/loader_bench.h (Linux: /proc/self/status and clear_refs, fork).
#include "omnirm/data/loader_bench.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "omnirm/core/process_memory.h"

namespace omnirm::data {
namespace {

// User + system CPU time of this process, every thread.
double cpu_seconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool write_all(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t done = ::write(fd, bytes, size);
    if (done <= 0) return false;
    bytes += done;
    size -= static_cast<size_t>(done);
  }
  return true;
}

size_t read_all(int fd, void* data, size_t size) {
  char* bytes = static_cast<char*>(data);
  size_t total = 0;
  while (total < size) {
    const ssize_t got = ::read(fd, bytes + total, size - total);
    if (got <= 0) break;
    total += static_cast<size_t>(got);
  }
  return total;
}

static_assert(std::is_trivially_copyable_v<LoaderBenchResult>, "sent through a pipe as bytes");

}  // namespace

LoaderBenchResult bench_loader_epoch(const text::Tokenizer& tokenizer, LoaderOptions options) {
  options.epochs = 1;
  LoaderBenchResult result;
  reset_peak_resident();
  result.baseline_rss_bytes = resident_bytes();
  std::vector<int32_t> prompt_lengths;
  std::vector<int32_t> pair_lengths;
  {
    const auto start = std::chrono::steady_clock::now();
    Loader loader(tokenizer, options);
    result.index_seconds = seconds_since(start);
    prompt_lengths.reserve(static_cast<size_t>(loader.pairs_per_epoch()));
    pair_lengths.reserve(static_cast<size_t>(loader.pairs_per_epoch()));

    const auto epoch_start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    while (std::optional<LoaderBatch> batch = loader.next()) {
      for (const MicroBatch& micro : batch->micro_batches) {
        const PairBatch packed = pack_micro_batch(micro, options.prefix_sharing);
        result.packed_tokens += packed.tokens_in_batch();
        result.pairs += packed.pairs();
        for (const EncodedPair& pair : micro.pairs) {
          prompt_lengths.push_back(static_cast<int32_t>(pair.tokens.prompt.size()));
          pair_lengths.push_back(static_cast<int32_t>(pair.packed_tokens(true)));
        }
      }
      result.truncated += batch->counts.truncated;
      result.dropped += batch->counts.dropped;
    }
    result.epoch_seconds = seconds_since(epoch_start);
    result.epoch_cpu_seconds = cpu_seconds() - cpu_start;
    result.index_bytes = loader.index_bytes();
  }
  result.peak_rss_bytes = peak_resident_bytes();
  result.prompt_tokens = percentiles(prompt_lengths);
  result.pair_tokens = percentiles(pair_lengths);
  return result;
}

LoaderBenchResult bench_loader_epoch_in_child(const text::Tokenizer& tokenizer,
                                              const LoaderOptions& options) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("bench: pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("bench: fork failed");
  if (child == 0) {
    ::close(pipe_fds[0]);
    char ok = 1;
    std::string message;
    LoaderBenchResult result;
    try {
      result = bench_loader_epoch(tokenizer, options);
    } catch (const std::exception& error) {
      ok = 0;
      message = error.what();
    }
    write_all(pipe_fds[1], &ok, 1);
    if (ok) {
      write_all(pipe_fds[1], &result, sizeof(result));
    } else {
      write_all(pipe_fds[1], message.data(), message.size());
    }
    ::close(pipe_fds[1]);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char ok = 0;
  LoaderBenchResult result;
  std::string message;
  const bool got_status = read_all(pipe_fds[0], &ok, 1) == 1;
  if (got_status && ok) {
    if (read_all(pipe_fds[0], &result, sizeof(result)) != sizeof(result)) ok = 0;
  } else if (got_status) {
    char buffer[4096];
    const size_t got = read_all(pipe_fds[0], buffer, sizeof(buffer));
    message.assign(buffer, got);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!got_status || !ok) {
    throw std::runtime_error("bench: the measuring process failed" +
                             (message.empty() ? std::string() : ": " + message));
  }
  return result;
}

}  // namespace omnirm::data
