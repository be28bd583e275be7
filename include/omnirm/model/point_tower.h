// 3D point clouds: a point-patch encoder. Farthest-point sampling picks G centres, each
// centre groups its K nearest points, a small PointNet (shared MLP + max over the group)
// embeds each group's local coordinates, a learned embedding of the centre's position is
// added, and pre-norm encoder layers mix the G patch tokens before a projection to the
// backbone width. Deterministic: FPS starts from the first point.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "omnirm/model/encoder_layer.h"

namespace omnirm::model {

struct PointTowerOptions {
  int64_t num_groups = 16;  // G: tokens per point cloud
  int64_t group_size = 16;  // K: points per group
  int64_t hidden_size = 64;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t intermediate_size = 256;
  int64_t out_dim = 128;
};

// points [B, N, 3] → indices [B, G] of farthest-point-sampled centres.
at::Tensor farthest_point_sample(const at::Tensor& points, int64_t count);

class PointTowerImpl : public torch::nn::Module {
 public:
  explicit PointTowerImpl(const PointTowerOptions& options);
  // points [B, N, 3] with N >= group_size → [B, num_groups, out_dim]
  at::Tensor forward(const at::Tensor& points);
  // Checkpoints encoder layers 0, k, 2k, ... (k = `every`; 0: none).
  void set_activation_checkpointing(int64_t every) { checkpoint_every_ = every; }

 private:
  int64_t checkpoint_every_ = 0;
  PointTowerOptions options_;
  torch::nn::Linear point_mlp1_{nullptr}, point_mlp2_{nullptr}, center_embedding_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear proj_{nullptr};
};
TORCH_MODULE(PointTower);

}  // namespace omnirm::model
