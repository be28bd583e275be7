// Implementation of core/process_memory.h.
#include "omnirm/core/process_memory.h"

#include <fstream>
#include <string>

namespace omnirm {

namespace {

// A "Vm...:   123 kB" line of /proc/self/status, in bytes; 0 when absent.
int64_t status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

}  // namespace

int64_t resident_bytes() { return status_bytes("VmRSS"); }

int64_t peak_resident_bytes() { return status_bytes("VmHWM"); }

void reset_peak_resident() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

}  // namespace omnirm
