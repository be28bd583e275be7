// The in-memory encoded pair set (evaluation sets, the benchmarks' fixed batches) belongs to
// the inference area (infer/encoded_dataset.h); training uses it under these names. Training
// data streams through data::Loader instead.
#pragma once

#include "omnirm/infer/encoded_dataset.h"

namespace omnirm::train {

using data::EncodedPair;
using infer::encode_examples;
using infer::EncodedDataset;
using infer::load_encoded_dataset;

}  // namespace omnirm::train
