//===- kernel_cache.h - On-disk cache of NVRTC output ---------------------===//
//
// Compiling a model's kernels with NVRTC costs tens of milliseconds each; the
// cache makes every run after the first read them from disk instead. An
// entry is one (program, architecture) compilation, keyed by the SHA-256 of
// everything that determines NVRTC's output: the source, the embedded
// headers, include directories, options, the architecture and the compiler
// identity (Nvrtc::compilerId). Headers reached through -I are identified by
// their directory only, so embed headers that may change under the same path.
//
// Entries live in $DLC_CACHE_DIR, else ~/.cache/dlc/kernels, one file each:
//
//   "DLCKERN1" | key digest (32) | u64 sizes of arch, ptx, cubin, log |
//   SHA-256 of the payload (32) | arch | ptx | cubin | log
//
// written with writeFileAtomically, so concurrent processes and crashes
// leave whole entries only. An entry that fails its checks (truncated, bit
// flips, another key's file) is reported as kDataLoss by load(), removed,
// and recompiled by compile(); failing to write the cache never fails a
// compile (the failure is counted in stats()).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/nvrtc.h"
#include "runtime/status.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt::cuda {

struct KernelCacheStats {
  uint64_t hits = 0, misses = 0, corrupt = 0, stores = 0, storeFailures = 0;
};

class KernelCache {
public:
  /// A cache in |directory|, created on the first store. An empty
  /// |directory| disables caching: compile() then always compiles.
  explicit KernelCache(std::string directory);

  /// $DLC_CACHE_DIR, else $HOME/.cache/dlc/kernels, else "".
  static std::string defaultDirectory();

  /// 64 hex digits identifying |program| compiled for |arch| by |compilerId|.
  static std::string key(const NvrtcProgram &program, const std::string &arch,
                         const std::string &compilerId);

  const std::string &directory() const { return directory_; }
  std::string entryPath(const std::string &key) const;

  /// kNotFound on a miss; kDataLoss for a corrupted entry, which is removed.
  Status load(const std::string &key, CompiledImage *out) const;
  Status store(const std::string &key, const CompiledImage &image) const;

  /// Nvrtc::compile / compileBatch through the cache: hits are read,
  /// misses and corrupted entries compiled and stored. Compile errors are
  /// not cached.
  Status compile(const Nvrtc &nvrtc, const NvrtcProgram &program,
                 const std::vector<std::string> &archs, CompiledProgram *out);
  Status compileBatch(const Nvrtc &nvrtc, const std::vector<NvrtcProgram> &programs,
                      const std::vector<std::string> &archs, int threads,
                      std::vector<CompiledProgram> *out, std::vector<Status> *failures = nullptr);

  KernelCacheStats stats() const;

private:
  std::string directory_;
  mutable std::atomic<uint64_t> hits_{0}, misses_{0}, corrupt_{0}, stores_{0}, storeFailures_{0};
};

} // namespace dlc::rt::cuda
