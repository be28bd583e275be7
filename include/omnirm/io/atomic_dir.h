// Crash-safe writes. A kill at any moment leaves either the previous state or the complete
// new one, never a half-written file or directory under the final name.
#pragma once

#include <string>

namespace omnirm::io {

// Builds a directory under a temporary name ("<final>.tmp-<pid>") and renames it into place.
class AtomicDirectory {
 public:
  explicit AtomicDirectory(std::string final_path);
  ~AtomicDirectory();  // removes the temporary directory unless committed
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  // The temporary directory, and the path of `name` inside it, for writers to fill.
  const std::string& path() const { return temp_path_; }
  std::string file(const std::string& name) const;
  // fsyncs every file and the directory, renames it to the final path, fsyncs the parent.
  void commit();

  const std::string& final_path() const { return final_path_; }

 private:
  std::string final_path_;
  std::string temp_path_;
  bool committed_ = false;
};

// Writes `content` to `path` via a temporary file, fsync and rename.
void write_file_atomic(const std::string& path, const std::string& content);

// True for the temporary names AtomicDirectory and write_file_atomic use.
bool is_temporary_name(const std::string& filename);

void fsync_path(const std::string& path);

}  // namespace omnirm::io
