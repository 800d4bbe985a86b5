//===- cuda_driver.h - The CUDA driver API, loaded at run time ------------===//
//
// The GPU backend talks to the driver API (libcuda.so.1, installed with the
// NVIDIA driver) through dlopen, never through a link-time dependency: a
// binary linked against libcuda does not even start on a machine without the
// driver. Only dlopen("libcuda.so.1") is tried, by soname, exactly as the
// driver installs it: never the toolkit's lib64/stubs/libcuda.so, which
// exists for linking only and fails every call (CUDA_ERROR_STUB_LIBRARY).
// $DLC_CUDA_DRIVER_LIBRARY overrides the name (tests use it to load a stub).
//
// "No GPU" is kUnavailable, told apart by the message:
//   libcuda.so.1 not found: no NVIDIA driver on this machine (dlopen: ...)
//   cuInit failed: CUDA_ERROR_STUB_LIBRARY (34): ... (a stub, not a driver)
//   cuInit failed: CUDA_ERROR_NO_DEVICE (100): ...
//   no CUDA device: cuDeviceGetCount returned 0
// Every other driver error is a Status naming the call, the kernel where
// there is one, and the CUresult by name and number, e.g.
//   cuLaunchKernel(kernel 'add', grid 4x1x1, block 256x1x1, 0 B shared):
//   CUDA_ERROR_INVALID_VALUE (1): invalid argument
//
// A CudaContext uses the device's primary context (what the CUDA runtime,
// cuBLAS and cuDNN share) and one non-blocking stream; every call makes the
// context current on the calling thread first. Not thread-safe: one
// CudaContext per thread, or external locking.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt::cuda {

using DevicePtr = uint64_t;

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int ccMajor = 0, ccMinor = 0;
  int multiprocessors = 0;
  int maxThreadsPerBlock = 0;
  int sharedPerBlock = 0;      // without opt-in
  int sharedPerBlockOptin = 0; // with cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE)
  size_t totalMemory = 0;
  int driverVersion = 0; // e.g. 13000
  /// "sm_90": the architecture to compile for.
  std::string arch() const;
};

/// What the driver says about a loaded kernel (cuFuncGetAttribute).
struct KernelAttributes {
  int registers = 0, sharedBytes = 0, localBytes = 0, constBytes = 0;
  int maxThreadsPerBlock = 0, ptxVersion = 0, binaryVersion = 0;
};

struct CudaModule; // a loaded module; owned by its CudaContext

struct CudaKernel {
  void *function = nullptr; // CUfunction
  std::string name;
  int staticSharedBytes = 0; // the kernel's own __shared__ arrays
};

/// An instantiated graph of captured work (CUgraph and CUgraphExec).
struct CudaGraph {
  void *graph = nullptr, *exec = nullptr;
};

struct LaunchConfig {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t sharedBytes = 0; // dynamic shared memory
  /// Blocks per thread-block cluster along x: the kernel's __cluster_dims__
  /// (the GPU takes it from the code; the emulation from here).
  uint32_t clusterBlocks = 1;
};

/// A block may use 48 KiB of shared memory without asking; beyond that, static
/// and dynamic together, the kernel must first raise its dynamic limit
/// (cuFuncSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES). Returns the dynamic
/// limit to set, or 0 when none is needed.
uint32_t dynamicSharedOptIn(int staticSharedBytes, uint32_t dynamicSharedBytes);

class CudaContext {
public:
  /// Opens device |ordinal|: loads the driver, cuInit, retains the primary
  /// context, creates a stream. kUnavailable when there is no usable GPU.
  static Status open(int ordinal, std::unique_ptr<CudaContext> *out);
  /// Whether open(0) could succeed, without keeping anything open.
  static Status probe();
  ~CudaContext();
  CudaContext(const CudaContext &) = delete;
  CudaContext &operator=(const CudaContext &) = delete;

  const DeviceInfo &device() const { return device_; }

  Status alloc(size_t bytes, DevicePtr *out);
  Status free(DevicePtr ptr);
  Status memset(DevicePtr dst, uint8_t value, size_t bytes);
  /// Copies are queued on the context's stream; |src| must stay valid and
  /// |dst| must not be read until synchronize() returns.
  Status copyToDevice(DevicePtr dst, const void *src, size_t bytes);
  Status copyToHost(void *dst, DevicePtr src, size_t bytes);
  Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes);
  Status synchronize();
  /// Runs |work|, which queues on the work stream, and sets |seconds| to the
  /// device's time from its first command to its last (a pair of events
  /// around it, waited for): the launch overhead of the host is not in it.
  Status timed(const std::function<Status()> &work, double *seconds);
  /// Free and total device memory.
  Status memoryInfo(size_t *freeBytes, size_t *totalBytes);
  /// Queues a copy from page-locked |src| on the upload stream, which runs
  /// beside the work stream (its kernels) until awaitUploads().
  Status upload(DevicePtr dst, const void *src, size_t bytes);
  /// Work queued on the work stream from now on waits, on the device, for
  /// every upload queued so far.
  Status awaitUploads();
  /// Page-locked host memory: copies from and to it run at the bus's full
  /// speed and asynchronously (pageable memory is staged by the driver).
  Status allocHost(size_t bytes, void **out);
  Status freeHost(void *p);

  /// Records what is queued on the stream from here to endCapture() into
  /// |*out|, an executable graph, instead of running it; launchGraph()
  /// replays it with one call. A failed capture leaves the stream usable.
  Status beginCapture();
  Status endCapture(CudaGraph *out);
  Status launchGraph(const CudaGraph &graph);
  void destroyGraph(CudaGraph &graph);

  /// Loads |cubin|; if it is empty or the driver rejects it (say, built for
  /// another GPU), JIT-compiles |ptx| instead. Errors carry the JIT log.
  Status loadModule(const std::string &name, const std::vector<uint8_t> &cubin,
                    const std::string &ptx, CudaModule **out);
  Status unloadModule(CudaModule *module);
  /// kNotFound when the module has no such kernel (extern "C" names).
  Status getKernel(CudaModule *module, const std::string &name, CudaKernel *out);
  Status kernelAttributes(const CudaKernel &kernel, KernelAttributes *out);

  /// Queues |kernel| with cuLaunchKernel's argument convention: args[i]
  /// points at the i-th parameter's value. Dynamic shared memory above 48
  /// KiB is opted into automatically.
  Status launch(const CudaKernel &kernel, const LaunchConfig &config, void **args);
  template <typename... Args>
  Status launchWith(const CudaKernel &kernel, const LaunchConfig &config, const Args &...args) {
    void *ptrs[] = {const_cast<void *>(static_cast<const void *>(&args))..., nullptr};
    return launch(kernel, config, ptrs);
  }

  /// The work stream (a CUstream), with the context made current on this
  /// thread: for libraries (cuBLASLt) that queue work on it themselves.
  Status workStream(void **out);

  struct Driver; // the dlsym'd function table (cuda_driver.cc)

private:
  CudaContext() = default;
  Status makeCurrent();
  const Driver *driver_ = nullptr;
  DeviceInfo device_;
  int deviceHandle_ = 0; // CUdevice
  void *context_ = nullptr, *stream_ = nullptr;
  void *uploadStream_ = nullptr, *uploaded_ = nullptr; // and its event
  void *timedStart_ = nullptr, *timedEnd_ = nullptr;    // timed()'s events, made on first use
  std::vector<std::unique_ptr<CudaModule>> modules_;
};

/// "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory" for a CUresult, from the
/// driver when loaded and usable, else from a built-in table.
std::string cudaErrorText(int result);

} // namespace dlc::rt::cuda
