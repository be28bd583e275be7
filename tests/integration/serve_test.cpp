// `omnirm serve` end to end with a trained tiny model: many concurrent clients get, for
// requests of three responses, the rewards `score_pairs` (what `omnirm score` writes) gives
// the same prompts and responses as pairs; an OpenRLHF remote-RM request, exactly as its
// trainer sends it, gets the rewards /score gives the same texts; the binary listens on an
// ephemeral loopback port, answers, refuses a bad request, and stops cleanly on SIGTERM; bad
// flags are one-line errors; `omnirm bench serve` prints requests/s, p50/p99 and the
// batching ratio.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "omnirm/data/jsonl_reader.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/pair_scoring.h"
#include "omnirm/serve/http_client.h"
#include "omnirm/serve/reward_server.h"
#include "support/test_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxLength = 1024;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;
using omnirm::testing::write_file;

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("serve"));
    ASSERT_EQ(make_tiny_run_dir(*dir_, TinyRun{}), "");
    const CommandResult trained = run_command(omnirm_binary() + " train -c " + *dir_ +
                                              "/tiny.yaml --set train.output_dir=" + run());
    ASSERT_EQ(trained.exit_code, 0) << trained.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string run() { return *dir_ + "/runs/tiny"; }
  static std::string eval_path() { return *dir_ + "/data/eval.jsonl"; }

  static std::string* dir_;
};
std::string* Serve::dir_ = nullptr;

// A request of a pair's prompt and criteria with `responses`.
std::string request_of(const omnirm::data::Example& example,
                       const std::vector<std::string>& responses) {
  json prompt = json::array();
  for (const omnirm::data::Turn& turn : example.prompt) {
    prompt.push_back({{"role", turn.role}, {"content", omnirm::data::text_of(turn.content)}});
  }
  json body = {{"prompt", prompt}, {"responses", responses}};
  if (!example.criteria.empty()) body["criteria"] = example.criteria;
  return body.dump();
}

std::vector<float> rewards_of(const omnirm::serve::HttpReply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.body;
  if (reply.status != 200) return {};
  return json::parse(reply.body).at("rewards").get<std::vector<float>>();
}

TEST_F(Serve, ConcurrentClientsGetTheRewardsOfScore) {
  using namespace omnirm;
  const std::vector<data::Example> pairs =
      data::read_pairs_jsonl(eval_path(), data::OnBadRecord::error).examples;
  ASSERT_GE(pairs.size(), 16u);
  // Request k: pair k's prompt with its chosen, its rejected, and pair k+1's chosen. The
  // third response's reward under prompt k comes from a pair file of (prompt k, chosen k+1,
  // chosen k).
  std::vector<std::string> bodies;
  std::string crossed;
  for (size_t k = 0; k < pairs.size(); ++k) {
    const data::Example& next = pairs[(k + 1) % pairs.size()];
    const std::string third = data::text_of(next.chosen);
    bodies.push_back(request_of(
        pairs[k], {data::text_of(pairs[k].chosen), data::text_of(pairs[k].rejected), third}));
    data::Example swapped = pairs[k];
    swapped.chosen = next.chosen;
    swapped.rejected = pairs[k].chosen;
    crossed += data::to_json_line(swapped) + "\n";
  }
  write_file(*dir_ + "/crossed.jsonl", crossed);

  infer::LoadedModel loaded = infer::load_model_dir(run());
  // The tiny tokenizer makes these pairs longer than the tiny config's 256 tokens: score and
  // serve them whole.
  loaded.config.data.max_length = kMaxLength;
  auto score = [&](const std::string& path) {
    const infer::EncodedDataset set =
        infer::load_encoded_dataset(path, loaded.tokenizer, loaded.config, /*keep_ties=*/true);
    EXPECT_EQ(set.encode.truncated + set.encode.dropped, 0) << "pairs must fit unchanged";
    return infer::score_pairs(*loaded.model, set, 8, true, at::Device(at::kCPU));
  };
  const std::vector<eval::PairScore> straight = score(eval_path());
  const std::vector<eval::PairScore> across = score(*dir_ + "/crossed.jsonl");
  ASSERT_EQ(straight.size(), pairs.size());
  ASSERT_EQ(across.size(), pairs.size());

  serve::ServeOptions options;
  options.port = 0;
  options.max_length = kMaxLength;
  options.max_batch_tokens = 4096;
  serve::RewardServer server(options, loaded.config, loaded.tokenizer,
                             serve::model_scorer(*loaded.model, std::nullopt, at::Device(at::kCPU)),
                             "tiny");
  constexpr size_t kClients = 8;
  std::vector<std::vector<float>> rewards(bodies.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      serve::HttpClient client("127.0.0.1", server.port());
      for (size_t k = c; k < bodies.size(); k += kClients) {
        rewards[k] = rewards_of(client.request("POST", "/score", bodies[k]));
      }
    });
  }
  for (std::thread& t : clients) t.join();
  int differing = 0;
  for (size_t k = 0; k < bodies.size(); ++k) {
    ASSERT_EQ(rewards[k].size(), 3u) << k;
    EXPECT_NEAR(rewards[k][0], straight[k].chosen, 1e-5) << k;
    EXPECT_NEAR(rewards[k][1], straight[k].rejected, 1e-5) << k;
    EXPECT_NEAR(rewards[k][2], across[k].chosen, 1e-5) << k;
    EXPECT_NEAR(rewards[k][0], across[k].rejected, 1e-5) << k;
    differing += std::abs(rewards[k][0] - rewards[k][1]) > 1e-3;
  }
  EXPECT_GT(differing, 0) << "a trained model gives responses different rewards";
  EXPECT_EQ(server.stats().requests, static_cast<int64_t>(bodies.size()));
}

