// Implementation of train/progress.h.
#include "omnirm/train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "omnirm/core/error.h"

namespace omnirm::train {

MetricsLog::MetricsLog(const std::string& path, const std::string& event_dir) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  out_.open(path, std::ios::app);
  if (!out_) throw UserError("cannot write metrics to " + path + "; check train.output_dir");
  if (!event_dir.empty()) events_.emplace(event_dir);
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << '\n';
  out_.flush();
  if (!events_) return;
  std::vector<io::ScalarValue> scalars;
  for (const auto& [key, value] : record.items()) {
    if (key != "step" && value.is_number()) {
      scalars.push_back({key, static_cast<float>(value.get<double>())});
    }
  }
  const auto step = record.find("step");
  events_->write_scalars(step != record.end() && step->is_number() ? step->get<int64_t>() : 0,
                         scalars);
}

void MetricsLog::mark_resume(int64_t first_step) {
  if (events_) events_->write_session_start(first_step);
}

ProgressLine::ProgressLine(int64_t total_steps, int64_t first_step, int64_t print_every,
                           std::string prefix)
    : total_steps_(total_steps),
      first_step_(first_step),
      print_every_(std::max<int64_t>(1, print_every)),
      prefix_(std::move(prefix)),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(int64_t step, double loss, double accuracy, double tokens_per_second) {
  const bool last = step == total_steps_;
  if (!terminal_ && !last && step % print_every_ != 0) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = elapsed / double(std::max<int64_t>(1, step - first_step_));
  const auto eta = static_cast<int64_t>(per_step * double(total_steps_ - step));
  const std::string text =
      fmt::format("{}step {}/{}  loss {:.4f}  acc {:.3f}  {:.0f} tok/s  ETA {}m{:02d}s", prefix_,
                  step, total_steps_, loss, accuracy, tokens_per_second, eta / 60, eta % 60);
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    line_open_ = true;
    if (last) interrupt();
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::interrupt() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
}

}  // namespace omnirm::train
