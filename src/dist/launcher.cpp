// Implementation of dist/launcher.h with POSIX processes. The launcher blocks SIGINT,
// SIGTERM and SIGCHLD and takes them with sigtimedwait, so no signal handler runs; workers
// get the original signal mask back before exec.
#include "omnirm/dist/launcher.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "omnirm/core/error.h"

extern char** environ;

namespace omnirm::dist {

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  int64_t rank = 0;
  int64_t local_rank = 0;
  pid_t pid = -1;
  bool running = false;
};

void validate(const LaunchOptions& options) {
  if (options.nproc_per_node < 1) {
    throw UserError(
        fmt::format("--nproc-per-node must be at least 1, got {}", options.nproc_per_node));
  }
  if (options.nnodes < 1) {
    throw UserError(fmt::format("--nnodes must be at least 1, got {}", options.nnodes));
  }
  if (options.node_rank < 0 || options.node_rank >= options.nnodes) {
    throw UserError(fmt::format("--node-rank must be in [0, {}) for --nnodes {}, got {}",
                                options.nnodes, options.nnodes, options.node_rank));
  }
  if (options.master_port < 0 || options.master_port > 65535) {
    throw UserError(
        fmt::format("--master-port must be in [1, 65535], got {}", options.master_port));
  }
  if (options.nnodes > 1 && options.master_port == 0) {
    throw UserError(
        "--master-port is required with --nnodes > 1: every node must name the same port");
  }
  if (options.arguments.empty()) {
    throw UserError(
        "no worker command given; e.g. omnirm launch --nproc-per-node 2 -- train -c "
        "CONFIG");
  }
}

std::string this_binary() {
  std::error_code error;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find this program's path: " + error.message());
  return path.string();
}

// "exited with status 3" / "was killed by signal 9 (Killed)".
std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return fmt::format("was killed by signal {} ({})", signal, ::strsignal(signal));
  }
  return fmt::format("ended with wait status {}", status);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// NAME=value strings: the launcher's environment with `overrides` replacing or added.
std::vector<std::string> environment_with(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals != std::string::npos) variables[text.substr(0, equals)] = text.substr(equals + 1);
  }
  // This launcher serves no agent store; a value inherited from torchrun would mislead.
  variables.erase("TORCHELASTIC_USE_AGENT_STORE");
  for (const auto& [name, value] : overrides) variables[name] = value;
  std::vector<std::string> entries;
  for (const auto& [name, value] : variables) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

void signal_running(std::vector<Worker>& workers, int signal) {
  for (const Worker& worker : workers) {
    if (worker.running) ::kill(worker.pid, signal);
  }
}

void report(const std::string& line) {
  fmt::print(stderr, "omnirm launch: {}\n", line);
  std::fflush(stderr);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> worker_environment(const LaunchOptions& options,
                                                                    int64_t local_rank) {
  const int64_t rank = options.node_rank * options.nproc_per_node + local_rank;
  std::vector<std::pair<std::string, std::string>> variables = {
      {"RANK", std::to_string(rank)},
      {"LOCAL_RANK", std::to_string(local_rank)},
      {"WORLD_SIZE", std::to_string(options.nnodes * options.nproc_per_node)},
      {"LOCAL_WORLD_SIZE", std::to_string(options.nproc_per_node)},
      {"GROUP_RANK", std::to_string(options.node_rank)},
      {"MASTER_ADDR", options.master_addr},
      {"MASTER_PORT", std::to_string(options.master_port)},
  };
  if (options.nproc_per_node > 1 && std::getenv("OMP_NUM_THREADS") == nullptr) {
    variables.emplace_back("OMP_NUM_THREADS", "1");
  }
  return variables;
}

int64_t find_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok)
    throw std::runtime_error(std::string("finding a free port: ") + std::strerror(saved_errno));
  return ntohs(address.sin_port);
}

int launch_workers(const LaunchOptions& requested) {
  validate(requested);
  LaunchOptions options = requested;
  if (options.master_port == 0) options.master_port = find_free_port();
  const std::string program = options.program.empty() ? this_binary() : options.program;

  sigset_t handled;
  sigset_t previous;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &handled, &previous);

  std::vector<Worker> workers;
  for (int64_t local_rank = 0; local_rank < options.nproc_per_node; ++local_rank) {
    // Everything the child needs is built before fork: after it, only exec and _exit.
    std::vector<std::string> env = environment_with(worker_environment(options, local_rank));
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), options.arguments.begin(), options.arguments.end());
    std::vector<char*> env_pointers = pointers_to(env);
    std::vector<char*> argv_pointers = pointers_to(argv);
    const pid_t pid = ::fork();
    if (pid < 0) {
      signal_running(workers, SIGKILL);
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      ::execve(program.c_str(), argv_pointers.data(), env_pointers.data());
      const std::string message =
          "omnirm launch: cannot run " + program + ": " + std::strerror(errno) + "\n";
      [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message.data(), message.size());
      ::_exit(127);
    }
    workers.push_back(
        Worker{options.node_rank * options.nproc_per_node + local_rank, local_rank, pid, true});
  }

  int exit_code = 0;
  std::string failure;  // the first failed worker, described
  int received_signal = 0;
  bool stopping = false;
  bool killed_stragglers = false;
  Clock::time_point stop_deadline;
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.stop_grace_seconds));
  auto stop_others = [&] {
    if (stopping) return;
    stopping = true;
    stop_deadline = Clock::now() + grace;
    signal_running(workers, SIGTERM);
  };

  auto any_running = [&] {
    for (const Worker& worker : workers) {
      if (worker.running) return true;
    }
    return false;
  };
  while (any_running()) {
    const timespec poll = {0, 100'000'000};
    const int signal = sigtimedwait(&handled, nullptr, &poll);
    if ((signal == SIGINT || signal == SIGTERM) && received_signal == 0) {
      received_signal = signal;
      report(fmt::format("received {}; passing it to the workers", ::strsignal(signal)));
      signal_running(workers, signal);
      stopping = true;
      stop_deadline = Clock::now() + grace;
    }
    for (Worker& worker : workers) {
      if (!worker.running) continue;
      int status = 0;
      if (::waitpid(worker.pid, &status, WNOHANG) != worker.pid) continue;
      worker.running = false;
      const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (failed && exit_code == 0 && received_signal == 0) {
        exit_code = exit_code_of(status);
        failure = fmt::format("rank {} (local rank {}, pid {}) {}", worker.rank, worker.local_rank,
                              worker.pid, describe_status(status));
        report(failure + "; stopping the other workers");
        stop_others();
      }
    }
    if (stopping && !killed_stragglers && Clock::now() > stop_deadline) {
      signal_running(workers, SIGKILL);
      killed_stragglers = true;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  if (received_signal != 0) {
    report(fmt::format("stopped by {}", ::strsignal(received_signal)));
    return 128 + received_signal;
  }
  if (exit_code != 0) report(fmt::format("failed (exit code {}): {}", exit_code, failure));
  return exit_code;
}

}  // namespace omnirm::dist
