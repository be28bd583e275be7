// Implementation of model/media_splice.h.
#include "omnirm/model/media_splice.h"

#include <ATen/ATen.h>

#include <vector>

namespace omnirm::model {

at::Tensor splice_features(const at::Tensor& embeds, const at::Tensor& slots,
                           const at::Tensor& features, const char* slots_name) {
  TORCH_CHECK(embeds.dim() == 2, "media splice: embeddings must be [N, D], got ", embeds.sizes());
  TORCH_CHECK(slots.dim() == 1 && slots.scalar_type() == at::kLong, "media splice: ", slots_name,
              " must be a 1-D int64 tensor, got ", slots.sizes(), " ", slots.scalar_type());
  TORCH_CHECK(features.dim() == 2 && features.size(1) == embeds.size(1),
              "media splice: ", slots_name, " features must be [R, ", embeds.size(1), "], got ",
              features.sizes());
  TORCH_CHECK(slots.size(0) == features.size(0), "media splice: ", slots_name, " has ",
              slots.size(0), " slots but the tower gave ", features.size(0),
              " feature rows; give one slot per feature row (items x tokens per item)");
  if (slots.size(0) == 0) return embeds;
  const auto [lowest, highest] = at::aminmax(slots);
  const int64_t low = lowest.item<int64_t>();
  const int64_t high = highest.item<int64_t>();
  TORCH_CHECK(low >= 0 && high < embeds.size(0), "media splice: ", slots_name, " holds row ",
              low < 0 ? low : high, ", outside the packed batch of ", embeds.size(0), " tokens");
  return embeds.index_copy(0, slots, features.to(embeds.scalar_type()));
}

at::Tensor splice_media(const at::Tensor& embeds, const MediaInputs& media,
                        const MediaFeatures& features) {
  struct Kind {
    const at::Tensor& slots;
    const at::Tensor& features;
    const char* name;
  };
  const Kind kinds[] = {{media.image_slots, features.images, "image_slots"},
                        {media.video_slots, features.video, "video_slots"},
                        {media.audio_slots, features.audio, "audio_slots"},
                        {media.point_slots, features.points, "point_slots"},
                        {media.slice_slots, features.slices, "slice_slots"},
                        {media.audio_chunk_slots, features.audio_chunks, "audio_chunk_slots"}};
  at::Tensor spliced = embeds;
  std::vector<at::Tensor> every_slot;
  for (const Kind& kind : kinds) {
    if (!kind.features.defined()) continue;
    TORCH_CHECK(kind.slots.defined(), "media splice: features without ", kind.name);
    spliced = splice_features(spliced, kind.slots, kind.features, kind.name);
    every_slot.push_back(kind.slots);
  }
  if (!every_slot.empty()) {
    const at::Tensor sorted = std::get<0>(at::cat(every_slot).sort());
    const at::Tensor repeated =
        sorted.narrow(0, 1, sorted.size(0) - 1) == sorted.narrow(0, 0, sorted.size(0) - 1);
    if (repeated.any().item<bool>()) {
      const int64_t row = sorted.narrow(0, 1, sorted.size(0) - 1)
                              .masked_select(repeated)
                              .select(0, 0)
                              .item<int64_t>();
      TORCH_CHECK(false, "media splice: row ", row,
                  " of the packed batch is claimed by two media feature rows; each placeholder "
                  "token takes one");
    }
  }
  return spliced;
}

}  // namespace omnirm::model
