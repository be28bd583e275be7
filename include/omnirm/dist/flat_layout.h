// How the trainable parameters lie in flat buffers for ZeRO sharding. Parameters are grouped
// into units (a decoder layer, or everything else: the "root"), one flat buffer per unit and
// storage dtype; within a unit the decaying parameters (matrices) come first, then the rest,
// each at a fixed offset. The buffer is padded to a multiple of the world size so that rank r
// owns the equal slice [r·P/W, (r+1)·P/W) of it. Offsets below the padding do not depend on
// the world size, which is what lets a checkpoint written by W ranks be read by any other
// number: a shard is a set of pieces, each a range of one parameter's flattened elements.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::dist {

struct FlatRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool empty() const { return end <= begin; }
};

// What the layout needs to know about one trainable parameter.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  at::ScalarType dtype = at::kFloat;  // its storage type; one unit holds one type
  std::string unit;                   // e.g. "root", "model.layers.3"
  bool decay = false;                 // AdamW weight decay applies (matrices)
  bool block = false;                 // its unit is a block that runs once per pass
};

// One parameter's place in its unit's flat buffer.
struct FlatParam {
  size_t index = 0;  // position in the list given to make_flat_units
  int64_t numel = 0;
  int64_t offset = 0;  // its first element in the unit's buffer
  bool decay = false;
};

struct FlatUnit {
  std::string name;  // the ParamSpec unit, with ".fp32" etc. appended when a unit mixes types
  at::ScalarType dtype = at::kFloat;
  bool block = false;             // a decoder block (ZeRO-3 gathers it around its passes)
  std::vector<FlatParam> params;  // decaying first, then the rest, each in list order
  int64_t decay_numel = 0;        // elements [0, decay_numel) decay
  int64_t numel = 0;

  // numel rounded up to a multiple of `world`.
  int64_t padded_numel(int64_t world) const;
  // The slice of the padded buffer rank `rank` owns.
  FlatRange shard(int64_t rank, int64_t world) const;
};

// Units in order of first appearance in `params` (a unit's parameters keep their order,
// decaying ones first). A unit whose parameters have several storage types is split into
// one unit per type, the first type keeping the plain name.
std::vector<FlatUnit> make_flat_units(const std::vector<ParamSpec>& params);

// A contiguous piece of a flat range lying inside one parameter.
struct ParamPiece {
  size_t param = 0;         // index in the make_flat_units list
  int64_t param_begin = 0;  // range of the parameter's flattened elements
  int64_t param_end = 0;
  int64_t flat_begin = 0;  // where it starts in the unit's buffer
};

// The pieces of `range` (of `unit`'s buffer) that lie in parameters, in buffer order; the
// padding yields none.
std::vector<ParamPiece> pieces_in(const FlatUnit& unit, FlatRange range);

}  // namespace omnirm::dist
