//===- cubin_info.h - Per-kernel resources read from a CUBIN --------------===//
//
// A CUBIN is an ELF64 file (EI_OSABI 0x41, e_machine EM_CUDA = 190). What
// ptxas -v prints is recoverable from it as follows (CUDA 13.0; registers,
// shared memory and frame matched ptxas -v for the test kernels on all 12
// architectures NVRTC 13.0 supports, sm_75 ... sm_121):
//
//   registers      EIATTR_REGCOUNT (0x2f) in the global .nv.info section:
//                  {symbol index, count}. Before sm_90 the .text.<kernel>
//                  section's sh_info bits 31:24 hold it too; from sm_90 on
//                  (CUDA 13 cubins) they are 0, so that is only a fallback.
//   shared memory  the size of the NOBITS section .nv.shared.<kernel>. From
//                  sm_90 on (cubins with a .nv.shared.reserved.0 section) it
//                  starts with the 1 KiB the system reserves per block, which
//                  ptxas -v does not count: 100 bytes of __shared__ give a
//                  1124-byte section. Kernels without __shared__ may have no
//                  section at all.
//   stack frame    EIATTR_FRAME_SIZE (0x11), per function (local arrays and
//                  spills); EIATTR_MIN_STACK_SIZE (0x12) / MAX_STACK_SIZE
//                  (0x23) give the cumulative stack including callees.
//   spills         not stored as byte counts. Attribute 0x55 in
//                  .nv.info.<kernel> (undocumented) lists one {1, offset}
//                  pair per spill instruction (4 to 16 bytes each): 2441
//                  pairs for 2844 bytes of float spill stores + 6920 bytes
//                  of loads; absent when ptxas reports no spills, also for
//                  local arrays. Exact bytes come only from ptxas's report:
//                  NVRTC 13 puts it in the log with --ptxas-options=-v
//                  (parsePtxasLog, mergePtxasLog).
//
// CUBINs come from bundles, i.e. from outside the trust boundary: every
// offset and size is bounds-checked, and a defect is kDataLoss, never a
// crash.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt::cuda {

struct KernelResources {
  std::string name;
  /// Registers per thread; -1 if the cubin does not say.
  int registers = -1;
  /// Static __shared__ bytes as ptxas -v counts them (reserved part removed).
  uint32_t sharedBytes = 0;
  /// The raw .nv.shared.<kernel> size and the reserved prefix inside it.
  uint32_t sharedSectionBytes = 0;
  uint32_t reservedSharedBytes = 0;
  /// Per-thread stack frame of the kernel itself (ptxas's "stack frame").
  uint32_t frameBytes = 0;
  /// Cumulative per-thread stack including callees (ptxas's "cumulative
  /// stack size"); the local memory the driver reserves per thread.
  uint32_t stackBytes = 0;
  /// Spill instructions (attribute 0x55, see above); 0 when absent.
  uint32_t spillInstructions = 0;
  /// Size of .nv.constant0.<kernel> (driver area + parameters).
  uint32_t constantBytes = 0;
  /// Bytes of kernel parameters (EIATTR_CBANK_PARAM_SIZE).
  uint32_t paramBytes = 0;
  /// Register limit ptxas worked under (EIATTR_MAXREG_COUNT); -1 if absent.
  int maxRegisters = -1;
  /// Named barriers used (EIATTR_NUM_BARRIERS).
  int barriers = 0;
  /// __launch_bounds__ / .maxntid (EIATTR_MAX_THREADS); zeros if none.
  uint32_t maxThreads[3] = {0, 0, 0};
  /// From a ptxas report (mergePtxasLog); -1 when none was merged.
  int64_t spillStoreBytes = -1;
  int64_t spillLoadBytes = -1;
};

struct CubinInfo {
  /// The SM the cubin was built for, e.g. 90 (from e_flags).
  int smVersion = 0;
  /// Entry functions (kernels), in symbol-table order.
  std::vector<KernelResources> kernels;
  const KernelResources *find(const std::string &name) const;
};

/// Parses |size| bytes at |data|. kDataLoss for anything that is not a
/// well-formed CUDA ELF64 (|what| names the image in the message).
Status parseCubin(const uint8_t *data, size_t size, CubinInfo *out,
                  const std::string &what = "cubin");

/// What ptxas -v reports for one function (ptxas or NVRTC log format).
struct PtxasKernelReport {
  std::string name;
  std::string arch; // "sm_90"; empty for non-entry functions
  int registers = -1;
  int64_t stackFrameBytes = -1, spillStoreBytes = -1, spillLoadBytes = -1;
  int64_t sharedBytes = 0; // "N bytes smem"; 0 when not mentioned
  int64_t cumulativeStackBytes = 0;
};

/// Parses ptxas -v output (or an NVRTC log compiled with
/// --ptxas-options=-v). Unrecognized lines are ignored.
std::vector<PtxasKernelReport> parsePtxasLog(const std::string &log);

/// Copies spill byte counts from |log| into the matching kernels of |info|.
void mergePtxasLog(const std::string &log, CubinInfo *info);

} // namespace dlc::rt::cuda
