// Implementation of io/atomic_dir.h with POSIX fsync/rename.
#include "omnirm/io/atomic_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "omnirm/core/error.h"

namespace omnirm::io {

namespace fs = std::filesystem;

namespace {

std::string temp_suffix() { return ".tmp-" + std::to_string(::getpid()); }

}  // namespace

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw std::runtime_error("cannot open " + path + " to fsync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("fsync " + path + " failed: " + std::strerror(errno));
}

bool is_temporary_name(const std::string& filename) {
  return filename.find(".tmp-") != std::string::npos;
}

AtomicDirectory::AtomicDirectory(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(final_path_ + temp_suffix()) {
  fs::remove_all(temp_path_);
  std::error_code error;
  fs::create_directories(temp_path_, error);
  if (error) {
    throw UserError("cannot create " + temp_path_ + ": " + error.message() +
                    "; check train.output_dir is writable");
  }
}

AtomicDirectory::~AtomicDirectory() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(temp_path_, ignored);
  }
}

std::string AtomicDirectory::file(const std::string& name) const {
  return (fs::path(temp_path_) / name).string();
}

void AtomicDirectory::commit() {
  for (const auto& entry : fs::directory_iterator(temp_path_)) {
    if (entry.is_regular_file()) fsync_path(entry.path().string());
  }
  fsync_path(temp_path_);
  if (fs::exists(final_path_)) fs::remove_all(final_path_);
  fs::rename(temp_path_, final_path_);
  const fs::path parent = fs::path(final_path_).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());  // "out" lives in the working directory
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string temp = path + temp_suffix();
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError("cannot write " + temp + ": check the directory is writable");
    out << content;
    if (!out) throw UserError("writing " + temp + " failed: disk full?");
  }
  fsync_path(temp);
  fs::rename(temp, path);
  const fs::path parent = fs::path(path).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

}  // namespace omnirm::io
