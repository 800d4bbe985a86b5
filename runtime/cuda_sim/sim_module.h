//===- sim_module.h - A bundle's CUDA kernels emulated on the CPU ---------===//
//
// The cuda-sim device runs a bundle's programs through the CUDA executor
// (runtime/cuda/cuda_device.h) with the kernels compiled by the host C++
// compiler against the emulation (cuda_sim.h) instead of by NVRTC:
//
//   * All distinct kernel sources of the bundle become ONE translation unit,
//     each source in its own namespace (helpers of different kernels may
//     share names; the extern "C" entries keep their C names), followed by a
//     generated table of packed launchers (sim_module_abi.h). It is compiled
//     with `$DLC_CXX -std=c++17 -O1 -shared -fPIC -fvisibility=hidden` into
//     a shared object, cached in the kernel cache directory ($DLC_CACHE_DIR,
//     else ~/.cache/dlc/kernels) as sim-<SHA-256>.so, keyed by the source,
//     the command and the emulation's headers, written atomically, and
//     dlopen'ed. A cache hit costs a dlopen.
//   * The module leaves the emulation runtime undefined
//     (dlc::sim::detail::launchRaw, g_ctx, ...): it binds to the one copy in
//     the executable, which must export it. Link the executable against
//     dlc_runtime_cuda_sim, whose usage requirements add
//     -Wl,--dynamic-list=runtime/cuda_sim/exports.list (only dlc::sim::*
//     is exported). A single copy matters: memory red zones, launch
//     serialisation and the defaults set with setDefaultLaunchOptions are
//     process-wide state that the module and the executor must share.
//   * Memory is simMalloc'ed (256-byte red zones, checked after every
//     launch; fresh memory reads as NaN), so an out-of-bounds write past a
//     program's arena or a parameter, a divergent barrier or a __trap is a
//     Status naming the kernel.
//
// The compiler, the dlc source root (for runtime/cuda_sim/*.h) and the CUDA
// include directory (vector_types.h, cuda_fp16.h) are those of the build,
// overridable with $DLC_CXX, $DLC_CUDA_SIM_INCLUDE (the directory holding
// runtime/cuda_sim/cuda_sim.h) and $CUDA_HOME.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/cuda_device.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::sim {
struct LaunchOptions; // cuda_sim_host.h
}

namespace dlc::rt {

struct SimOptions {
  /// Compile and run the CUDA code of bundles that this machine's dlc did
  /// not sign (runtime/cuda/code_trust.h): the user vouches for them.
  bool trustAnyBundle = false;
  /// The order the emulation runs blocks and threads in: "forward",
  /// "reverse" or "random:SEED" (cuda_sim_host.h's Schedule); empty: the
  /// environment's DLC_SIM_SCHEDULE, else forward. Another order changes
  /// what float atomics add first, as a GPU's block order does.
  std::string schedule;
};

/// The CUDA executor on the emulation. Fails (kUnavailable) when no host
/// compiler or header is found; compiling happens when a session attaches a
/// bundle, and only for a bundle signed here unless |options| trust any.
Status createCudaSimDevice(std::unique_ptr<Device> *out, const SimOptions &options = {});

namespace cuda {

/// How emulated kernels are compiled.
struct SimToolchain {
  std::string compiler;    // a command: "/usr/bin/c++", "ccache g++"
  std::string sourceRoot;  // holds runtime/cuda_sim/cuda_sim.h
  std::string cudaInclude; // holds vector_types.h, cuda_fp16.h
  std::string cacheDirectory; // "" : a temporary directory, removed after loading
  /// The GPU architecture kernels are compiled as for ("sm_90": they see
  /// DLC_SIM_ARCH 900): $DLC_SIM_ARCH, so that code written for older GPUs
  /// (no clusters) runs under the emulation too.
  std::string arch = "sm_90";
  /// What the build baked in, with the environment's overrides.
  static SimToolchain fromEnvironment();
  /// kUnavailable naming what is missing (the compiler, a header).
  Status check() const;
  /// The shell command compiling |source| into |output|.
  std::string command(const std::string &source, const std::string &output) const;
};

struct SimKernelSource {
  std::string entry;  // the extern "C" __global__ function
  std::string source; // one self-contained translation unit
  /// The source's other extern "C" functions (a kernel's later stages),
  /// kernels of the module too, after |entry| (SimModule::launch's indices
  /// count every entry of every source, in order).
  std::vector<std::string> otherEntries = {};
};

/// A loaded module of emulated kernels.
class SimModule {
public:
  /// Compiles (or finds in the cache) and loads |kernels|. A compile error
  /// names the kernel it is in and carries the compiler's first lines.
  static Status build(const std::vector<SimKernelSource> &kernels, const SimToolchain &toolchain,
                      std::unique_ptr<SimModule> *out);
  ~SimModule();
  SimModule(const SimModule &) = delete;
  SimModule &operator=(const SimModule &) = delete;

  /// Runs kernel |index| (in build order) to completion, in the order of
  /// blocks and threads |options| give (null: the process-wide ones a test
  /// harness may set).
  Status launch(size_t index, const LaunchConfig &config, void **args,
                const dlc::sim::LaunchOptions *options = nullptr) const;
  /// The shared object, and whether it came from the cache.
  const std::string &path() const { return path_; }
  bool cached() const { return cached_; }

private:
  SimModule() = default;
  /// dlopens path_ and checks its table against |kernels|; *missingSymbols
  /// when the executable does not export the emulation.
  Status load(const std::vector<SimKernelSource> &kernels, bool *missingSymbols);
  void *handle_ = nullptr;
  const void *table_ = nullptr; // DlcSimModuleTable
  std::string path_;
  bool cached_ = false;
};

/// The translation unit SimModule::build compiles (for tests and debugging).
std::string simModuleSource(const std::vector<SimKernelSource> &kernels);

} // namespace cuda
} // namespace dlc::rt
