//===- cuda_sim_host.h - Launching emulated kernels and checking them ----===//
//
// The host side of the CUDA emulation (included by cuda_sim.h; host code that
// only launches may include cuda_sim.h too). Launches are serialised process
// wide: one block of one kernel runs at a time. Nothing here prints or aborts;
// every failure, including a kernel's own misbehaviour (divergent barrier,
// exited lane in a shuffle mask, __trap, red-zone overwrite), is a Status
// naming the kernel.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_HOST_H
#define DLC_CUDA_SIM_HOST_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <vector_types.h>

#include "runtime/status.h"

namespace dlc::sim {

/// Order in which ready threads run within each barrier interval. kReverse and
/// kRandom also permute the block order (see LaunchOptions::reorderBlocks).
enum class Schedule : uint8_t { kForward, kReverse, kRandom };
const char *scheduleName(Schedule schedule);

struct LaunchOptions {
  Schedule schedule = Schedule::kForward;
  uint64_t seed = 1;          // kRandom only
  bool reorderBlocks = true;  // blocks too, exposing inter-block dependences
  bool poisonShared = true;   // static + dynamic shared memory, per block
  bool checkRedZones = true;  // every live simMalloc buffer, after the launch
  size_t maxDynamicShared = 227 * 1024; // sm_90 opt-in maximum per block
  /// Blocks per thread-block cluster, along x: the launch's shape, which the
  /// GPU takes from the kernel's __cluster_dims__ (dividing gridDim.x).
  uint32_t clusterBlocks = 1;
};

/// Counters of the most recent launch on any thread.
struct LaunchStats {
  uint64_t blocks = 0, threads = 0, switches = 0, barriers = 0, warpOps = 0;
};

/// Options used by launch() and launchPacked() when none are given; test
/// harnesses set them once to run a whole model under another schedule.
LaunchOptions defaultLaunchOptions();
void setDefaultLaunchOptions(const LaunchOptions &options);
LaunchStats lastLaunchStats();

namespace detail {
struct SharedRange {
  unsigned char *begin, *end;
};
using Body = void (*)(const void *ctx);
/// Runs body(ctx) as every thread of every block.
rt::Status launchRaw(const char *name, Body body, const void *ctx, dim3 grid, dim3 block,
                     size_t dynamicShared, const LaunchOptions &options,
                     SharedRange staticShared);
} // namespace detail
} // namespace dlc::sim

// The linker defines these for the module (executable or shared object) that
// holds the __shared__ section; weak, so modules without __shared__ link too.
extern "C" char __start_dlc_sim_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_dlc_sim_shared[] __attribute__((weak, visibility("hidden")));

