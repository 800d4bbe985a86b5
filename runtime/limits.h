//===- limits.h - How much the runtime allocates, and the limits it refuses past -===//
//
// Every size that comes from a file (a bundle's buffers and parameters, a
// checkpoint, a data file, a command-line number) is checked against these
// before memory is allocated for it, so that a hostile or mistaken input is
// an error naming the figure instead of std::bad_alloc or the OOM killer.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <string>

namespace dlc::rt {

/// The most elements one tensor may have (2^40: the compiler's limit too).
constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

/// The largest window a convolution or pooling may span along one axis
/// (dilation * (size - 1) + 1) and the largest stride: far beyond real
/// models (DeepLab's widest atrous window spans 37), far below where
/// padding arithmetic in 32-bit integers (oneDNN's included) could overflow.
constexpr int64_t kMaxWindowExtent = int64_t(1) << 16;

/// Physical memory of this machine, bounded by the process's address-space
/// limit (ulimit -v), the container's memory limit (cgroup v2 memory.max)
/// and $DLC_MEMORY_LIMIT (bytes), when set.
uint64_t hostMemoryBytes();

/// Fails with kResourceExhausted, naming |what| and both figures, when
/// |bytes| is more than |limit|.
Status checkFits(uint64_t bytes, uint64_t limit, const std::string &what,
                 const std::string &hint = "");

/// "1.5 GiB", "312 MiB", "4096 bytes".
std::string byteString(uint64_t bytes);

} // namespace dlc::rt
