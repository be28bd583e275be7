// The generators of the eight media tasks, one factory per task (grouped by media world in
// image_tasks.cpp, video_tasks.cpp, audio_tasks.cpp and mesh_tasks.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "synth_common.h"

namespace omnirm::synth::detail {

struct TaskSetup {
  uint64_t seed = 0;
  int image_size = 32;
  MediaPool* pool = nullptr;
  bool hold_out_combinations = false;  // eval content combinations never seen in training
};

std::unique_ptr<TaskGenerator> make_ti2t(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_t2i(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_ti2i(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_tv2t(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_t2v(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_ta2t(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_t2a(const TaskSetup& setup);
std::unique_ptr<TaskGenerator> make_t23d(const TaskSetup& setup);

}  // namespace omnirm::synth::detail
