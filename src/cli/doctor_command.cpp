// `omnirm doctor [-c CONFIG] [--set key=value ...]`: one screen on what this build and this
// machine offer — the build's features (CUDA kernels and their architectures, NCCL, cuDNN,
// Gloo), the devices with their free memory, the fused kernels' self-tests on every GPU, the
// media decoders and the LibTorch version — and, given a config, whether everything that run
// needs is here. Exit 1 when something a configured run needs is missing, 0 otherwise.
#include <fmt/format.h>
#include <torch/version.h>
#include <CLI/CLI.hpp>

#include <string>
#include <thread>
#include <vector>

#include "omnirm/cli/commands.h"
#include "omnirm/core/config.h"
#include "omnirm/dist/backends.h"
#include "omnirm/ops/accelerator.h"
#include "omnirm/ops/fused_kernels.h"
#include "omnirm/ops/kernel_self_test.h"

#ifdef OMNIRM_WITH_MEDIA
#include "omnirm/media/decoders.h"
#endif

namespace omnirm::cli {

namespace {

std::string gib(int64_t bytes) { return fmt::format("{:.1f} GiB", double(bytes) / (1 << 30)); }

void line(const std::string& what, const std::string& value) {
  fmt::print("  {:<18} {}\n", what, value);
}

// Runs the fused kernels' self-tests on every device the kernels run on (attention: bf16 and
// fp16, head sizes 64 and 128, 8 query / 2 key-value heads; head + loss: fp32, bf16 and fp16
// at hidden size 896) and prints one line each. Returns whether all passed.
bool print_self_tests(const ops::AcceleratorReport& report) {
  fmt::print("kernel self-tests\n");
  const auto attention = ops::fused_attention_kernel(c10::DeviceType::CUDA);
  const auto head_loss = ops::fused_head_loss_kernel(c10::DeviceType::CUDA);
  if (attention == nullptr || head_loss == nullptr || report.devices.empty()) {
    line("not run", report.devices.empty() ? "no CUDA device" : "no fused CUDA kernels built");
    return true;
  }
  bool all_passed = true;
  for (const ops::CudaDevice& device : report.devices) {
    const at::Device where(at::kCUDA, static_cast<c10::DeviceIndex>(device.index));
    if (!report.kernels_run_on(device)) {
      line(where.str(), fmt::format("not run: the kernels are built for {}, the device is sm_{}{}",
                                    report.kernel_architectures, device.major, device.minor));
      all_passed = false;
      continue;
    }
    std::vector<ops::SelfTestResult> results;
    for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const int64_t head_dim : {64, 128}) {
        results.push_back(ops::attention_self_test(*attention, where, dtype, head_dim, 8, 2));
      }
    }
    for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      results.push_back(ops::head_loss_self_test(*head_loss, where, dtype, 896));
    }
    for (const ops::SelfTestResult& r : results) {
      all_passed = all_passed && r.passed;
      fmt::print("  {} {} in {:.1f} ms: {}\n", r.passed ? "passed" : "FAILED", r.subject(),
                 r.milliseconds, r.passed ? r.figures : r.failures);
    }
  }
  return all_passed;
}

