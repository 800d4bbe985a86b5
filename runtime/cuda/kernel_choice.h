//===- kernel_choice.h - Measured choices between a kernel's alternatives --===//
//
// Under --kernels auto a bundle may carry two ways of running a kernel: dlc's
// generated launch and a vendor library's call (bundle.fbs, Kernel.cuda and
// Kernel.alternative). The compiler's cost model put one first; the device
// times both on a program's first run and keeps the faster (cuda_device.cc).
// Verdicts are cached on disk beside the kernel cache, one file per kernel
// and device, named by the SHA-256 of everything that decides which is
// faster: the device (its name, architecture, driver and library versions)
// and the kernel (its CUDA source, both executions, the shapes and types of
// the buffers they touch). A file is one line,
//
//   DLCCHOICE1 <key> compiled|alternative <seconds of each>
//
// written atomically. A file that does not parse, or names another key, is
// ignored (measured again, then overwritten); failing to write one never
// fails a run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"

#include <optional>
#include <string>

namespace dlc::rt::cuda {

/// Which of a kernel's executions runs it.
enum class KernelChoice { kCompiled, kAlternative };

/// How a device picks between a kernel's executions: the compiler's
/// (Kernel.cuda), the other (to test it), or the faster measured.
enum class ChoicePolicy { kCompiled, kAlternative, kMeasured };

/// $DLC_KERNEL_CHOICE ("compiled", "alternative" or "measured") when set,
/// else |fallback|; kInvalidArgument for another value.
Status choicePolicyFromEnvironment(ChoicePolicy fallback, ChoicePolicy *out);

struct ChoiceVerdict {
  KernelChoice choice = KernelChoice::kCompiled;
  double compiledSeconds = 0, alternativeSeconds = 0; // per run, as measured
};

class ChoiceCache {
public:
  /// A cache in |directory| (created on the first store); "" disables it.
  explicit ChoiceCache(std::string directory);

  /// 64 hex digits naming the choice for kernel |k| of |program| on the
  /// device |deviceIdentity| (CudaBackend::identity).
  static std::string key(const std::string &deviceIdentity, const Bundle &bundle,
                         const fb::Program &program, const fb::Kernel &k);

  /// The cached verdict, or none (a miss, a disabled cache, a file that
  /// fails its checks).
  std::optional<ChoiceVerdict> load(const std::string &key) const;
  Status store(const std::string &key, const ChoiceVerdict &verdict) const;

  std::string entryPath(const std::string &key) const;

private:
  std::string directory_;
};

} // namespace dlc::rt::cuda