namespace dlc::sim {
namespace detail {
// Internal linkage: each module passes its own section. Launch from the module
// that holds the kernels.
static inline SharedRange moduleSharedRange() {
  return {reinterpret_cast<unsigned char *>(__start_dlc_sim_shared),
          reinterpret_cast<unsigned char *>(__stop_dlc_sim_shared)};
}

template <class F, F Kernel> struct PackedThunk;
template <class... P, void (*Kernel)(P...)> struct PackedThunk<void (*)(P...), Kernel> {
  static void call(void **args) { callWith(args, std::index_sequence_for<P...>{}); }
  template <size_t... I> static void callWith(void **args, std::index_sequence<I...>) {
    Kernel(*static_cast<std::decay_t<P> *>(args[I])...);
  }
};
} // namespace detail

/// Launches |kernel| (a __global__ function) like kernel<<<grid, block,
/// dynamicShared>>>(args...). Arguments convert to the parameter types.
template <class... P, class... A>
rt::Status launchWith(const LaunchOptions &options, const char *name, void (*kernel)(P...),
                      dim3 grid, dim3 block, size_t dynamicShared, A &&...args) {
  static_assert(sizeof...(P) == sizeof...(A), "wrong number of kernel arguments");
  struct Pack {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> args;
  };
  const Pack pack{kernel, std::tuple<std::decay_t<P>...>(static_cast<std::decay_t<P>>(args)...)};
  detail::Body body = [](const void *ctx) {
    const Pack *p = static_cast<const Pack *>(ctx);
    std::apply(p->kernel, p->args); // each thread gets its own parameter copies
  };
  return detail::launchRaw(name, body, &pack, grid, block, dynamicShared, options,
                           detail::moduleSharedRange());
}

template <class... P, class... A>
rt::Status launch(const char *name, void (*kernel)(P...), dim3 grid, dim3 block,
                  size_t dynamicShared, A &&...args) {
  return launchWith(defaultLaunchOptions(), name, kernel, grid, block, dynamicShared,
                    std::forward<A>(args)...);
}

/// The cuLaunchKernel shape for generated host glue: |args| holds one pointer
/// per kernel parameter. DLC_SIM_PACKED(k) makes the thunk for kernel k.
using PackedKernel = void (*)(void **args);
#define DLC_SIM_PACKED(kernel)                                                 \
  (&::dlc::sim::detail::PackedThunk<decltype(&kernel), &kernel>::call)

inline rt::Status launchPacked(const char *name, PackedKernel kernel, void **args, dim3 grid,
                               dim3 block, size_t dynamicShared,
                               const LaunchOptions &options = defaultLaunchOptions()) {
  struct Pack {
    PackedKernel kernel;
    void **args;
  } const pack{kernel, args};
  detail::Body body = [](const void *ctx) {
    const Pack *p = static_cast<const Pack *>(ctx);
    p->kernel(p->args);
  };
  return detail::launchRaw(name, body, &pack, grid, block, dynamicShared, options,
                           detail::moduleSharedRange());
}

//===----------------------------------------------------------------------===//
// Emulated device memory: red zones and poison.
//===----------------------------------------------------------------------===//

/// How compareSchedules reads a buffer (tolerance applies to float kinds).
enum class ElemKind : uint8_t { kRaw, kF32, kF64, kF16, kBF16, kI32 };

/// Bytes of poisoned red zone before and after every allocation.
constexpr size_t kRedZoneBytes = 256;
/// Fill of never-written outputs: NaN in f16/bf16/f32/f64, -1 in integers.
constexpr unsigned char kUnwrittenByte = 0xFF;

/// cudaMalloc for emulated buffers: 256-byte aligned, guarded by red zones
/// that every launch (and checkRedZones) verifies. |name| appears in reports.
rt::Status simMalloc(void **out, size_t bytes, const char *name, ElemKind kind = ElemKind::kRaw);
rt::Status simFree(void *ptr);
/// Verifies and re-poisons the red zones of every live allocation; the first
/// damage found is reported: buffer, side, offset relative to its start.
rt::Status checkRedZones(const char *context);

/// Fills with kUnwrittenByte, so elements a kernel never stores stay NaN.
void fillUnwritten(void *ptr, size_t bytes);
/// Number of |elemSize|-byte elements still entirely kUnwrittenByte; the
/// first one's index goes to |firstIndex| (SIZE_MAX when none).
size_t countUnwritten(const void *ptr, size_t bytes, size_t elemSize,
                      size_t *firstIndex = nullptr);

/// RAII owner of one simMalloc buffer (check status() after constructing).
class SimBuffer {
public:
  SimBuffer(size_t bytes, const char *name, ElemKind kind = ElemKind::kRaw) : bytes_(bytes) {
    status_ = simMalloc(&ptr_, bytes, name, kind);
  }
  ~SimBuffer() {
    if (ptr_) (void)simFree(ptr_);
  }
  SimBuffer(const SimBuffer &) = delete;
  SimBuffer &operator=(const SimBuffer &) = delete;

  const rt::Status &status() const { return status_; }
  void *data() const { return ptr_; }
  template <class T> T *as() const { return static_cast<T *>(ptr_); }
  size_t bytes() const { return bytes_; }
  void fillUnwritten() { ::dlc::sim::fillUnwritten(ptr_, bytes_); }
  size_t countUnwritten(size_t elemSize, size_t *firstIndex = nullptr) const {
    return ::dlc::sim::countUnwritten(ptr_, bytes_, elemSize, firstIndex);
  }

private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
  rt::Status status_;
};

//===----------------------------------------------------------------------===//
// Running the same launches under several schedules.
//===----------------------------------------------------------------------===//
struct CompareOptions {
  /// Empty: forward, reverse, random (seed 1), random (seed 2).
  std::vector<LaunchOptions> schedules;
  /// For float kinds: |a - b| <= absTol + relTol * max(|a|, |b|) is equal
  /// (float atomics legitimately reassociate). Other kinds compare bytes.
  double relTol = 0, absTol = 0;
};

struct ScheduleDiff {
  bool differ = false;
  std::string report; // which schedule, buffer, first element, how many
};

/// Snapshots every live simMalloc buffer, then for each schedule restores the
/// snapshot and calls |run| (which launches with the options it is given) and
/// compares all buffers with the first schedule's results. Afterwards the
/// buffers hold the first schedule's results. A missing __syncthreads shows up
/// as a difference (use shapes with >= 2 loop trips and ragged edges).
rt::Status compareSchedules(const std::function<rt::Status(const LaunchOptions &)> &run,
                            ScheduleDiff *diff, const CompareOptions &options = {});

} // namespace dlc::sim

#endif // DLC_CUDA_SIM_HOST_H
