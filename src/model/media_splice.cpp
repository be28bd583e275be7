// Implementation of model/media_splice.h.
#include "omnirm/model/media_splice.h"

#include <ATen/ATen.h>

#include "omnirm/model/media_checks.h"

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
  // On a device, reading the slots would wait for it: they were checked on the host when the
  // batch was made (train::make_model_inputs).
  if (slots.device().is_cpu()) check_slots_in_batch(slots, embeds.size(0), slots_name);
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
  bool on_cpu = true;
  for (const Kind& kind : kinds) {
    if (!kind.features.defined()) continue;
    TORCH_CHECK(kind.slots.defined(), "media splice: features without ", kind.name);
    spliced = splice_features(spliced, kind.slots, kind.features, kind.name);
    on_cpu = on_cpu && kind.slots.device().is_cpu();
  }
  if (on_cpu) check_slots_distinct(media);
  return spliced;
}

}  // namespace omnirm::model
