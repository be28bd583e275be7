// The reward server with media, end to end on a trained tiny omni model (vision and audio
// towers): a best-of-8 request whose prompt holds an image encodes the image once (the
// vision tower's count) and gets, for every response, the reward `omnirm score` writes for the
// same prompt and response in a pair (1e-5), by path under --media-root and inline as base64
// alike; a path leaving the root, a link out of it, base64 that does not decode, media over
// the size limit or the decode limits and a file of the wrong kind each get their 4xx naming
// the field, and the server answers on; `omnirm bench serve` measures text and image-prompt
// requests, batching on and off, in one run.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "omnirm/data/jsonl_reader.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/serve/base64.h"
#include "omnirm/serve/http_client.h"
#include "omnirm/serve/reward_server.h"
#include "support/omni_run.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using omnirm::testing::CommandResult;
using omnirm::testing::make_omni_run_dir;
using omnirm::testing::make_temp_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::OmniRun;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::write_file;

class ServeMedia : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("serve-media"));
    OmniRun run;
    run.tasks = "t2t,ti2t,ta2t";
    run.train_pairs = 8;
    run.eval_pairs = 8;
    run.seed = 11;
    run.point_tower = false;
    run.threads = 2;
    run.output_dir = *dir_ + "/run";
    ASSERT_EQ(make_omni_run_dir(*dir_, run), "");
    const CommandResult train = run_command(omnirm_binary() + " train -c " + *dir_ + "/omni.yaml");
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string data_dir() { return *dir_ + "/data"; }
  static std::vector<omnirm::data::Example> eval_pairs(const std::string& task) {
    std::vector<omnirm::data::Example> found;
    for (omnirm::data::Example& example :
         omnirm::data::read_pairs_jsonl(data_dir() + "/eval.jsonl",
                                        omnirm::data::OnBadRecord::error)
             .examples) {
      if (example.task == task) found.push_back(std::move(example));
    }
    return found;
  }

  static std::string* dir_;
};
std::string* ServeMedia::dir_ = nullptr;

// A server on the trained model; the model is loaded once per test.
struct Server {
  explicit Server(const std::string& run, const std::string& media_root, int64_t max_media_bytes)
      : loaded(omnirm::infer::load_model_dir(run)) {
    omnirm::serve::ServeOptions options;
    options.port = 0;
    options.max_length = loaded.config.data.max_length;
    options.media_root = media_root;
    options.max_media_bytes = max_media_bytes;
    server = std::make_unique<omnirm::serve::RewardServer>(
        options, loaded.config, loaded.tokenizer,
        omnirm::serve::model_scorer(
            *loaded.model, omnirm::infer::media_layout_for(loaded.config, loaded.tokenizer),
            at::Device(at::kCPU)),
        "omni");
  }
  omnirm::serve::HttpReply post(const std::string& body, const std::string& path = "/score") {
    return omnirm::serve::HttpClient("127.0.0.1", server->port()).request("POST", path, body);
  }
  int64_t encoded_items() { return loaded.model->media_encoder().encoded_items(); }

  omnirm::infer::LoadedModel loaded;
  std::unique_ptr<omnirm::serve::RewardServer> server;
};

