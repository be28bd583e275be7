// `omnirm launch`: starts this node's data-parallel workers (fork/exec with torchrun's
// variables set), passes SIGINT/SIGTERM on to them, and supervises them: when one worker
// fails, the others are stopped (SIGTERM, then SIGKILL after a grace period) and the launcher
// reports which rank failed and how.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omnirm::dist {

struct LaunchOptions {
  int64_t nproc_per_node = 1;
  int64_t nnodes = 1;
  int64_t node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 0;             // 0: a free port on this machine (one node only)
  std::string program;                 // the worker executable; empty: this binary
  std::vector<std::string> arguments;  // the worker's arguments after the program name
  double stop_grace_seconds = 5.0;     // between SIGTERM and SIGKILL when stopping workers
};

// The variables worker `local_rank` gets on top of the launcher's environment: RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT (and
// OMP_NUM_THREADS=1 when several workers share the node and it is unset).
std::vector<std::pair<std::string, std::string>> worker_environment(const LaunchOptions& options,
                                                                    int64_t local_rank);

// Runs the workers to completion. Returns the launcher's exit code: 0 when every worker
// exits 0; otherwise the first failed worker's exit status, or 128 + the signal that ended
// it (or 128 + the signal the launcher itself received). Throws UserError for bad options.
int launch_workers(const LaunchOptions& options);

// A TCP port on 127.0.0.1 that was free when asked (bind to port 0).
int64_t find_free_port();

}  // namespace omnirm::dist
