// The reward server on the MiniCPM-o path (the parity fixture's checkpoint,
// tests/fixtures/minicpmo/, loaded as --init-from reads it): a request renders with the minicpm_o
// template and MiniCPM-o's media layout from the decoded files, and decodes its media as training
// does (image slices, video frames, audio chunks), so every record of the fixture sent as a request
// — text, images, audio and video, in the prompt or in the responses — gets the rewards the
// reference computed for its two sequences (1e-4, fp32), by path under --media-root and inline
// alike; a part the model has no encoder for gets a 400 naming its field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/serve/base64.h"
#include "omnirm/serve/http_client.h"
#include "omnirm/serve/reward_server.h"
#include "support/test_support.h"

namespace {

using nlohmann::json;
using omnirm::testing::read_file;
using omnirm::testing::source_dir;

std::string fixture_dir() { return source_dir() + "/tests/fixtures/minicpmo"; }

// The fixture's records by id, and the reference's rewards of their two sequences.
struct Fixture {
  std::map<std::string, json> records;
  json cases;
};

const Fixture& fixture() {
  static const Fixture* loaded = [] {
    auto* f = new Fixture;
    std::ifstream pairs(fixture_dir() + "/pairs.jsonl");
    for (std::string line; std::getline(pairs, line);) {
      json record = json::parse(line);
      f->records[record["id"].get<std::string>()] = record;
    }
    std::ifstream reference(fixture_dir() + "/reference.json");
    f->cases = json::parse(reference)["cases"];
    return f;
  }();
  return *loaded;
}

// Content parts of a record as request parts: media by path (relative to the fixture, the
// server's media root) or inline as base64.
json request_parts(const json& content, bool inline_media) {
  json parts = json::array();
  for (const json& part : content) {
    if (part["type"] == "text") {
      parts.push_back(part);
    } else if (inline_media) {
      parts.push_back({{"type", part["type"]},
                       {"data", omnirm::serve::encode_base64(read_file(
                                    fixture_dir() + "/" + part["path"].get<std::string>()))}});
    } else {
      parts.push_back({{"type", part["type"]}, {"path", part["path"]}});
    }
  }
  return parts;
}

json request_of(const json& record, bool inline_media) {
  json prompt = json::array();
  for (const json& turn : record["prompt"]) {
    prompt.push_back(
        {{"role", turn["role"]}, {"content", request_parts(turn["content"], inline_media)}});
  }
  json body = {{"prompt", prompt},
               {"responses",
                {request_parts(record["chosen"]["content"], inline_media),
                 request_parts(record["rejected"]["content"], inline_media)}}};
  if (!record["criteria"].get<std::string>().empty()) body["criteria"] = record["criteria"];
  return body;
}

class ServeMinicpmo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!omnirm::infer::media_decoding_available()) return;
    // The reference's checkpoint, as `--init-from` reads a MiniCPM-o directory.
    omnirm::Config config;
    config.model = omnirm::io::load_hf_model_config(fixture_dir() + "/config.json");
    config.data.tokenizer = fixture_dir() + "/tokenizer.json";
    config.data.video_max_pixels = 56 * 56;  // the frame cap the reference ran with
    loaded_ = new omnirm::infer::LoadedModel{
        fixture_dir(), config, omnirm::text::Tokenizer::load(config.data.tokenizer), nullptr};
    loaded_->model = omnirm::model::RewardModel(config.model, config.model.vocab_size);
    const auto report = omnirm::model::load_hf_weights(
        *loaded_->model, omnirm::io::load_hf_checkpoint(fixture_dir() + "/"));
    ASSERT_TRUE(report.missing.empty() && report.unexpected.empty()) << report.summary();
    loaded_->model->eval();
    omnirm::serve::ServeOptions options;
    options.port = 0;
    options.max_length = 4096;
    options.media_root = fixture_dir();
    server_ = new omnirm::serve::RewardServer(
        options, loaded_->config, loaded_->tokenizer,
        omnirm::serve::model_scorer(
            *loaded_->model, omnirm::infer::media_layout_for(loaded_->config, loaded_->tokenizer),
            at::Device(at::kCPU)),
        "minicpmo");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete loaded_;
  }
  void SetUp() override {
    if (!omnirm::infer::media_decoding_available()) {
      GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
    }
    ASSERT_NE(server_, nullptr) << "the fixture's checkpoint did not load";
    ASSERT_EQ(loaded_->config.model.arch, "minicpmo");
  }
  static omnirm::serve::HttpReply post(const json& body) {
    return omnirm::serve::HttpClient("127.0.0.1", server_->port())
        .request("POST", "/score", body.dump());
  }

  static omnirm::infer::LoadedModel* loaded_;
  static omnirm::serve::RewardServer* server_;
};
omnirm::infer::LoadedModel* ServeMinicpmo::loaded_ = nullptr;
omnirm::serve::RewardServer* ServeMinicpmo::server_ = nullptr;

TEST_F(ServeMinicpmo, EveryFixtureRecordGetsTheReferencesRewards) {
  double worst = 0.0;
  int requests = 0;
  for (const auto& [id, record] : fixture().records) {
    for (const bool inline_media : {false, true}) {
      SCOPED_TRACE(id + (inline_media ? " (inline)" : " (by path)"));
      const omnirm::serve::HttpReply reply = post(request_of(record, inline_media));
      ASSERT_EQ(reply.status, 200) << reply.body;
      const auto rewards = json::parse(reply.body).at("rewards").get<std::vector<double>>();
      ASSERT_EQ(rewards.size(), 2u);
      const json& sides = fixture().cases.at(id);
      for (size_t i = 0; i < 2; ++i) {
        const double expected = sides[i == 0 ? "chosen" : "rejected"]["reward"].get<double>();
        EXPECT_NEAR(rewards[i], expected, 1e-4) << (i == 0 ? "chosen" : "rejected");
        worst = std::max(worst, std::abs(rewards[i] - expected));
      }
      ++requests;
    }
  }
  std::printf("[minicpmo] serve: %d requests, rewards max |diff| %.3g against the reference\n",
              requests, worst);
  EXPECT_EQ(requests, 2 * static_cast<int>(fixture().cases.size()));
}

TEST_F(ServeMinicpmo, APartTheModelHasNoEncoderForIsRefusedNamingItsField) {
  json body = request_of(fixture().records.at("t2t_criteria"), false);
  body["responses"][1] = json::array({{{"type", "mesh"}, {"path", "media/t2v_b.mkv"}}});
  const omnirm::serve::HttpReply reply = post(body);
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("responses[1][0]"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("mesh"), std::string::npos) << reply.body;
}

}  // namespace
