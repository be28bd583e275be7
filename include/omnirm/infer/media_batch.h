// The media of a packed batch as model inputs: decoded items stacked per kind and, for every
// feature row a tower will produce, the row of the packed tokens it replaces (its slot, found
// by scanning the tokens for placeholders; under model.arch minicpmo, the <unk> rows inside
// the media bounds). Shared by the training batches and the scoring rows, so both lay media out
// the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "omnirm/data/media_layout.h"
#include "omnirm/model/media_inputs.h"

namespace omnirm::infer {

struct PackedMedia {
  model::MediaInputs inputs;  // CPU tensors; kinds absent from the batch stay undefined
  int64_t items = 0;          // adapter inputs: an image, a video frame, a clip, a cloud each
};

// `items` in the order their placeholders appear in `tokens` (the packed batch, [N] ids with
// every placeholder expanded by `layout`). Items of one kind must share one shape
// (TORCH_CHECK); their count must match the placeholders of that kind (the model checks).
PackedMedia pack_media(const std::vector<const data::MediaItem*>& items,
                       const std::vector<int32_t>& tokens, const data::MediaLayout& layout);

}  // namespace omnirm::infer