json text_part(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

// The prompt of a ti2t pair as request turns, its image by path or inline.
json prompt_of(const omnirm::data::Example& example, const std::string& root, bool inline_media) {
  json turns = json::array();
  for (const omnirm::data::Turn& turn : example.prompt) {
    json content = json::array();
    for (const omnirm::data::ContentPart& part : turn.content) {
      if (part.type == "text") {
        content.push_back(text_part(part.text));
      } else if (inline_media) {
        content.push_back(
            {{"type", part.type},
             {"data", omnirm::serve::encode_base64(read_file(root + "/" + part.path))}});
      } else {
        content.push_back({{"type", part.type}, {"path", part.path}});
      }
    }
    turns.push_back({{"role", turn.role}, {"content", content}});
  }
  return turns;
}

std::vector<float> rewards_of(const omnirm::serve::HttpReply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.body;
  if (reply.status != 200) return {};
  return json::parse(reply.body).at("rewards").get<std::vector<float>>();
}

TEST_F(ServeMedia, BestOfEightWithAnImagePromptEncodesItOnceAndMatchesScore) {
  const std::vector<omnirm::data::Example> ti2t = eval_pairs("ti2t");
  ASSERT_GE(ti2t.size(), 4u);
  const omnirm::data::Example& asked = ti2t.front();
  // Eight text responses: the chosen and rejected answers of four ti2t pairs.
  std::vector<std::vector<omnirm::data::ContentPart>> responses;
  for (size_t k = 0; k < 4; ++k) {
    responses.push_back(ti2t[k].chosen);
    responses.push_back(ti2t[k].rejected);
  }
  // `omnirm score` on pairs (prompt, response i, response i+1).
  std::string pairs;
  for (size_t i = 0; i < responses.size(); ++i) {
    omnirm::data::Example pair = asked;
    pair.id = "best-of-8-" + std::to_string(i);
    pair.chosen = responses[i];
    pair.rejected = responses[(i + 1) % responses.size()];
    pairs += omnirm::data::to_json_line(pair) + "\n";
  }
  write_file(data_dir() + "/best_of_8.jsonl", pairs);
  const CommandResult scored =
      run_command(omnirm_binary() + " score -m " + *dir_ + "/run -i " + data_dir() +
                  "/best_of_8.jsonl -o " + *dir_ + "/best_of_8_scores.jsonl");
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  std::vector<json> lines;
  std::istringstream in(read_file(*dir_ + "/best_of_8_scores.jsonl"));
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), responses.size());

  Server server(*dir_ + "/run", data_dir(), 16 << 20);
  for (const bool inline_media : {false, true}) {
    json body = {{"prompt", prompt_of(asked, data_dir(), inline_media)},
                 {"responses", json::array()}};
    if (!asked.criteria.empty()) body["criteria"] = asked.criteria;
    for (const auto& parts : responses) {
      body["responses"].push_back(omnirm::data::text_of(parts));
    }
    const int64_t before = server.encoded_items();
    const std::vector<float> rewards = rewards_of(server.post(body.dump()));
    ASSERT_EQ(rewards.size(), responses.size());
    EXPECT_EQ(server.encoded_items() - before, 1) << "the prompt's image, encoded once";
    for (size_t i = 0; i < responses.size(); ++i) {
      EXPECT_NEAR(rewards[i], lines[i]["reward_chosen"].get<double>(), 1e-5) << i;
      EXPECT_NEAR(rewards[(i + 1) % responses.size()], lines[i]["reward_rejected"].get<double>(),
                  1e-5)
          << i;
    }
  }
}

// A PNG of `width` x `height` that declares its size in a valid header but holds no image.
std::string png_declaring(uint32_t width, uint32_t height) {
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\x00\x00\x00\x0dIHDR", 8);
  for (const uint32_t value : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((value >> shift) & 0xff);
  }
  png += std::string("\x08\x02\x00\x00\x00", 5);
  png += std::string(4, '\0');  // CRC (not checked before the size is)
  return png;
}

