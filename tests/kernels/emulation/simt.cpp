// The SIMT executor (contract in simt.h): one ucontext fiber per thread of the running block,
// resumed by a scheduler loop on the calling thread until every fiber has finished.
#include "simt.h"

#include <ucontext.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace simt {
namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned kMaxThreads = 1024;

struct Barrier {
  int arrived = 0;
  uint64_t generation = 0;
};

struct Copy {
  uint32_t offset = 0;
  const void* source = nullptr;
  uint32_t bytes = 0;
  bool valid = false;
};

struct Fiber {
  ucontext_t context{};
  std::unique_ptr<char[]> stack;
  bool done = false;
  // The barrier this fiber waits at and the generation it waits to see end (nullptr: runnable).
  const Barrier* waiting_at = nullptr;
  uint64_t waiting_generation = 0;
  // Issued copies not yet landed: committed groups, oldest first, and the open group.
  std::deque<std::vector<Copy>> committed;
  std::vector<Copy> open;
};

struct Warp {
  Barrier barrier;
  // Two slot sets, used by alternate collectives: a lane can only reach the collective after
  // next once every lane has finished reading this one.
  unsigned char slots[2][32 * detail::kSlotBytes]{};
};

// The launch in progress (one at a time, on one thread).
struct State {
  const std::function<void()>* kernel = nullptr;
  LaunchOptions options;
  Dim3 grid;
  Dim3 block;
  Dim3 block_index;
  unsigned char* shared = nullptr;
  size_t shared_bytes = 0;
  ucontext_t scheduler{};
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  Barrier block_barrier;
  int live = 0;
  int current = -1;
  bool progress = false;
  std::string error;
};

State* g_state = nullptr;

State& state() {
  if (g_state == nullptr || g_state->current < 0) {
    throw std::logic_error("simt: a device function was called outside a kernel launch");
  }
  return *g_state;
}

Fiber& current_fiber() { return state().fibers[static_cast<size_t>(state().current)]; }

void yield_to_scheduler() {
  State& s = state();
  swapcontext(&s.fibers[static_cast<size_t>(s.current)].context, &s.scheduler);
}

// Lets every fiber waiting at `barrier` go on.
void release(Barrier& barrier) {
  barrier.arrived = 0;
  ++barrier.generation;
}

// Arrives at `barrier`, which `expected` participants must reach, and waits for the others.
void arrive_and_wait(Barrier& barrier, int expected) {
  State& s = state();
  s.progress = true;
  const uint64_t generation = barrier.generation;
  if (++barrier.arrived >= expected) {
    release(barrier);
    return;
  }
  Fiber& fiber = current_fiber();
  fiber.waiting_at = &barrier;
  fiber.waiting_generation = generation;
  while (barrier.generation == generation) {
    yield_to_scheduler();
  }
  fiber.waiting_at = nullptr;
}

void land(const Copy& copy) {
  unsigned char* target = shared_at(copy.offset, copy.bytes, copy.bytes);
  if (copy.valid) {
    std::memcpy(target, copy.source, copy.bytes);
  } else {
    std::memset(target, 0, copy.bytes);
  }
}

void land_all(const std::vector<Copy>& copies) {
  for (const Copy& copy : copies) {
    land(copy);
  }
}

// Lands the oldest committed groups of `fiber` until at most `keep` remain.
void land_committed(Fiber& fiber, size_t keep) {
  while (fiber.committed.size() > keep) {
    land_all(fiber.committed.front());
    fiber.committed.pop_front();
  }
}

void run_fiber() {
  State& s = *g_state;
  (*s.kernel)();
  Fiber& fiber = current_fiber();
  land_committed(fiber, 0);  // copies still in flight land eventually
  land_all(fiber.open);
  fiber.done = true;
  --s.live;
  s.progress = true;
  // Exited threads no longer take part in block barriers.
  if (s.block_barrier.arrived > 0 && s.block_barrier.arrived >= s.live) {
    release(s.block_barrier);
  }
  // Returning resumes uc_link, the scheduler.
}

bool runnable(const Fiber& fiber) {
  return !fiber.done &&
         (fiber.waiting_at == nullptr || fiber.waiting_at->generation != fiber.waiting_generation);
}

void run_block(State& s, std::mt19937_64& random) {
  const unsigned threads = s.block.x;
  if (s.shared_bytes > 0) {
    std::memset(s.shared, 0xFF, s.shared_bytes);
  }
  s.warps.assign(threads / 32, Warp{});
  s.block_barrier = Barrier{};
  s.live = static_cast<int>(threads);
  for (unsigned i = 0; i < threads; ++i) {
    Fiber& fiber = s.fibers[i];
    if (!fiber.stack) {
      fiber.stack.reset(new char[kStackBytes]);
    }
    fiber.done = false;
    fiber.waiting_at = nullptr;
    fiber.committed.clear();
    fiber.open.clear();
    getcontext(&fiber.context);
    fiber.context.uc_stack.ss_sp = fiber.stack.get();
    fiber.context.uc_stack.ss_size = kStackBytes;
    fiber.context.uc_link = &s.scheduler;
    makecontext(&fiber.context, run_fiber, 0);
  }
  std::vector<int> order(threads);
  std::iota(order.begin(), order.end(), 0);

  // With a seed, threads resume in a shuffled order and each warp gets a speed for the block:
  // it takes part in a sweep with probability 1, 1/2, 1/4 or 1/8, so warps run ahead of each
  // other as far as their barriers let them. A sweep after one without progress offers every
  // thread a turn, and only such a sweep can find a deadlock.
  const bool shuffle = s.options.schedule_seed != 0;
  // A sweep skips a warp when a random number has any bit of its mask set.
  std::vector<uint32_t> warp_turn_mask(threads / 32, 0);
  if (shuffle) {
    for (uint32_t& mask : warp_turn_mask) {
      mask = (1u << (random() % 4)) - 1;
    }
  }
  std::vector<bool> warp_waits(threads / 32, false);
  bool full_sweep = true;
  while (s.live > 0) {
    if (shuffle) {
      std::shuffle(order.begin(), order.end(), random);
      for (size_t w = 0; w < warp_waits.size(); ++w) {
        warp_waits[w] = !full_sweep && (random() & warp_turn_mask[w]) != 0;
      }
    }
    s.progress = false;
    for (const int index : order) {
      Fiber& fiber = s.fibers[static_cast<size_t>(index)];
      if (!runnable(fiber) || warp_waits[static_cast<size_t>(index / 32)]) {
        continue;
      }
      s.current = index;
      swapcontext(&s.scheduler, &fiber.context);
      s.current = -1;
      if (!s.error.empty()) {
        return;
      }
    }
    if (!s.progress && full_sweep) {
      s.error = "deadlock: " + std::to_string(s.live) +
                " threads wait at a barrier that the others never reach";
      return;
    }
    full_sweep = !shuffle || !s.progress;
  }
}

}  // namespace

