// Implementation of dist/world.h.
#include "omnirm/dist/world.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <string_view>

#include "omnirm/core/error.h"
#include "omnirm/core/parse_scalar.h"

namespace omnirm::dist {

namespace {

constexpr const char* kHint = "run under `omnirm launch` or torchrun, which set all of them";

// The integer value of `name`, which must be set and lie in [low, high].
int64_t required_integer(const std::function<const char*(const char*)>& lookup, const char* name,
                         int64_t low, int64_t high) {
  const char* text = lookup(name);
  if (text == nullptr) throw UserError(fmt::format("{} is not set; {}", name, kHint));
  const std::optional<int64_t> value = parse_integer(text);
  if (!value || *value < low || *value > high) {
    throw UserError(
        fmt::format("{}='{}': expected a whole number in [{}, {}]", name, text, low, high));
  }
  return *value;
}

}  // namespace

World world_from(const std::function<const char*(const char*)>& lookup) {
  World world;
  if (lookup("WORLD_SIZE") == nullptr && lookup("RANK") == nullptr) return world;
  world.size = required_integer(lookup, "WORLD_SIZE", 1, 1 << 20);
  world.rank = required_integer(lookup, "RANK", 0, world.size - 1);
  if (!world.distributed()) return world;
  world.local_size = required_integer(lookup, "LOCAL_WORLD_SIZE", 1, world.size);
  world.local_rank = required_integer(lookup, "LOCAL_RANK", 0, world.local_size - 1);
  const char* addr = lookup("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    throw UserError(fmt::format("MASTER_ADDR is not set; {}", kHint));
  }
  world.master_addr = addr;
  world.master_port = required_integer(lookup, "MASTER_PORT", 1, 65535);
  const char* agent = lookup("TORCHELASTIC_USE_AGENT_STORE");
  world.agent_store = agent != nullptr && std::string_view(agent) == "True";
  return world;
}

World world_from_environment() {
  return world_from([](const char* name) { return std::getenv(name); });
}

}  // namespace omnirm::dist
