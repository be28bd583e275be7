// End-to-end data parallelism on CPU: real omnirm processes started by `omnirm launch`,
// talking Gloo over 127.0.0.1 on ports chosen free. Two ranks train to the weights one
// process reaches on the same global batches; ZeRO-1 reaches the same weights with the
// optimizer state split between the ranks; a killed run resumes to the uninterrupted result
// (and one process may take it over);
// a dead or stalled rank ends the launcher with a message naming it; two launchers with
// --nnodes 2 train together; SIGTERM reaches the workers.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include "omnirm/dist/launcher.h"
#include "omnirm/io/safetensors.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;
using omnirm::testing::write_file;
using Clock = std::chrono::steady_clock;

// Per-tensor tolerance between data-parallel and single-process weights:
// ‖a − b‖₂ ≤ kRelativeTolerance · ‖b‖₂. The ranks sum their gradients in another order
// than one process does, so fp32 results differ in the last bits.
constexpr double kRelativeTolerance = 1e-5;

class Dist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("dist"));
    // Biases are off: the reward head's bias and the key biases get exactly zero gradient in
    // exact arithmetic, so AdamW turns their rounding noise into full-size steps that no
    // tolerance can compare. Two micro-batches per rank exercise local accumulation.
    TinyRun run;
    run.eval_pairs = 16;
    run.seed = 5;
    run.micro_batch_pairs = 2;
    run.extra_model_yaml = "  qkv_bias: false\n  head_bias: false\n";
    const std::string failure = make_tiny_run_dir(*dir_, run);
    ASSERT_EQ(failure, "");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static std::string out(const std::string& name) { return *dir_ + "/runs/" + name; }
  static std::string train_args(const std::string& name, const std::string& extra) {
    return "train -c " + *dir_ + "/tiny.yaml --set train.output_dir=" + out(name) + " " + extra;
  }
  // One process.
  static CommandResult train(const std::string& name, const std::string& extra = "",
                             const std::string& env = "") {
    return run_command(env + " " + omnirm_binary() + " " + train_args(name, extra));
  }
  // `ranks` processes through `omnirm launch`.
  static CommandResult launch(int ranks, const std::string& name, const std::string& extra = "",
                              const std::string& env = "") {
    return run_command(env + " " + omnirm_binary() + " launch --nproc-per-node " +
                       std::to_string(ranks) + " -- " + train_args(name, extra));
  }
  static std::string weights_path(const std::string& name, int step = 8) {
    return out(name) + "/checkpoints/step-0000000" + std::to_string(step) + "/model.safetensors";
  }
  static std::map<std::string, at::Tensor> weights(const std::string& name, int step = 8) {
    const auto file = omnirm::io::load_safetensors(weights_path(name, step));
    return {file.tensors.begin(), file.tensors.end()};
  }

  static std::string* dir_;
};
std::string* Dist::dir_ = nullptr;

// The largest per-tensor ‖a − b‖ / ‖b‖.
double max_relative_difference(const std::map<std::string, at::Tensor>& a,
                               const std::map<std::string, at::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (const auto& [name, tensor] : b) {
    const at::Tensor other = a.at(name).to(at::kDouble);
    const double norm = tensor.to(at::kDouble).norm().item<double>();
    const double diff = (other - tensor.to(at::kDouble)).norm().item<double>();
    worst = std::max(worst, diff / std::max(norm, 1e-12));
  }
  return worst;
}

// The byte counts of "optimizer state per rank: A, B bytes".
std::vector<long> optimizer_state_bytes(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match,
                         std::regex("optimizer state per rank: ([0-9]+), ([0-9]+) bytes"))) {
    ADD_FAILURE() << "no optimizer state line in: " << output;
    return {0, 0};
  }
  return {std::stol(match[1]), std::stol(match[2])};
}

