// The ZeRO engine on real Gloo ranks (threads of this process, loopback): every stage gives
// the update of one process on the averaged gradient of both ranks' data, with fp32 and bf16
// parameters; stage 3 holds only its shard between passes; a rank without data for a
// micro-step still takes part; the bytes handed to collectives per step are those the stage
// promises (stage 2: an all-reduce's worth, stage 3: half as much again).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "omnirm/dist/communicator.h"
#include "omnirm/dist/launcher.h"
#include "omnirm/dist/zero_engine.h"
#include "omnirm/model/block_hook.h"

namespace {

using omnirm::dist::Communicator;
using omnirm::dist::ZeroEngine;

// Runs body(comm) on `world` ranks at once, one thread each; failures are reported after.
void on_ranks(int64_t world, const std::function<void(Communicator&)>& body) {
  const int64_t port = omnirm::dist::find_free_port();
  std::vector<std::string> errors(static_cast<size_t>(world));
  auto run_rank = [&](int64_t rank) {
    try {
      omnirm::dist::World w;
      w.rank = rank;
      w.local_rank = rank;
      w.size = world;
      w.local_size = world;
      w.master_addr = "127.0.0.1";
      w.master_port = port;
      omnirm::DistConfig config;
      config.timeout = 60.0;
      Communicator comm(w, config, at::Device(at::kCPU));
      body(comm);
    } catch (const std::exception& error) {
      errors[static_cast<size_t>(rank)] = error.what();
    }
  };
  std::vector<std::thread> others;
  for (int64_t r = 1; r < world; ++r) others.emplace_back(run_rank, r);
  run_rank(0);
  for (auto& t : others) t.join();
  for (int64_t r = 0; r < world; ++r) EXPECT_EQ(errors[size_t(r)], "") << "rank " << r;
}

// A two-block network: x [B, 3] → relu(x W0ᵀ + b0) [B, 4] → · W1ᵀ [B, 1] · scale.
struct Net {
  std::vector<std::string> names = {"scale", "layers.0.w", "layers.0.b", "layers.1.w"};
  std::vector<at::Tensor> params;
  explicit Net(at::ScalarType dtype) {
    at::manual_seed(11);
    params = {at::ones({1}), at::randn({4, 3}), at::randn({4}), at::randn({1, 4})};
    for (at::Tensor& p : params) p = p.to(dtype).requires_grad_(true);
  }
  Net(const Net& other, bool) {
    for (const at::Tensor& p : other.params) params.push_back(p.detach().clone().requires_grad_());
  }
  std::vector<omnirm::dist::ParamSpec> specs() const {
    std::vector<omnirm::dist::ParamSpec> out;
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string unit = i == 0 ? "root" : (i < 3 ? "layers.0" : "layers.1");
      out.push_back({names[i], params[i].sizes().vec(), params[i].scalar_type(), unit,
                     params[i].dim() >= 2, i > 0});
    }
    return out;
  }
};

class EngineHook : public omnirm::model::BlockHook {
 public:
  explicit EngineHook(ZeroEngine& engine) : engine_(engine) {}
  void forward_begin(int64_t b) override { engine_.block_forward_begin(unit(b)); }
  void forward_end(int64_t b) override { engine_.block_forward_end(unit(b)); }
  void backward_begin(int64_t b) override { engine_.block_backward_begin(unit(b)); }
  void backward_end(int64_t b) override { engine_.block_backward_end(unit(b)); }

 private:
  int64_t unit(int64_t b) const { return engine_.unit_index("layers." + std::to_string(b)); }
  ZeroEngine& engine_;
};

// The data of rank r, micro-step k, step s.
at::Tensor data_of(int64_t rank, int64_t micro, int64_t step) {
  return at::arange(6, at::kFloat).reshape({2, 3}) * (0.1 + 0.2 * double(rank)) +
         0.3 * double(micro) - 0.1 * double(step);
}

at::Tensor loss_of(const std::vector<at::Tensor>& p, const at::Tensor& x,
                   omnirm::model::BlockHook* hook) {
  const at::Tensor input = x.to(p[1].scalar_type());
  auto block0 = [&](const at::Tensor& h) { return at::relu(at::linear(h, p[1], p[2])); };
  auto block1 = [&](const at::Tensor& h) { return at::linear(h, p[3]); };
  at::Tensor h = hook ? omnirm::model::run_hooked_block(*hook, 0, input, block0) : block0(input);
  h = hook ? omnirm::model::run_hooked_block(*hook, 1, h, block1) : block1(h);
  return (h.to(at::kFloat) * p[0].to(at::kFloat)).pow(2).mean();
}

