# Finds LibTorch (from the torch wheel) and the Debian libraries.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
find_package(Torch REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# HF tokenizer.json: PCRE2 runs the pre-tokenizer regex (\p{L}, \p{N}), utf8proc does NFC.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
find_package(yaml-cpp REQUIRED)
find_package(simdjson REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)

# fmt is used header-only: the torch wheel ships its own (newer) fmt headers, which shadow
# Debian's in torch-facing files, so no compiled fmt library can match both.
add_library(omnirm_fmt INTERFACE)
target_compile_definitions(omnirm_fmt INTERFACE FMT_HEADER_ONLY=1)

add_library(omnirm_torch INTERFACE)
target_link_libraries(omnirm_torch INTERFACE ${TORCH_LIBRARIES} omnirm_fmt)
target_compile_options(omnirm_torch INTERFACE ${TORCH_CXX_FLAGS})
# libtorch.so exports its own copy of libstdc++'s std::filesystem, built by an older
# compiler; when it is found first, calls such as std::filesystem::remove_all crash. Naming
# libstdc++ ahead of every other library makes the dynamic linker bind to the system copy.
target_link_options(omnirm_torch INTERFACE "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")

# Media decoding: FFmpeg (audio, video), stb_image + libwebp (images), Assimp (meshes).
# Left out of the GPU build profile, whose machine has no package manager.
if(NOT OMNIRM_GPU_PROFILE)
  pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET
                    libavformat libavcodec libavutil libswresample libswscale)
  pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
  pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp)
  pkg_check_modules(ASSIMP REQUIRED IMPORTED_TARGET assimp)
endif()
