# Build options, defaults and compiler settings shared by every target.
option(OMNIRM_BUILD_TESTS "Build the GoogleTest suite" ON)
option(OMNIRM_ENABLE_CUDA "Compile the CUDA kernels when nvcc is found" ON)
# The GPU build profile (docs/architecture.md): for the GPU machine, which has no package manager;
# media decoding is left out there.
option(OMNIRM_GPU_PROFILE "Build for the GPU machine: media decoding off" OFF)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  # Precompiled headers need these sloppiness settings for ccache to hit.
  set(OMNIRM_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${OMNIRM_LAUNCHER})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${OMNIRM_LAUNCHER})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${OMNIRM_LAUNCHER})
endif()

set(OMNIRM_WARNINGS -Wall -Wextra -Wno-unused-parameter)