torch::optim::AdamWOptions adamw() { return torch::optim::AdamWOptions(0.05).weight_decay(0.1); }

constexpr int64_t kWorld = 2, kMicro = 2, kSteps = 2;

// One process on every rank's data: the reference weights (fp32).
std::vector<at::Tensor> reference_weights(const Net& start) {
  Net net(start, true);
  for (at::Tensor& p : net.params) p = p.detach().to(at::kFloat).requires_grad_();
  std::vector<at::Tensor> decay = {net.params[1], net.params[3]};
  std::vector<at::Tensor> no_decay = {net.params[0], net.params[2]};
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(adamw()));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(adamw().weight_decay(0.0)));
  torch::optim::AdamW optimizer(std::move(groups), adamw());
  for (int64_t s = 0; s < kSteps; ++s) {
    optimizer.zero_grad();
    for (int64_t r = 0; r < kWorld; ++r) {
      for (int64_t k = 0; k < kMicro; ++k) {
        (loss_of(net.params, data_of(r, k, s), nullptr) / double(kWorld)).backward();
      }
    }
    at::Tensor norm = at::stack({net.params[0].grad().norm(), net.params[1].grad().norm(),
                                 net.params[2].grad().norm(), net.params[3].grad().norm()})
                          .norm();
    const at::Tensor coefficient = at::clamp_max(1.0 / (norm + 1e-6), 1.0);
    for (at::Tensor& p : net.params) p.grad().mul_(coefficient);
    optimizer.step();
  }
  return net.params;
}

// The weights after kSteps steps at `stage` on kWorld ranks, as rank 0 sees them.
std::vector<at::Tensor> engine_weights(const Net& start, int64_t stage, at::ScalarType dtype,
                                       std::map<std::string, double>* traffic = nullptr,
                                       bool rank1_skips_a_micro_step = false) {
  std::vector<at::Tensor> result;
  on_ranks(kWorld, [&](Communicator& comm) {
    Net net(start, true);
    omnirm::dist::ZeroOptions options;
    options.stage = stage;
    ZeroEngine engine(&comm, net.params, net.specs(), options);
    EngineHook hook(engine);
    std::vector<at::Tensor> decay, no_decay;
    for (const auto& piece : engine.master_pieces()) {
      (piece.decay ? decay : no_decay).push_back(piece.master);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) {
      groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(adamw()));
    }
    if (!no_decay.empty()) {
      groups.emplace_back(no_decay,
                          std::make_unique<torch::optim::AdamWOptions>(adamw().weight_decay(0.0)));
    }
    torch::optim::AdamW optimizer(std::move(groups), adamw());
    comm.reset_traffic();
    for (int64_t s = 0; s < kSteps; ++s) {
      engine.zero_grad();
      for (int64_t k = 0; k < kMicro; ++k) {
        engine.before_forward(k == kMicro - 1);
        if (rank1_skips_a_micro_step && comm.rank() == 1 && k == 1) {
          engine.empty_micro_step();
        } else {
          loss_of(net.params, data_of(comm.rank(), k, s), &hook).backward();
        }
        engine.after_backward();
        if (stage == 3) {
          // Between passes a rank holds its shards and nothing whole.
          int64_t shards = 0;
          for (size_t u = 0; u < engine.units().size(); ++u) {
            const auto owned = engine.owned_range(u);
            shards += owned.size() * int64_t(c10::elementSize(engine.units()[u].dtype));
          }
          EXPECT_EQ(engine.memory().parameters.now, shards);
        }
      }
      engine.clip_grad_norm(1.0);
      optimizer.step();
      engine.after_optimizer_step();
    }
    if (traffic != nullptr && comm.rank() == 0) {
      (*traffic)["all_reduce"] = double(comm.traffic().all_reduce) / kSteps;
      (*traffic)["reduce_scatter"] = double(comm.traffic().reduce_scatter) / kSteps;
      (*traffic)["all_gather"] = double(comm.traffic().all_gather) / kSteps;
    }
    ZeroEngine::FullParameters full(engine, /*keep=*/true);
    if (comm.rank() == 0) {
      for (const at::Tensor& p : net.params) result.push_back(p.detach().to(at::kFloat).clone());
    }
  });
  (void)dtype;
  return result;
}

double max_relative_difference(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double worst = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    const double norm = b[i].to(at::kDouble).norm().item<double>();
    const double diff = (a[i].to(at::kDouble) - b[i].to(at::kDouble)).norm().item<double>();
    worst = std::max(worst, diff / norm);
  }
  return worst;
}