// The query OpenRLHF's trainer builds for a rollout of a policy with a ChatML chat template
// (Qwen's): the prompt rendered with the generation header, the response the policy wrote,
// then its end-of-turn token, all decoded with special tokens kept.
std::string openrlhf_prompt(const omnirm::data::Example& example) {
  std::string prompt;
  if (!example.criteria.empty()) {
    prompt += "<|im_start|>system\n" + example.criteria + "<|im_end|>\n";
  }
  for (const omnirm::data::Turn& turn : example.prompt) {
    prompt +=
        "<|im_start|>" + turn.role + "\n" + omnirm::data::text_of(turn.content) + "<|im_end|>\n";
  }
  return prompt + "<|im_start|>assistant\n";
}

// json.dumps of Python (what aiohttp's `json=` sends): ", " and ": " separators.
std::string python_json(const std::vector<std::string>& query,
                        const std::vector<std::string>& prompts) {
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + json(items[i]).dump();
    return out + "]";
  };
  return "{\"query\": " + list(query) + ", \"prompts\": " + list(prompts) +
         ", \"labels\": " + list(std::vector<std::string>(query.size(), "")) + "}";
}

TEST_F(Serve, AnOpenrlhfRequestGetsTheRewardsOfScore) {
  using namespace omnirm;
  const std::vector<data::Example> pairs =
      data::read_pairs_jsonl(eval_path(), data::OnBadRecord::error).examples;
  infer::LoadedModel loaded = infer::load_model_dir(run());
  serve::ServeOptions options;
  options.port = 0;
  options.max_length = kMaxLength;
  options.max_batch_tokens = 4096;
  serve::RewardServer server(options, loaded.config, loaded.tokenizer,
                             serve::model_scorer(*loaded.model, std::nullopt, at::Device(at::kCPU)),
                             "tiny");
  // Eight rollouts: two responses for each of four prompts, the way a GRPO step sends them;
  // the second ends with padding after its end-of-turn token.
  std::vector<std::string> query, prompts;
  std::vector<std::string> expected_bodies;
  for (size_t k = 0; k < 4; ++k) {
    const data::Example& pair = pairs[k];
    for (const auto* response : {&pair.chosen, &pair.rejected}) {
      const std::string prompt = openrlhf_prompt(pair);
      std::string rollout = prompt + data::text_of(*response) + "<|im_end|>";
      if (response == &pair.rejected) rollout += "\n<|endoftext|><|endoftext|>";
      query.push_back(rollout);
      prompts.push_back(prompt);
      expected_bodies.push_back(request_of(pair, {data::text_of(*response)}));
    }
  }
  // Exactly what OpenRLHF's remote RM client posts to --remote_rm_url.
  const std::string raw =
      "POST /get_reward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nAccept: */*\r\n"
      "Content-Length: " +
      std::to_string(python_json(query, prompts).size()) + "\r\n\r\n" + python_json(query, prompts);
  const serve::HttpReply reply = serve::HttpClient("127.0.0.1", server.port()).send_raw(raw);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json answer = json::parse(reply.body);
  const std::vector<float> rewards = answer.at("rewards").get<std::vector<float>>();
  EXPECT_EQ(answer.at("scores").get<std::vector<float>>(), rewards);  // OpenRLHF reads either
  EXPECT_TRUE(answer.at("extra_logs").is_object());
  ASSERT_EQ(rewards.size(), query.size());
  serve::HttpClient client("127.0.0.1", server.port());
  for (size_t i = 0; i < query.size(); ++i) {
    const std::vector<float> direct =
        rewards_of(client.request("POST", "/score", expected_bodies[i]));
    ASSERT_EQ(direct.size(), 1u);
    EXPECT_NEAR(rewards[i], direct[0], 1e-5) << i;
  }
  int differing = 0;
  for (size_t i = 0; i + 1 < rewards.size(); i += 2)
    differing += std::abs(rewards[i] - rewards[i + 1]) > 1e-4;
  EXPECT_GT(differing, 0) << "a trained model tells responses apart";
}

