// Implementation of model/point_tower.h.
#include "omnirm/model/point_tower.h"

#include <ATen/ATen.h>

namespace omnirm::model {

at::Tensor farthest_point_sample(const at::Tensor& points, int64_t count) {
  at::NoGradGuard no_grad;
  const int64_t b = points.size(0), n = points.size(1);
  TORCH_CHECK(count <= n, "farthest point sampling: ", count, " centres from ", n, " points");
  at::Tensor chosen = at::zeros({b, count}, points.options().dtype(at::kLong));
  at::Tensor distance =
      at::full({b, n}, std::numeric_limits<float>::infinity(), points.options().dtype(at::kFloat));
  at::Tensor current = at::zeros({b}, chosen.options());
  const at::Tensor batch = at::arange(b, chosen.options());
  for (int64_t i = 0; i < count; ++i) {
    chosen.select(1, i).copy_(current);
    at::Tensor centre = points.index({batch, current}).unsqueeze(1);  // [B, 1, 3]
    distance = at::minimum(distance, (points - centre).pow(2).sum(-1).to(at::kFloat));
    current = distance.argmax(1);
  }
  return chosen;
}

PointTowerImpl::PointTowerImpl(const PointTowerOptions& o) : options_(o) {
  point_mlp1_ = register_module("point_mlp1", torch::nn::Linear(3, o.hidden_size));
  point_mlp2_ = register_module("point_mlp2", torch::nn::Linear(o.hidden_size, o.hidden_size));
  center_embedding_ = register_module("center_embedding", torch::nn::Linear(3, o.hidden_size));
  layers_ = register_module("layers", torch::nn::ModuleList());
  EncoderLayerOptions layer{o.hidden_size, o.num_heads, o.intermediate_size, 1e-6};
  for (int64_t i = 0; i < o.num_layers; ++i) layers_->push_back(EncoderLayer(layer));
  norm_ =
      register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size})));
  proj_ = register_module("proj", torch::nn::Linear(o.hidden_size, o.out_dim));
}

at::Tensor PointTowerImpl::forward(const at::Tensor& points) {
  TORCH_CHECK(points.dim() == 3 && points.size(2) == 3,
              "point tower: points must be [B, N, 3], got ", points.sizes());
  TORCH_CHECK(points.size(1) >= options_.group_size, "point tower: ", points.size(1),
              " points, fewer than group_size ", options_.group_size);
  const int64_t b = points.size(0);
  const at::Tensor batch = at::arange(b, points.options().dtype(at::kLong)).unsqueeze(1);
  at::Tensor centres =
      points.index({batch, farthest_point_sample(points, options_.num_groups)});  // [B, G, 3]
  at::Tensor distances = at::cdist(centres, points);                              // [B, G, N]
  at::Tensor neighbours =
      std::get<1>(distances.topk(options_.group_size, -1, /*largest=*/false));  // [B, G, K]
  at::Tensor grouped =
      points.index({batch.unsqueeze(2), neighbours}) - centres.unsqueeze(2);  // [B, G, K, 3]
  at::Tensor local = point_mlp2_->forward(at::relu(point_mlp1_->forward(grouped)));
  at::Tensor tokens = std::get<0>(local.max(2)) + center_embedding_->forward(centres);  // [B, G, D]
  tokens = run_encoder_layers(layers_, tokens, checkpoint_every_);
  return proj_->forward(norm_->forward(tokens));
}

}  // namespace omnirm::model
