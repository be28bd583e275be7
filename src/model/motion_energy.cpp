// Implementation of model/motion_energy.h.
#include "omnirm/model/motion_energy.h"

#include <ATen/ATen.h>

#include <vector>

namespace omnirm::model {
namespace {

// [B, C, S, S] → central difference along `dim` (2: y, 3: x), zero on the first and last
// row or column.
at::Tensor central_difference(const at::Tensor& image, int64_t dim) {
  const int64_t side = image.size(dim);
  at::Tensor out = at::zeros_like(image);
  if (side < 3) return out;
  out.narrow(dim, 1, side - 2)
      .copy_((image.narrow(dim, 2, side - 2) - image.narrow(dim, 0, side - 2)) * 0.5);
  return out;
}

}  // namespace

at::Tensor motion_energy(const at::Tensor& tubelets, int64_t temporal_patch) {
  TORCH_CHECK(temporal_patch >= 1, "motion_energy: temporal_patch must be at least 1");
  TORCH_CHECK(tubelets.dim() == 4 && tubelets.size(1) == 3 * temporal_patch,
              "motion_energy: tubelets must be [B, ", 3 * temporal_patch, ", S, S], got ",
              tubelets.sizes());
  std::vector<at::Tensor> maps;  // each [B, 1, S, S]
  for (int64_t k = 0; k + 1 < temporal_patch; ++k) {
    const at::Tensor first = tubelets.narrow(1, 3 * k, 3);
    const at::Tensor second = tubelets.narrow(1, 3 * (k + 1), 3);
    const at::Tensor change = second - first;
    const at::Tensor mean = (first + second) * 0.5;
    maps.push_back(-kMotionEnergyGain *
                   (central_difference(mean, 3) * change).sum(1, /*keepdim=*/true));
    maps.push_back(-kMotionEnergyGain *
                   (central_difference(mean, 2) * change).sum(1, /*keepdim=*/true));
  }
  if (maps.empty()) {
    return at::zeros({tubelets.size(0), 0, tubelets.size(2), tubelets.size(3)}, tubelets.options());
  }
  return at::cat(maps, 1);
}

}  // namespace omnirm::model