// Starts `omnirm serve` with stderr into `log`; returns its pid.
pid_t spawn_server(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> all = {omnirm_binary()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// The port in "listening on http://127.0.0.1:PORT", waiting up to a minute for it.
int wait_for_port(const std::string& log) {
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 600; ++i) {
    std::smatch match;
    const std::string text = fs::exists(log) ? read_file(log) : "";
    if (std::regex_search(text, match, listening)) return std::stoi(match[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

// The exit status of `pid`, waiting up to 30 s; -1 when it is still running.
int wait_for_exit(pid_t pid) {
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

TEST_F(Serve, BinaryAnswersOnLoopbackAndStopsOnSigterm) {
  const std::string log = *dir_ + "/serve.log";
  const pid_t pid = spawn_server({"serve", "-m", run(), "--port", "0", "--threads", "1"}, log);
  ASSERT_GT(pid, 0);
  const int port = wait_for_port(log);
  if (port < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    FAIL() << "no listening line:\n" << read_file(log);
  }
  omnirm::serve::HttpClient client("127.0.0.1", port);
  EXPECT_EQ(client.request("GET", "/health").status, 200);
  const omnirm::serve::HttpReply bad = client.request("POST", "/score", "{\"prompt\": \"x\"}");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("responses: missing"), std::string::npos) << bad.body;
  const std::vector<float> rewards = rewards_of(
      client.request("POST", "/score",
                     R"({"prompt": "Tell me about tea.", "responses": ["Tea is good.", "no"]})"));
  EXPECT_EQ(rewards.size(), 2u);
  client.close();

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const int code = wait_for_exit(pid);
  if (code < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  const std::string text = read_file(log);
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find("SIGTERM received"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped after 1 requests"), std::string::npos) << text;
}

TEST_F(Serve, BadFlagsAreOneLineErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--max-batch-tokens 10", "--max-batch-tokens 10 is below the max length"},
      {"--port 70000", "--port must be 0"},
      {"--max-queue 0", "--max-queue must be at least 1"},
      {"--device tpu", "--device 'tpu'"},
  };
  for (const auto& [flags, expected] : cases) {
    const CommandResult r = run_command(omnirm_binary() + " serve -m " + run() + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << flags << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

TEST_F(Serve, BenchServePrintsThroughputLatencyAndTheBatchingRatio) {
  const CommandResult r =
      run_command(omnirm_binary() + " bench serve -m " + run() +
                  " --concurrency 4 --requests 40 --max-length " + std::to_string(kMaxLength));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 responses per request"), std::string::npos) << r.output;
  const std::regex row(
      R"(text\s+(on|off)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+))");
  int rows = 0;
  for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), row);
       it != std::sregex_iterator(); ++it) {
    ++rows;
    EXPECT_EQ(std::stoi((*it)[2]), 40) << r.output;
    const double rps = std::stod((*it)[3]), p50 = std::stod((*it)[4]), p99 = std::stod((*it)[5]);
    EXPECT_GT(rps, 0.0) << r.output;
    EXPECT_GT(p50, 0.0) << r.output;
    EXPECT_GE(p99, p50) << r.output;
    if ((*it)[1] == "off") {
      EXPECT_DOUBLE_EQ(std::stod((*it)[6]), 1.0) << r.output;
    }
  }
  EXPECT_EQ(rows, 2) << r.output;
  std::smatch ratio;
  ASSERT_TRUE(std::regex_search(
      r.output, ratio,
      std::regex(R"(text: batching on vs off ([0-9.]+)x requests/s.*32 distinct requests.*largest )"
                 R"(reward difference ([0-9.e+-]+))")))
      << r.output;
  EXPECT_GT(std::stod(ratio[1]), 0.0);
  EXPECT_LT(std::stod(ratio[2]), 1e-5) << r.output;
}

}  // namespace