bool wait_for_file(const std::string& path, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!fs::exists(path)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

TEST_F(Dist, TwoRanksReachTheWeightsOfOneProcess) {
  CommandResult single = train("single");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  CommandResult parallel = launch(2, "parallel");
  ASSERT_EQ(parallel.exit_code, 0) << parallel.output;
  EXPECT_NE(parallel.output.find("data parallel: 2 ranks over gloo"), std::string::npos)
      << parallel.output;
  // Only rank 0 reports.
  const std::string& text = parallel.output;
  const size_t reported = text.find("trained 8 steps");
  EXPECT_NE(reported, std::string::npos) << text;
  EXPECT_EQ(text.find("trained 8 steps", reported + 1), std::string::npos) << text;
  EXPECT_LE(max_relative_difference(weights("parallel"), weights("single")), kRelativeTolerance);
  // The tolerance is far below what four more steps change.
  EXPECT_GT(max_relative_difference(weights("single", 4), weights("single")),
            100 * kRelativeTolerance);
  // Metrics are written once, with the global batch's statistics.
  const std::string metrics = read_file(out("parallel") + "/metrics.jsonl");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 9) << metrics;  // 8 steps + eval
}

TEST_F(Dist, VerboseRanksPrefixTheirLines) {
  CommandResult verbose = launch(2, "verbose", "--set dist.verbose=true --set train.max_steps=2");
  ASSERT_EQ(verbose.exit_code, 0) << verbose.output;
  EXPECT_NE(verbose.output.find("[rank 0] step 2/2"), std::string::npos) << verbose.output;
  EXPECT_NE(verbose.output.find("[rank 1] step 2/2"), std::string::npos) << verbose.output;
}

TEST_F(Dist, ZeroOneMatchesDataParallelWithShardedOptimizerState) {
  CommandResult plain = launch(2, "zero0");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  CommandResult sharded = launch(2, "zero1", "--set dist.zero_stage=1");
  ASSERT_EQ(sharded.exit_code, 0) << sharded.output;
  // Each parameter's AdamW update is the same arithmetic on the same averaged gradient.
  EXPECT_EQ(max_relative_difference(weights("zero1"), weights("zero0")), 0.0);

  const std::vector<long> full = optimizer_state_bytes(plain.output);
  const std::vector<long> shard = optimizer_state_bytes(sharded.output);
  std::printf("optimizer state bytes per rank: zero_stage 0: %ld, %ld; zero_stage 1: %ld, %ld\n",
              full[0], full[1], shard[0], shard[1]);
  EXPECT_EQ(full[0], full[1]);
  EXPECT_LT(shard[0], full[0]);
  EXPECT_LT(shard[1], full[0]);
  EXPECT_EQ(shard[0] + shard[1], full[0]);  // the shards split the state exactly
  EXPECT_TRUE(
      fs::exists(out("zero1") + "/checkpoints/step-00000008/rank-00001-optimizer.safetensors"));
}

TEST_F(Dist, KilledRunResumesToTheUninterruptedWeights) {
  for (const std::string stage : {"0", "1"}) {
    const std::string set = "--set dist.zero_stage=" + stage;
    CommandResult straight = launch(2, "straight" + stage, set);
    ASSERT_EQ(straight.exit_code, 0) << straight.output;
    CommandResult killed = launch(2, "killed" + stage, set, "OMNIRM_FAULT_KILL_AT_STEP=6");
    EXPECT_NE(killed.exit_code, 0) << killed.output;
    EXPECT_NE(killed.output.find("signal 9"), std::string::npos) << killed.output;
    EXPECT_FALSE(fs::exists(out("killed" + stage) + "/checkpoints/step-00000008"));
    CommandResult resumed = launch(2, "killed" + stage, set + " --resume auto");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    EXPECT_EQ(read_file(weights_path("straight" + stage)),
              read_file(weights_path("killed" + stage)))
        << "dist.zero_stage=" << stage;
  }
  // Another world size takes over the run, re-sharding the optimizer state.
  CommandResult alone = train("killed1", "--resume auto");
  EXPECT_EQ(alone.exit_code, 0) << alone.output;
  EXPECT_NE(alone.output.find("re-sharded: 2 rank(s) at dist.zero_stage 1"), std::string::npos)
      << alone.output;
}

TEST_F(Dist, AKilledRankEndsTheLauncherNamingIt) {
  const auto start = Clock::now();
  CommandResult result = launch(2, "one-dies", "--set train.max_steps=100000",
                                "OMNIRM_FAULT_RANK=1 OMNIRM_FAULT_KILL_AT_STEP=2");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 128 + 9) << result.output;
  EXPECT_NE(result.output.find("failed (exit code 137): rank 1 (local rank 1"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("killed by signal 9"), std::string::npos) << result.output;
  EXPECT_LT(seconds, 60.0);
}

