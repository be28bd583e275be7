// Placing media feature rows into the packed token embeddings. The splice is out of place
// (index_copy, not index_copy_), so gradients reach both the token embeddings that remain
// and the towers that produced the features. Every slot must lie inside the batch and no
// row may be claimed twice, across all kinds.
#pragma once

#include <ATen/Tensor.h>

#include "omnirm/model/media_encoder.h"
#include "omnirm/model/media_inputs.h"

namespace omnirm::model {

// embeds [N, D]; slots [R] int64 in [0, N); features [R, D] (cast to embeds' dtype) →
// [N, D]: embeds with row slots[r] replaced by features[r]. `slots_name` names the slots in
// messages ("image_slots").
at::Tensor splice_features(const at::Tensor& embeds, const at::Tensor& slots,
                           const at::Tensor& features, const char* slots_name);

// embeds [N, D] → [N, D] with every kind of `features` placed at its slots in `media`.
at::Tensor splice_media(const at::Tensor& embeds, const MediaInputs& media,
                        const MediaFeatures& features);

}  // namespace omnirm::model
