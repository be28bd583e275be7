// Two Gloo ranks in one test process (one thread each) on a free loopback port: the named
// collectives, a collective one rank never joins failing after dist.timeout with a message
// naming it, GradSync averaging only on the syncing micro-step, and ZeRO-1 shards gathered.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/launcher.h"
#include "omnirm/dist/zero.h"

namespace {

using omnirm::dist::Communicator;

// Runs body(comm) on ranks 0 and 1 at once, each in its own thread with its own
// Communicator; failures inside a thread are reported after both finish.
void on_two_ranks(double timeout_seconds, const std::function<void(Communicator&)>& body) {
  const int64_t port = omnirm::dist::find_free_port();
  std::string errors[2];
  auto run_rank = [&](int64_t rank) {
    try {
      omnirm::dist::World world;
      world.rank = rank;
      world.local_rank = rank;
      world.size = 2;
      world.local_size = 2;
      world.master_addr = "127.0.0.1";
      world.master_port = port;
      omnirm::DistConfig config;
      config.backend = "auto";
      config.timeout = timeout_seconds;
      Communicator comm(world, config, at::Device(at::kCPU));
      body(comm);
    } catch (const std::exception& error) {
      errors[rank] = error.what();
    }
  };
  std::thread other(run_rank, 1);
  run_rank(0);
  other.join();
  EXPECT_EQ(errors[0], "") << "rank 0";
  EXPECT_EQ(errors[1], "") << "rank 1";
}

TEST(Communicator, BackendFollowsTheDevice) {
  EXPECT_EQ(omnirm::dist::resolve_backend("auto", at::Device(at::kCPU)), "gloo");
  EXPECT_EQ(omnirm::dist::resolve_backend("gloo", at::Device(at::kCPU)), "gloo");
  EXPECT_THROW(omnirm::dist::resolve_backend("nccl", at::Device(at::kCPU)), omnirm::UserError);
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
  EXPECT_EQ(omnirm::dist::resolve_backend("auto", at::Device(at::kCUDA, 0)), "nccl");
#endif
  omnirm::dist::World world;
  world.local_rank = 3;
  EXPECT_EQ(omnirm::dist::local_device(world, at::kCUDA), at::Device(at::kCUDA, 3));
  EXPECT_EQ(omnirm::dist::local_device(world, at::kCPU), at::Device(at::kCPU));
}

TEST(Communicator, CollectivesCombineBothRanks) {
  on_two_ranks(30.0, [](Communicator& comm) {
    const double r = double(comm.rank());
    EXPECT_EQ(comm.backend(), "gloo");
    const std::vector<double> sums = comm.all_reduce_sum({1.0 + r, 10.0 * r, 0.25}, "test sum");
    EXPECT_EQ(sums, (std::vector<double>{3.0, 10.0, 0.5}));
    EXPECT_EQ(comm.all_gather(7.0 + r, "test gather"), (std::vector<double>{7.0, 8.0}));
    std::vector<at::Tensor> tensors = {at::full({3}, r + 1.0), at::full({2, 2}, 2.0 * r)};
    comm.all_reduce_tensors(tensors, "test tensors");
    EXPECT_TRUE(at::equal(tensors[0], at::full({3}, 3.0)));
    EXPECT_TRUE(at::equal(tensors[1], at::full({2, 2}, 2.0)));
    const std::vector<at::Tensor> from_one = {at::full({4}, r), at::full({1}, 5.0 + r)};
    comm.broadcast(from_one, 1, "test broadcast");
    EXPECT_TRUE(at::equal(from_one[0], at::full({4}, 1.0)));
    EXPECT_TRUE(at::equal(from_one[1], at::full({1}, 6.0)));
    EXPECT_EQ(comm.share_from_rank0("test/key", "rank " + std::to_string(comm.rank())), "rank 0");
    comm.barrier("test barrier");
  });
}

TEST(Communicator, ACollectiveNobodyJoinsTimesOutNamingIt) {
  std::atomic<bool> rank0_done{false};
  on_two_ranks(1.0, [&](Communicator& comm) {
    if (comm.rank() == 0) {
      try {
        comm.all_reduce_sum({1.0}, "the lonely all-reduce");
        ADD_FAILURE() << "expected the all-reduce to time out";
      } catch (const std::runtime_error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("rank 0: the lonely all-reduce did not complete"), std::string::npos)
            << message;
        EXPECT_NE(message.find("dist.timeout = 1 s"), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      }
    }
    if (comm.rank() == 0) rank0_done = true;
    // Rank 1 joins nothing; it only stays up until rank 0 has given up.
    while (!rank0_done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
}

// A tiny model: a linear layer whose loss on `input` is the sum of its outputs squared.
at::Tensor loss_of(torch::nn::Linear& layer, double scale) {
  const at::Tensor input = at::arange(6, at::kFloat).reshape({2, 3}) * scale;
  return layer->forward(input).pow(2).sum();
}

// Gradients of `layer` after backward of the losses at `scales`, accumulated locally.
std::vector<at::Tensor> local_gradients(torch::nn::Linear& layer,
                                        const std::vector<double>& scales) {
  layer->zero_grad();
  for (double scale : scales) loss_of(layer, scale).backward();
  std::vector<at::Tensor> grads;
  for (const auto& p : layer->parameters()) grads.push_back(p.grad().clone());
  layer->zero_grad();
  return grads;
}

TEST(GradSync, AveragesOnlyOnTheSyncingMicroStep) {
  on_two_ranks(30.0, [](Communicator& comm) {
    // Different initial weights per rank: GradSync must replace them with rank 0's.
    torch::nn::Linear layer(3, 2);
    {
      at::NoGradGuard no_grad;
      layer->weight.copy_(at::arange(6, at::kFloat).reshape({2, 3}) * 0.1 + double(comm.rank()));
      layer->bias.fill_(0.5 - double(comm.rank()));
    }
    omnirm::dist::GradSync sync(comm, layer->parameters(), /*bucket_mb=*/25.0);
    EXPECT_TRUE(at::equal(layer->weight, at::arange(6, at::kFloat).reshape({2, 3}) * 0.1));
    EXPECT_TRUE(at::equal(layer->bias, at::full({2}, 0.5)));

    // Each rank's two micro-batches; the data differs by rank.
    const double first = 1.0 + double(comm.rank());
    const double second = 0.5 - 0.25 * double(comm.rank());
    const auto mine = local_gradients(layer, {first, second});
    const auto mine_first = local_gradients(layer, {first});
    const auto rank0 = local_gradients(layer, {1.0, 0.5});
    const auto rank1 = local_gradients(layer, {2.0, 0.25});

    for (int step = 0; step < 2; ++step) {  // the second step runs on rebuilt buckets
      layer->zero_grad();
      sync.before_forward(false);
      sync.backward(loss_of(layer, first), false);
      // No communication yet: this rank's own gradient.
      for (size_t i = 0; i < layer->parameters().size(); ++i) {
        EXPECT_TRUE(at::allclose(layer->parameters()[i].grad(), mine_first[i]));
      }
      sync.before_forward(true);
      sync.backward(loss_of(layer, second), true);
      for (size_t i = 0; i < layer->parameters().size(); ++i) {
        const at::Tensor average = (rank0[i] + rank1[i]) / 2.0;
        EXPECT_TRUE(at::allclose(layer->parameters()[i].grad(), average, 1e-6, 1e-6))
            << "step " << step << " parameter " << i;
        EXPECT_FALSE(at::allclose(mine[i], average, 1e-3, 1e-3));  // the average is news
      }
    }
    EXPECT_GE(sync.bucket_numels().size(), 1u);
  });
}

TEST(Zero, OwnersBalanceElementsAndShardsAreGathered) {
  const std::vector<at::Tensor> shapes = {at::zeros({10}), at::zeros({4, 4}), at::zeros({3}),
                                          at::zeros({12}), at::zeros({1})};
  const std::vector<int64_t> owners = omnirm::dist::assign_owners(shapes, 2);
  // Largest first to the lightest rank: 16 → 0, 12 → 1, 10 → 1, 3 → 0, 1 → 0.
  EXPECT_EQ(owners, (std::vector<int64_t>{1, 0, 0, 1, 0}));

  on_two_ranks(30.0, [](Communicator& comm) {
    std::vector<at::Tensor> params = {at::zeros({10}), at::zeros({4, 4}), at::zeros({3})};
    omnirm::dist::ParameterShards shards(comm, params);
    for (at::Tensor& p : const_cast<std::vector<at::Tensor>&>(shards.owned())) {
      p.fill_(double(comm.rank()) + 1.0);  // each rank updates only its shard
    }
    shards.gather();
    const std::vector<int64_t> owner = omnirm::dist::assign_owners(params, 2);
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(at::equal(params[i], at::full_like(params[i], double(owner[i]) + 1.0)))
          << "parameter " << i;
    }
  });
}

}  // namespace