TEST_F(Dist, AStalledRankTimesOutNamingTheOperation) {
  const auto start = Clock::now();
  CommandResult result = launch(2, "stalled", "--set train.max_steps=100000 --set dist.timeout=2",
                                "OMNIRM_FAULT_RANK=1 OMNIRM_FAULT_STALL_AT_STEP=2");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("rank 0: the gradient all-reduce during backward did not complete"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("dist.timeout = 2 s"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("rank 0 (local rank 0"), std::string::npos) << result.output;
  EXPECT_LT(seconds, 60.0);
}

TEST_F(Dist, TwoLaunchersWithTwoNodesTrainTogether) {
  CommandResult one_node = launch(2, "one-node");
  ASSERT_EQ(one_node.exit_code, 0) << one_node.output;
  const std::string port = std::to_string(omnirm::dist::find_free_port());
  auto node = [&](int rank) {
    return omnirm_binary() + " launch --nproc-per-node 1 --nnodes 2 --node-rank " +
           std::to_string(rank) + " --master-addr 127.0.0.1 --master-port " + port + " -- " +
           train_args("two-nodes", "");
  };
  const std::string node1_status = *dir_ + "/node1.status";
  run_command("(" + node(1) + " > " + *dir_ + "/node1.log 2>&1; echo $? > " + node1_status +
              ") > /dev/null 2>&1 &");
  CommandResult node0 = run_command(node(0));
  ASSERT_EQ(node0.exit_code, 0) << node0.output;
  ASSERT_TRUE(wait_for_file(node1_status, 60.0)) << read_file(*dir_ + "/node1.log");
  EXPECT_EQ(read_file(node1_status), "0\n") << read_file(*dir_ + "/node1.log");
  // The same two ranks, one per launcher: the same arithmetic as one launcher with two.
  EXPECT_EQ(read_file(weights_path("two-nodes")), read_file(weights_path("one-node")));
}

TEST_F(Dist, SigtermReachesTheWorkers) {
  const std::string pid_file = *dir_ + "/launcher.pid";
  const std::string status_file = *dir_ + "/launcher.status";
  const std::string log_file = *dir_ + "/launcher.log";
  run_command("(" + omnirm_binary() + " launch --nproc-per-node 2 -- " +
              train_args("terminated", "--set train.max_steps=100000") + " > " + log_file +
              " 2>&1 & echo $! > " + pid_file + "; wait $!; echo $? > " + status_file +
              ") > /dev/null 2>&1 &");
  ASSERT_TRUE(wait_for_file(out("terminated") + "/metrics.jsonl", 60.0)) << read_file(log_file);
  ASSERT_TRUE(wait_for_file(pid_file, 5.0));
  const pid_t launcher = std::stoi(read_file(pid_file));
  ASSERT_EQ(::kill(launcher, SIGTERM), 0);
  ASSERT_TRUE(wait_for_file(status_file, 30.0)) << read_file(log_file);
  EXPECT_EQ(read_file(status_file), std::to_string(128 + SIGTERM) + "\n");
  EXPECT_NE(read_file(log_file).find("passing it to the workers"), std::string::npos)
      << read_file(log_file);
}

TEST_F(Dist, BatchesThatDoNotSplitOverTheRanksAreRefused) {
  CommandResult result = launch(3, "uneven");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("train.global_batch_pairs (8) must be divisible by the world size "
                               "(3) times train.micro_batch_pairs (2)"),
            std::string::npos)
      << result.output;
}

TEST_F(Dist, BenchDistReportsStepRatioAndOverlap) {
  CommandResult bench =
      run_command(omnirm_binary() + " bench dist -c " + *dir_ + "/tiny.yaml --steps 2 --warmup 0");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("step-time ratio (2 ranks / 1 rank): "), std::string::npos)
      << bench.output;
  EXPECT_NE(bench.output.find("all-reduce hidden behind backward: "), std::string::npos)
      << bench.output;
  for (const char* command : {"launch", "bench dist"}) {
    CommandResult help = run_command(omnirm_binary() + " " + command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command << help.output;
    EXPECT_NE(help.output.find("Options"), std::string::npos) << command << help.output;
  }
}

}  // namespace