// What a run of `config` needs that is missing here, one line each.
std::vector<std::string> missing_for(const Config& config, const ops::AcceleratorReport& report,
                                     bool self_tests_passed) {
  std::vector<std::string> missing;
  const bool has_gpu = !report.devices.empty();
  if (config.train.device == "cuda" && !has_gpu) {
    missing.push_back("train.device: cuda, but no CUDA device is visible (" + report.device_note +
                      ")");
  }
  const bool wants_gpu =
      config.train.device == "cuda" || (config.train.device == "auto" && has_gpu);
  const bool on_gpu = wants_gpu && has_gpu;
  if (wants_gpu && !report.torch_cuda) {
    missing.push_back("training on CUDA needs a LibTorch built with CUDA; this one is CPU-only");
  }
  if (config.model.attention_backend == "cuda") {
    if (!report.kernels_built) {
      missing.push_back("model.attention_backend: cuda, but this build has no CUDA kernels");
    } else if (!on_gpu) {
      missing.push_back("model.attention_backend: cuda, but the run has no GPU to train on");
    } else if (!self_tests_passed) {
      missing.push_back("model.attention_backend: cuda, but a kernel self-test failed (above)");
    }
  }
  const bool media = config.model.vision_layers > 0 || config.model.audio_layers > 0 ||
                     config.model.point_layers > 0;
#ifndef OMNIRM_WITH_MEDIA
  // Without decoders, media come only from a store a full build has filled.
  if (media && config.data.media_store.empty()) {
    missing.push_back(
        "the model has media towers, but this build decodes no media files and "
        "data.media_store is not set; fill a store with a full build and set it");
  }
#else
  (void)media;
#endif
  const std::string& backend = config.dist.backend;
  if ((backend == "nccl" || (backend == "auto" && wants_gpu)) && !dist::nccl_available()) {
    missing.push_back("dist.backend " + backend +
                      ": data-parallel ranks on CUDA need NCCL, which this build lacks");
  }
  if ((backend == "gloo" || (backend == "auto" && !wants_gpu)) && !dist::gloo_available()) {
    missing.push_back("dist.backend " + backend +
                      ": data-parallel ranks on the CPU need Gloo, which this build lacks");
  }
  return missing;
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "doctor",
      "What this build and machine offer (CUDA kernels, NCCL, cuDNN, Gloo, devices, kernel "
      "self-tests, media decoders); with -c, exit 1 when the run needs something missing");
  auto options = std::make_shared<ConfigOptions>();
  add_config_options(*command, *options);
  command->callback([options] {
    const bool configured = !options->path.empty() || !options->overrides.empty();
    const Config config = load_config(options->path, options->overrides);
    const ops::AcceleratorReport report = ops::accelerator_report();

    fmt::print("omnirm 0.1.0 doctor\nbuild\n");
    line("LibTorch", fmt::format("{}{}", TORCH_VERSION,
                                 report.torch_cuda ? " (CUDA " + report.torch_cuda_runtime + ")"
                                                   : " (CPU only)"));
    line("CUDA kernels", report.kernels_built ? "built for " + report.kernel_architectures
                                              : "not built (no nvcc when configured)");
    line("cuDNN", report.cudnn ? fmt::format("yes, version {}", report.cudnn_version)
                               : "not available to LibTorch");
    line("NCCL", dist::nccl_available() ? "yes" : "no");
    line("Gloo", dist::gloo_available() ? "yes" : "no");
#ifdef OMNIRM_WITH_MEDIA
    std::string decoders;
    for (const std::string& library : media::decoder_libraries()) {
      decoders += (decoders.empty() ? "" : ", ") + library;
    }
    line("media decoding", decoders);
#else
    line("media decoding", "off (GPU build profile)");
#endif

    fmt::print("devices\n");
    line("cpu", fmt::format("{} hardware threads", std::thread::hardware_concurrency()));
    for (const ops::CudaDevice& device : report.devices) {
      line(fmt::format("cuda:{}", device.index),
           fmt::format("{}, sm_{}{}, {} free of {}", device.name, device.major, device.minor,
                       gib(device.free_bytes), gib(device.total_bytes)));
    }
    if (report.devices.empty()) line("cuda", "none: " + report.device_note);

    const bool self_tests_passed = print_self_tests(report);

    if (!configured) {
      fmt::print("(give -c CONFIG to check what a run needs)\n");
      if (!self_tests_passed) throw CommandExit{1};
      return;
    }
    fmt::print("config {}\n", options->path.empty() ? "(defaults)" : options->path);
    const std::vector<std::string> missing = missing_for(config, report, self_tests_passed);
    for (const std::string& item : missing) line("MISSING", item);
    if (missing.empty()) line("ok", "everything this run needs is here");
    if (!missing.empty()) throw CommandExit{1};
  });
}

}  // namespace omnirm::cli
