// End-to-end tests of the omnirm binary on a small synthetic set: kill -9 and resume is
// bit-identical, a kill inside a checkpoint write loses nothing, config and data errors name
// their key or file:line, and eval / score / export produce what they promise.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

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

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("cli"));
    const std::string failure = make_tiny_run_dir(*dir_, TinyRun{});
    ASSERT_EQ(failure, "");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // `omnirm train` on the tiny config, into output dir `name`, with extra arguments.
  static CommandResult train(const std::string& name, const std::string& extra,
                             const std::string& env = "") {
    return run_command(env + " " + omnirm_binary() + " train -c " + *dir_ +
                       "/tiny.yaml --set train.output_dir=" + out(name) + " " + extra);
  }
  static std::string out(const std::string& name) { return *dir_ + "/runs/" + name; }
  static std::string final_weights(const std::string& name) {
    return read_file(out(name) + "/checkpoints/step-00000008/model.safetensors");
  }

  static std::string* dir_;
};
std::string* Cli::dir_ = nullptr;

bool was_killed(const CommandResult& r) { return r.signal == 9 || r.exit_code == 137; }

TEST_F(Cli, KillAndResumeIsBitIdentical) {
  CommandResult straight = train("straight", "");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("accuracy"), std::string::npos) << straight.output;

  CommandResult killed = train("killed", "", "OMNIRM_FAULT_KILL_AT_STEP=6");
  ASSERT_TRUE(was_killed(killed)) << killed.exit_code << killed.output;
  EXPECT_FALSE(fs::exists(out("killed") + "/checkpoints/step-00000008"));
  CommandResult resumed = train("killed", "--resume auto");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  EXPECT_EQ(final_weights("straight"), final_weights("killed"));
}

// A mix of two datasets (one seen twice per epoch) streamed by the loader's worker
// threads; 96 + 2 x 32 = 160 plan entries make 20 steps an epoch, so 24 steps cross into the
// second epoch, and the kill at step 22 lands just after it.
TEST_F(Cli, KillAndResumeAcrossAnEpochOfAMixIsBitIdentical) {
  const std::string mix = " --set train.max_steps=24 --set train.save_every=10 --set data.mix='" +
                          *dir_ + "/data/eval.jsonl weight=2'";
  CommandResult straight = train("mix-straight", mix);
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("eval.jsonl: 32 usable pairs, 64 per epoch"), std::string::npos)
      << straight.output;
  CommandResult killed = train("mix-killed", mix, "OMNIRM_FAULT_KILL_AT_STEP=22");
  ASSERT_TRUE(was_killed(killed)) << killed.exit_code << killed.output;
  const std::string state =
      read_file(out("mix-killed") + "/checkpoints/step-00000020/trainer_state.json");
  EXPECT_NE(state.find("\"data_position\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"epoch\": 1"), std::string::npos) << state;
  CommandResult resumed = train("mix-killed", mix + " --resume auto");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  const std::string last = "/checkpoints/step-00000024/model.safetensors";
  EXPECT_EQ(read_file(out("mix-straight") + last), read_file(out("mix-killed") + last));
  // Another mix cannot continue from this position.
  CommandResult other = train("mix-killed", " --set train.max_steps=30 --resume auto");
  EXPECT_EQ(other.exit_code, 2) << other.output;
}

TEST_F(Cli, KillDuringCheckpointWriteKeepsThePreviousOne) {
  CommandResult killed = train("mid-save", "", "OMNIRM_FAULT_KILL_IN_CHECKPOINT=8");
  ASSERT_TRUE(was_killed(killed)) << killed.output;
  // Step 8's checkpoint was never renamed into place; step 4's is complete.
  EXPECT_FALSE(fs::exists(out("mid-save") + "/checkpoints/step-00000008"));
  EXPECT_TRUE(fs::exists(out("mid-save") + "/checkpoints/step-00000004/trainer_state.json"));
  CommandResult resumed = train("mid-save", "--resume auto");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  CommandResult straight = train("straight-2", "");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_EQ(final_weights("straight-2"), final_weights("mid-save"));
  for (const auto& entry : fs::directory_iterator(out("mid-save") + "/checkpoints")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
        << "stale temporary directory left: " << entry.path();
  }
}

TEST_F(Cli, RefusesToOverwriteARunWithoutResume) {
  ASSERT_EQ(train("twice", "--set train.max_steps=4").exit_code, 0);
  CommandResult again = train("twice", "--set train.max_steps=4");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("--resume auto"), std::string::npos) << again.output;
}

TEST_F(Cli, ConfigErrorsNameTheKey) {
  CommandResult typo = train("typo", "--set train.lrr=0.1");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.output.find("train.lrr"), std::string::npos) << typo.output;
  EXPECT_NE(typo.output.find("'train.lr'"), std::string::npos) << typo.output;
  CommandResult type = train("type", "--set train.max_steps=many");
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.output.find("expected an integer"), std::string::npos) << type.output;
}

TEST_F(Cli, MalformedRecordIsReportedOrSkipped) {
  const std::string good = read_file(*dir_ + "/data/train.jsonl");
  const std::string first_line = good.substr(0, good.find('\n') + 1);
  const std::string rest = good.substr(first_line.size());
  const std::string bad_file = *dir_ + "/bad.jsonl";
  write_file(bad_file, first_line + "{\"id\": \"broken\", \"prompt\": \n" + rest);
  CommandResult stop = train("bad-stop", "--set data.train=" + bad_file);
  EXPECT_EQ(stop.exit_code, 2);
  EXPECT_NE(stop.output.find(bad_file + ":2:"), std::string::npos) << stop.output;

  CommandResult skip =
      train("bad-skip", "--set data.train=" + bad_file +
                            " --set data.on_bad_record=skip --set train.max_steps=2");
  EXPECT_EQ(skip.exit_code, 0) << skip.output;
  EXPECT_NE(skip.output.find("1 bad records skipped"), std::string::npos) << skip.output;
}