TEST_F(ServeMedia, BadMediaGetTheirStatusNamingTheFieldAndTheServerGoesOn) {
  const std::vector<omnirm::data::Example> ti2t = eval_pairs("ti2t");
  ASSERT_FALSE(ti2t.empty());
  std::string image;
  for (const auto& part : ti2t.front().prompt.front().content) {
    if (part.type == "image") image = part.path;
  }
  ASSERT_FALSE(image.empty());
  std::string audio;
  for (const auto& example : eval_pairs("ta2t")) {
    for (const auto& part : example.prompt.front().content) {
      if (part.type == "audio") audio = part.path;
    }
  }
  ASSERT_FALSE(audio.empty());
  fs::create_symlink("/etc/hostname", data_dir() + "/outside.png");
  write_file(data_dir() + "/huge.png", png_declaring(100000, 100000));

  Server server(*dir_ + "/run", data_dir(), 64 << 10);
  auto request_with = [](const json& part) {
    return json{
        {"prompt",
         json::array({{{"role", "user"}, {"content", json::array({part, text_part("what?")})}}})},
        {"responses", {"a", "b"}}}
        .dump();
  };
  struct Case {
    json part;
    int status;
    std::string expected;  // the error message starts with it
  };
  const std::vector<Case> cases = {
      {{{"type", "image"}, {"path", "../" + fs::path(*dir_).filename().string() + "/omni.yaml"}},
       400,
       "prompt[0].content[0].path: path '../"},
      {{{"type", "image"}, {"path", "/etc/hostname"}},
       400,
       "prompt[0].content[0].path: absolute path '/etc/hostname' is not allowed"},
      {{{"type", "image"}, {"path", "outside.png"}},
       400,
       "prompt[0].content[0].path: 'outside.png' resolves outside --media-root"},
      {{{"type", "image"}, {"path", "no/such.png"}},
       400,
       "prompt[0].content[0].path: 'no/such.png' not found under --media-root"},
      {{{"type", "image"}, {"data", "iVBORw0KGgo*"}},
       400,
       "prompt[0].content[0].data: not valid base64 (at character 11)"},
      {{{"type", "image"}, {"data", omnirm::serve::encode_base64(std::string(100 << 10, 'x'))}},
       413,
       "prompt[0].content[0].data: about"},
      {{{"type", "image"}, {"path", "huge.png"}}, 400, "prompt[0].content[0]: image 'huge.png': "},
      {{{"type", "image"}, {"data", omnirm::serve::encode_base64(png_declaring(100000, 100000))}},
       400,
       "prompt[0].content[0]: image: "},
      {{{"type", "image"}, {"path", audio}}, 400, "prompt[0].content[0]: image '" + audio + "': "},
      {{{"type", "mesh"}, {"path", image}},
       400,
       "prompt[0].content[0].type: this model has no adapter for mesh media (model.point_layers"},
  };
  for (const Case& c : cases) {
    const omnirm::serve::HttpReply reply = server.post(request_with(c.part));
    EXPECT_EQ(reply.status, c.status) << c.part.dump().substr(0, 200) << "\n" << reply.body;
    const std::string message = json::parse(reply.body).value("error", std::string());
    EXPECT_EQ(message.rfind(c.expected, 0), 0u)
        << c.part.dump().substr(0, 200) << "\n  gave: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    // Still answering, media and all.
    EXPECT_EQ(rewards_of(server.post(request_with({{"type", "image"}, {"path", image}}))).size(),
              2u);
  }
  // The huge image was refused before it was decoded: the message says what is over the limit.
  const omnirm::serve::HttpReply huge =
      server.post(request_with({{"type", "image"}, {"path", "huge.png"}}));
  EXPECT_NE(huge.body.find("100000"), std::string::npos) << huge.body;
}

TEST_F(ServeMedia, BenchServeMeasuresTextAndImagePromptsInOneRun) {
  const CommandResult r = run_command(omnirm_binary() + " bench serve -m " + *dir_ +
                                      "/run --concurrency 4 --requests 16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::regex row(
      R"((text|image prompt)\s+(on|off)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+))");
  std::map<std::string, int> rows;
  for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), row);
       it != std::sregex_iterator(); ++it) {
    ++rows[(*it)[1]];
    EXPECT_EQ(std::stoi((*it)[3]), 16) << r.output;
    const double p50 = std::stod((*it)[5]), p99 = std::stod((*it)[6]);
    EXPECT_GT(std::stod((*it)[4]), 0.0) << r.output;
    EXPECT_GE(p99, p50) << r.output;
  }
  EXPECT_EQ(rows["text"], 2) << r.output;
  EXPECT_EQ(rows["image prompt"], 2) << r.output;
  EXPECT_NE(r.output.find("pairs with other media left out"), std::string::npos) << r.output;
  std::smatch difference;
  ASSERT_TRUE(std::regex_search(r.output, difference,
                                std::regex(R"(image prompt: batching on vs off .*largest reward )"
                                           R"(difference ([0-9.e+-]+))")))
      << r.output;
  EXPECT_LT(std::stod(difference[1]), 1e-5) << r.output;
}

}  // namespace