void launch(Dim3 grid, Dim3 block, unsigned char* shared, size_t shared_bytes,
            const LaunchOptions& options, const std::function<void()>& kernel) {
  if (block.x == 0 || block.x % 32 != 0 || block.x > kMaxThreads || block.y != 1 || block.z != 1) {
    throw std::invalid_argument("simt: blocks must be 1-D with a multiple of 32 threads");
  }
  if (g_state != nullptr) {
    throw std::logic_error("simt: launches do not nest");
  }
  State s;
  s.kernel = &kernel;
  s.options = options;
  s.grid = grid;
  s.block = block;
  s.shared = shared;
  s.shared_bytes = shared_bytes;
  s.fibers.resize(block.x);
  std::mt19937_64 random(options.schedule_seed);
  g_state = &s;
  for (unsigned z = 0; z < grid.z && s.error.empty(); ++z) {
    for (unsigned y = 0; y < grid.y && s.error.empty(); ++y) {
      for (unsigned x = 0; x < grid.x && s.error.empty(); ++x) {
        s.block_index = Dim3{x, y, z};
        run_block(s, random);
      }
    }
  }
  g_state = nullptr;
  if (!s.error.empty()) {
    throw std::runtime_error("simt: block (" + std::to_string(s.block_index.x) + ", " +
                             std::to_string(s.block_index.y) + ", " +
                             std::to_string(s.block_index.z) + "): " + s.error);
  }
}

Dim3 thread_index() { return Dim3{static_cast<unsigned>(state().current), 0, 0}; }
Dim3 block_index() { return state().block_index; }
Dim3 grid_dim() { return state().grid; }
Dim3 block_dim() { return state().block; }

void sync_block() {
  State& s = state();
  arrive_and_wait(s.block_barrier, s.live);
}

void sync_warp() {
  State& s = state();
  arrive_and_wait(s.warps[static_cast<size_t>(s.current / 32)].barrier, 32);
}

uint32_t shared_offset(const void* pointer) {
  const State& s = state();
  const auto* byte = static_cast<const unsigned char*>(pointer);
  if (byte < s.shared || byte >= s.shared + s.shared_bytes) {
    fail("a pointer converted to a shared address does not point into shared memory");
  }
  return static_cast<uint32_t>(byte - s.shared);
}

unsigned char* shared_at(uint32_t offset, uint32_t bytes, uint32_t alignment) {
  const State& s = state();
  if (static_cast<size_t>(offset) + bytes > s.shared_bytes) {
    fail("shared access of " + std::to_string(bytes) + " bytes at offset " +
         std::to_string(offset) + " lies beyond the " + std::to_string(s.shared_bytes) +
         " bytes of shared memory");
  }
  if (offset % alignment != 0) {
    fail("shared access at offset " + std::to_string(offset) + " is not " +
         std::to_string(alignment) + "-byte aligned");
  }
  return s.shared + offset;
}

void async_copy(uint32_t offset, const void* source, uint32_t bytes, bool valid) {
  const Copy copy{offset, source, bytes, valid};
  shared_at(offset, bytes, bytes);  // checked at issue, as the hardware faults there
  if (state().options.copy_timing == CopyTiming::kAtIssue) {
    land(copy);
  } else {
    current_fiber().open.push_back(copy);
  }
}

void async_commit() {
  Fiber& fiber = current_fiber();
  fiber.committed.push_back(std::move(fiber.open));
  fiber.open.clear();
}

void async_wait(int pending_groups) {
  land_committed(current_fiber(), static_cast<size_t>(std::max(pending_groups, 0)));
}

void fail(const std::string& message) {
  State& s = state();
  if (s.error.empty()) {
    s.error = "thread " + std::to_string(s.current) + ": " + message;
  }
  yield_to_scheduler();  // never resumed: the launch stops
  std::abort();
}

namespace detail {

int lane() { return state().current % 32; }

const unsigned char* warp_exchange(const void* mine, size_t bytes) {
  State& s = state();
  Warp& warp = s.warps[static_cast<size_t>(s.current / 32)];
  unsigned char* slots = warp.slots[warp.barrier.generation % 2];
  std::memcpy(slots + static_cast<size_t>(lane()) * kSlotBytes, mine, bytes);
  arrive_and_wait(warp.barrier, 32);
  return slots;
}

}  // namespace detail
}  // namespace simt