TEST_F(Cli, EvalScoreAndExport) {
  ASSERT_EQ(train("served", "--set train.max_steps=4").exit_code, 0);
  CommandResult eval = run_command(omnirm_binary() + " eval -m " + out("served") + " --json " +
                                   *dir_ + "/eval.json");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(read_file(*dir_ + "/eval.json").find("\"accuracy\""), std::string::npos);

  // The naive layout scores the same pairs identically up to float rounding.
  CommandResult naive = run_command(omnirm_binary() + " eval -m " + out("served") +
                                    " --no-prefix-sharing --json " + *dir_ + "/eval-naive.json");
  ASSERT_EQ(naive.exit_code, 0) << naive.output;
  auto accuracy_of = [](const std::string& json) {
    std::smatch m;
    std::regex_search(json, m, std::regex("\"accuracy\": ([0-9.e-]+)"));
    return std::stod(m[1]);
  };
  EXPECT_DOUBLE_EQ(accuracy_of(read_file(*dir_ + "/eval.json")),
                   accuracy_of(read_file(*dir_ + "/eval-naive.json")));

  CommandResult score = run_command(omnirm_binary() + " score -m " + out("served") + " -i " +
                                    *dir_ + "/data/eval.jsonl -o " + *dir_ + "/scores.jsonl");
  ASSERT_EQ(score.exit_code, 0) << score.output;
  const std::string scores = read_file(*dir_ + "/scores.jsonl");
  EXPECT_EQ(std::count(scores.begin(), scores.end(), '\n'), 32);
  EXPECT_NE(scores.find("reward_chosen"), std::string::npos);

  CommandResult exported =
      run_command(omnirm_binary() + " export -m " + out("served") + " -o " + *dir_ + "/export");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  for (const char* file : {"model.safetensors", "value_head.safetensors", "config.json",
                           "tokenizer.model", "tokenizer_config.json"}) {
    EXPECT_TRUE(fs::exists(*dir_ + "/export/" + file)) << file;
  }
  EXPECT_NE(read_file(*dir_ + "/export/config.json").find("\"num_labels\": 1"), std::string::npos);
}

TEST_F(Cli, EvalReportsAgreeWithThePerPairScores) {
  ASSERT_EQ(train("reported", "--set train.max_steps=4").exit_code, 0);
  // Every third eval record becomes a tie.
  const std::string eval_text = read_file(*dir_ + "/data/eval.jsonl");
  std::string with_ties;
  size_t line = 0, start = 0;
  for (size_t end; (end = eval_text.find('\n', start)) != std::string::npos;
       start = end + 1, ++line) {
    std::string record = eval_text.substr(start, end - start);
    if (line % 3 == 0) {
      record = std::regex_replace(record, std::regex("\"preference\":\"chosen\""),
                                  "\"preference\":\"tie\"");
    }
    with_ties += record + "\n";
  }
  write_file(*dir_ + "/eval-ties.jsonl", with_ties);
  const std::string out_dir = *dir_ + "/report";
  CommandResult eval = run_command(omnirm_binary() + " eval -m " + out("reported") + " -d " +
                                   *dir_ + "/eval-ties.jsonl --paper-reference --out " + out_dir);
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  for (const char* file : {"scores.jsonl", "report.json", "report.md", "accuracy.png"}) {
    EXPECT_TRUE(fs::exists(out_dir + "/" + file)) << file;
  }
  // Recompute w/o-ties accuracy and the tie count from scores.jsonl.
  const std::string scores = read_file(out_dir + "/scores.jsonl");
  int non_ties = 0, right = 0, ties = 0;
  std::smatch m;
  const std::regex gold_and_margin(
      "\"gold\":(-?[0-9]+),.*?\"margin\":([-0-9.e+]+)|\"margin\":([-0-9.e+]+).*?\"gold\":(-?[0-9]+"
      ")");
  for (auto it = std::sregex_iterator(scores.begin(), scores.end(), gold_and_margin);
       it != std::sregex_iterator(); ++it) {
    const std::string gold = (*it)[1].matched ? (*it)[1].str() : (*it)[4].str();
    const double margin = std::stod((*it)[2].matched ? (*it)[2].str() : (*it)[3].str());
    if (gold == "0") {
      ++ties;
    } else {
      ++non_ties;
      right += margin > 0;
    }
  }
  EXPECT_EQ(ties + non_ties, 32);
  EXPECT_EQ(ties, 11);
  const std::string report = read_file(out_dir + "/report.json");
  ASSERT_TRUE(std::regex_search(report, m, std::regex("\"without_ties\": ([0-9.e-]+)")));
  EXPECT_NEAR(std::stod(m[1]), double(right) / non_ties, 1e-12);
  EXPECT_NE(read_file(out_dir + "/report.md").find("paper BT w/ Ties"), std::string::npos);
  EXPECT_NE(eval.output.find("w/ ties"), std::string::npos) << eval.output;
}

TEST_F(Cli, EverySubcommandHasHelp) {
  for (const char* command : {"train", "eval", "score", "export", "data synth", "data validate",
                              "tokenizer train", "bench train", "plot"}) {
    CommandResult help = run_command(omnirm_binary() + " " + command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command << help.output;
    EXPECT_NE(help.output.find("Options"), std::string::npos) << command << help.output;
  }
  CommandResult unknown = run_command(omnirm_binary() + " frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
}

}  // namespace
