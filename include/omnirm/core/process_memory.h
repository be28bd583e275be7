// This process's resident memory as Linux reports it in /proc/self/status: the current
// resident set (VmRSS) and its peak (VmHWM), which can be restarted from the current size.
// The benchmarks measure with these. VmHWM rather than getrusage's ru_maxrss: Linux carries
// ru_maxrss across fork + exec, so a child would report its parent's peak.
#pragma once

#include <cstdint>

namespace omnirm {

int64_t resident_bytes();       // VmRSS; 0 where /proc/self/status lacks it
int64_t peak_resident_bytes();  // VmHWM; 0 where /proc/self/status lacks it
// Makes VmHWM restart from the current resident size (Linux 4.0 and later).
void reset_peak_resident();

}  // namespace omnirm