TEST(ZeroEngine, EveryStageGivesTheUpdateOfOneProcess) {
  const Net start(at::kFloat);
  const std::vector<at::Tensor> reference = reference_weights(start);
  // The tolerance covers the order of fp32 sums (ranks, micro-steps); a step moves the weights
  // by far more (checked below).
  for (int64_t stage = 0; stage <= 3; ++stage) {
    const std::vector<at::Tensor> weights = engine_weights(start, stage, at::kFloat);
    ASSERT_EQ(weights.size(), reference.size());
    EXPECT_LE(max_relative_difference(weights, reference), 1e-6) << "stage " << stage;
  }
  EXPECT_GT(max_relative_difference(start.params, reference), 1e-2);
}

TEST(ZeroEngine, Bf16ParametersKeepAnFp32MasterCopy) {
  const Net start(at::kBFloat16);
  const std::vector<at::Tensor> reference = reference_weights(start);
  for (int64_t stage : {0, 2, 3}) {
    const std::vector<at::Tensor> weights = engine_weights(start, stage, at::kBFloat16);
    // The working weights are the fp32 master rounded to bf16 (8 significant bits), and the
    // bf16 forward pass moves the gradients by about as much.
    EXPECT_LE(max_relative_difference(weights, reference), 2e-2) << "stage " << stage;
  }
}

TEST(ZeroEngine, ARankWithoutDataForAMicroStepTakesPart) {
  const Net start(at::kFloat);
  for (int64_t stage : {2, 3}) {
    const auto skipped = engine_weights(start, stage, at::kFloat, nullptr, true);
    const auto full = engine_weights(start, stage, at::kFloat);
    ASSERT_EQ(skipped.size(), full.size()) << "stage " << stage;
    EXPECT_GT(max_relative_difference(skipped, full), 1e-4) << "stage " << stage;
    // The same as stage 0 with the same missing micro-step.
    const auto stage0 = engine_weights(start, 0, at::kFloat, nullptr, true);
    EXPECT_LE(max_relative_difference(skipped, stage0), 1e-6) << "stage " << stage;
  }
}

TEST(ZeroEngine, CollectiveBytesPerStepAreThoseOfTheStage) {
  const Net start(at::kFloat);
  // Units: root (1 element), layers.0 (16), layers.1 (4); padded to 2 ranks: 2, 16, 4.
  const double padded = 2 + 16 + 4, unpadded = 1 + 16 + 4;
  const double blocks = 16 + 4;
  std::map<std::string, double> t0, t1, t2, t3;
  engine_weights(start, 0, at::kFloat, &t0);
  engine_weights(start, 1, at::kFloat, &t1);
  engine_weights(start, 2, at::kFloat, &t2);
  engine_weights(start, 3, at::kFloat, &t3);
  // Stage 0: the fp32 gradients all-reduced once per step (sync micro-step only).
  EXPECT_EQ(t0["all_reduce"], 4 * unpadded);
  EXPECT_EQ(t0["reduce_scatter"] + t0["all_gather"], 0);
  // Stage 1: one reduce-scatter, one all-gather of the updated slices (and the norm).
  EXPECT_EQ(t1["reduce_scatter"], 4 * padded);
  EXPECT_EQ(t1["all_gather"], 4 * padded);
  EXPECT_EQ(t1["all_reduce"], 4);
  // Stage 2: a reduce-scatter per micro-step.
  EXPECT_EQ(t2["reduce_scatter"], kMicro * 4 * padded);
  EXPECT_EQ(t2["all_gather"], 4 * padded);
  // Stage 3: per micro-step the root once, each block twice (forward and backward), and the
  // reduce-scatter; nothing after the step.
  EXPECT_EQ(t3["reduce_scatter"], kMicro * 4 * padded);
  EXPECT_EQ(t3["all_gather"], kMicro * 4 * (2 + 2 * blocks));
  // Ring bytes per rank: stage 2 = stage 0 with one micro-step, stage 3 = 1.5x (blocks).
  omnirm::dist::CollectiveTraffic all_reduce{int64_t(4 * padded), 0, 0, 0};
  omnirm::dist::CollectiveTraffic two{0, int64_t(4 * padded), int64_t(4 * padded), 0};
  omnirm::dist::CollectiveTraffic three{0, int64_t(4 * padded), int64_t(2 * 4 * padded), 0};
  EXPECT_DOUBLE_EQ(two.ring_bytes(2), all_reduce.ring_bytes(2));
  EXPECT_DOUBLE_EQ(three.ring_bytes(2), 1.5 * all_reduce.ring_bytes(2));
}

}  // namespace
