// The torchrun variables read into a World (and the errors for an incomplete set), and the
// launcher on /bin/sh workers: the variables each worker gets, exit codes passed on, a
// failed worker stopping the others, and bad options refused.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "omnirm/core/error.h"
#include "omnirm/dist/launcher.h"
#include "omnirm/dist/world.h"
#include "support/test_support.h"

namespace {

using omnirm::UserError;
using omnirm::dist::LaunchOptions;
using omnirm::dist::World;
using omnirm::dist::world_from;

World world_of(const std::map<std::string, std::string>& variables) {
  return world_from([&](const char* name) -> const char* {
    auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  });
}

std::string world_error(const std::map<std::string, std::string>& variables) {
  try {
    world_of(variables);
  } catch (const UserError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

const std::map<std::string, std::string> kFullWorld = {{"RANK", "3"},
                                                       {"LOCAL_RANK", "1"},
                                                       {"WORLD_SIZE", "4"},
                                                       {"LOCAL_WORLD_SIZE", "2"},
                                                       {"MASTER_ADDR", "10.0.0.7"},
                                                       {"MASTER_PORT", "29500"}};

TEST(World, NoVariablesIsASingleProcess) {
  const World world = world_of({});
  EXPECT_FALSE(world.distributed());
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(world.rank, 0);
  EXPECT_TRUE(world.is_main());
  // torchrun with one process: nothing to rendezvous with.
  EXPECT_FALSE(world_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).distributed());
}

TEST(World, ReadsEveryVariable) {
  const World world = world_of(kFullWorld);
  EXPECT_TRUE(world.distributed());
  EXPECT_FALSE(world.is_main());
  EXPECT_EQ(world.rank, 3);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.size, 4);
  EXPECT_EQ(world.local_size, 2);
  EXPECT_EQ(world.master_addr, "10.0.0.7");
  EXPECT_EQ(world.master_port, 29500);
  EXPECT_FALSE(world.agent_store);
  auto with_agent = kFullWorld;
  with_agent["TORCHELASTIC_USE_AGENT_STORE"] = "True";
  EXPECT_TRUE(world_of(with_agent).agent_store);
}

TEST(World, IncompleteOrBadVariablesAreNamed) {
  for (const char* name :
       {"RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) {
    auto missing = kFullWorld;
    missing.erase(name);
    const std::string message = world_error(missing);
    EXPECT_NE(message.find(std::string(name) + " is not set"), std::string::npos) << message;
  }
  auto bad_rank = kFullWorld;
  bad_rank["RANK"] = "4";
  EXPECT_NE(world_error(bad_rank).find("RANK='4'"), std::string::npos);
  auto bad_port = kFullWorld;
  bad_port["MASTER_PORT"] = "http";
  EXPECT_NE(world_error(bad_port).find("MASTER_PORT='http'"), std::string::npos);
}

TEST(Launcher, WorkerEnvironmentFollowsTorchrun) {
  LaunchOptions options;
  options.nproc_per_node = 2;
  options.nnodes = 3;
  options.node_rank = 2;
  options.master_addr = "10.1.2.3";
  options.master_port = 4567;
  const auto variables = omnirm::dist::worker_environment(options, 1);
  std::map<std::string, std::string> by_name(variables.begin(), variables.end());
  EXPECT_EQ(by_name["RANK"], "5");
  EXPECT_EQ(by_name["LOCAL_RANK"], "1");
  EXPECT_EQ(by_name["WORLD_SIZE"], "6");
  EXPECT_EQ(by_name["LOCAL_WORLD_SIZE"], "2");
  EXPECT_EQ(by_name["GROUP_RANK"], "2");
  EXPECT_EQ(by_name["MASTER_ADDR"], "10.1.2.3");
  EXPECT_EQ(by_name["MASTER_PORT"], "4567");
}

LaunchOptions shell_workers(int64_t count, const std::string& script) {
  LaunchOptions options;
  options.nproc_per_node = count;
  options.program = "/bin/sh";
  options.arguments = {"-c", script};
  options.stop_grace_seconds = 1.0;
  return options;
}

TEST(Launcher, WorkersSeeTheirRanksAndSuccessIsZero) {
  const std::string dir = omnirm::testing::make_temp_dir("launch-env");
  const int code = omnirm::dist::launch_workers(shell_workers(
      3,
      "echo \"$RANK $LOCAL_RANK $WORLD_SIZE $MASTER_ADDR $MASTER_PORT\" > " + dir + "/rank-$RANK"));
  EXPECT_EQ(code, 0);
  std::string port;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string line = omnirm::testing::read_file(dir + "/rank-" + std::to_string(rank));
    const std::string expected_start =
        std::to_string(rank) + " " + std::to_string(rank) + " 3 127.0.0.1 ";
    EXPECT_EQ(line.rfind(expected_start, 0), 0u) << line;
    const std::string this_port = line.substr(expected_start.size());
    if (rank == 0) port = this_port;
    EXPECT_EQ(this_port, port);  // one rendezvous port, chosen for all
  }
  EXPECT_GT(std::stoi(port), 0);
}

TEST(Launcher, AFailedWorkerStopsTheOthersAndItsStatusIsReturned) {
  const auto start = std::chrono::steady_clock::now();
  // Rank 1 fails at once; rank 0 would sleep for a minute unless stopped.
  const int code = omnirm::dist::launch_workers(
      shell_workers(2, "if [ \"$RANK\" = 1 ]; then exit 3; fi; exec sleep 60"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(code, 3);
  EXPECT_LT(seconds, 20.0);

  // A worker killed by a signal: 128 + the signal.
  EXPECT_EQ(omnirm::dist::launch_workers(
                shell_workers(2, "if [ \"$RANK\" = 0 ]; then kill -9 $$; fi; exec sleep 60")),
            128 + 9);
}

TEST(Launcher, BadOptionsAreRefused) {
  LaunchOptions two_nodes = shell_workers(1, "true");
  two_nodes.nnodes = 2;
  try {
    omnirm::dist::launch_workers(two_nodes);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find("--master-port"), std::string::npos) << error.what();
  }
  LaunchOptions bad_rank = shell_workers(1, "true");
  bad_rank.nnodes = 2;
  bad_rank.node_rank = 2;
  bad_rank.master_port = 1234;
  EXPECT_THROW(omnirm::dist::launch_workers(bad_rank), UserError);
  EXPECT_THROW(omnirm::dist::launch_workers(shell_workers(0, "true")), UserError);
  LaunchOptions no_command = shell_workers(1, "true");
  no_command.arguments.clear();
  EXPECT_THROW(omnirm::dist::launch_workers(no_command), UserError);
}

TEST(Launcher, FreePortCanBeBound) {
  const int64_t port = omnirm::dist::find_free_port();
  ASSERT_GT(port, 0);
  ASSERT_LE(port, 65535);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
}

}  // namespace
