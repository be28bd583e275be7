// Implementation of dist/flat_layout.h.
#include "omnirm/dist/flat_layout.h"

#include <algorithm>
#include <map>
#include <utility>

namespace omnirm::dist {

int64_t FlatUnit::padded_numel(int64_t world) const { return (numel + world - 1) / world * world; }

FlatRange FlatUnit::shard(int64_t rank, int64_t world) const {
  const int64_t share = padded_numel(world) / world;
  return {rank * share, (rank + 1) * share};
}

std::vector<FlatUnit> make_flat_units(const std::vector<ParamSpec>& params) {
  std::vector<FlatUnit> units;
  std::map<std::pair<std::string, at::ScalarType>, size_t> position;
  std::map<std::string, int> types_seen;  // how many storage types each unit name has met
  for (size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& spec = params[i];
    const auto key = std::make_pair(spec.unit, spec.dtype);
    auto found = position.find(key);
    if (found == position.end()) {
      FlatUnit unit;
      const int seen = types_seen[spec.unit]++;
      unit.name = seen == 0 ? spec.unit : spec.unit + "." + c10::toString(spec.dtype);
      unit.dtype = spec.dtype;
      unit.block = spec.block;
      found = position.emplace(key, units.size()).first;
      units.push_back(std::move(unit));
    }
    FlatParam param;
    param.index = i;
    param.numel = 1;
    for (int64_t size : spec.shape) param.numel *= size;
    param.decay = spec.decay;
    units[found->second].params.push_back(param);
  }
  for (FlatUnit& unit : units) {
    std::stable_partition(unit.params.begin(), unit.params.end(),
                          [](const FlatParam& p) { return p.decay; });
    int64_t offset = 0;
    for (FlatParam& p : unit.params) {
      p.offset = offset;
      offset += p.numel;
      if (p.decay) unit.decay_numel = offset;
    }
    unit.numel = offset;
  }
  return units;
}

std::vector<ParamPiece> pieces_in(const FlatUnit& unit, FlatRange range) {
  std::vector<ParamPiece> pieces;
  for (const FlatParam& p : unit.params) {
    const int64_t begin = std::max(range.begin, p.offset);
    const int64_t end = std::min(range.end, p.offset + p.numel);
    if (begin >= end) continue;
    pieces.push_back({p.index, begin - p.offset, end - p.offset, begin});
  }
  return pieces;
}

}  // namespace omnirm::dist
