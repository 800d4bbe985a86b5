//===- cuda_device.h - Bundles run as CUDA kernels ------------------------===//
//
// One executor runs a bundle's programs from their CUDA launch tables
// (runtime/schemas/bundle.fbs: Kernel.cuda) on a CudaBackend, which supplies
// memory, copies and launches:
//   - the GPU: the CUDA driver (cuda_driver.h), kernels from the bundle's
//     CUBIN for the device's architecture, else its PTX (JIT), else the
//     source compiled with NVRTC (cached);
//   - the emulation (runtime/cuda_sim/sim_module.h): the same sources
//     compiled with the host C++ compiler and run on the CPU with CUDA
//     block and warp semantics, for tests on machines without a GPU.
//
// Memory: one arena allocation per program (Temp/Input/Output buffers at
// their offsets), parameter storage allocated once per device and shared by
// every program (runtime/device.h says when it is copied), views alias their
// base, fused buffers have no storage. Inputs go up through one of two
// slots (page-locked on the host, allocated on the device) on an upload
// stream, so the next run's inputs travel while a run computes; a run
// copies its slot into the arena, zeroes the buffers a launch accumulates into,
// launches every kernel (a kernel without CUDA code is a copy: a
// device-to-device memcpy) on one stream, and copies the outputs back into
// page-locked host buffers the program owns: the only host synchronisation
// of a step. The first run issues each command; later runs replay the
// same commands, captured once, as one CUDA graph (the launches' arguments
// never change between runs; the step lives in device memory). Profiled
// and --check-numerics runs issue each command and synchronize after it.
// Every failure is a Status naming the kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/cuda_driver.h"
#include "runtime/cuda/kernel_choice.h"
#include "runtime/cuda/convolution.h"
#include "runtime/cuda/lstm.h"
#include "runtime/cuda/matmul.h"
#include "runtime/device.h"

#include <memory>
#include <string>

namespace dlc::rt {

/// The GPU |ordinal| through the CUDA driver. kUnavailable (with
/// CudaContext::probe's message) when there is no usable GPU.
Status createCudaDevice(int ordinal, std::unique_ptr<Device> *out);

namespace cuda {

/// A backend's handle of one loaded kernel entry.
using KernelHandle = const void *;
/// A backend's handle of a captured graph.
using GraphHandle = void *;
/// A backend's handle of a prepared library call.
using LibraryHandle = void *;

/// Memory, copies and launches of one way to run CUDA kernels. Device
/// addresses are opaque 64-bit values; copies and launches are queued in
/// order and may complete asynchronously until synchronize().
class CudaBackend {
public:
  virtual ~CudaBackend() = default;
  /// "cuda" or "cuda-sim": the device's name.
  virtual std::string name() const = 0;
  /// What decides which of two executions is faster here: the device, its
  /// driver and libraries (a key of runtime/cuda/kernel_choice.h).
  virtual std::string identity() const = 0;
  /// How a kernel's two executions are chosen unless $DLC_KERNEL_CHOICE says.
  virtual ChoicePolicy defaultChoicePolicy() const = 0;
  /// |what| names the allocation in errors ("arena of program 'grad'").
  virtual Status alloc(size_t bytes, const std::string &what, DevicePtr *out) = 0;
  virtual Status free(DevicePtr ptr) = 0;
  virtual Status memset(DevicePtr dst, uint8_t value, size_t bytes) = 0;
  virtual Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) = 0;
  virtual Status copyToHost(void *dst, DevicePtr src, size_t bytes) = 0;
  virtual Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) = 0;
  virtual Status synchronize() = 0;
  /// Runs |work| (what it queues) and sets |seconds| to the time the device
  /// took for it, having waited for it: a GPU's events, the emulation's clock.
  virtual Status timed(const std::function<Status()> &work, double *seconds) = 0;
  /// Makes every kernel with CUDA code in |bundle| launchable (compiling or
  /// loading each distinct source once). Called once, before kernel().
  virtual Status loadKernels(const Bundle &bundle) = 0;
  /// The handle of function |entry| (its CudaLaunch's or a stage's) of
  /// |kernel|'s source, in the loaded bundle.
  virtual Status kernel(const fb::Kernel &kernel, const std::string &entry, KernelHandle *out) = 0;
  /// Queues |kernel| with cuLaunchKernel's argument convention (|args|
  /// ends with a null pointer; each argument is a 64-bit value).
  virtual Status launch(KernelHandle kernel, const LaunchConfig &config, void **args) = 0;
  /// Queues a copy from page-locked |src| on a second queue that runs beside
  /// the kernels until awaitUploads(), after which queued work waits for it.
  virtual Status upload(DevicePtr dst, const void *src, size_t bytes) = 0;
  virtual Status awaitUploads() = 0;
  /// Page-locked host memory, for copies at the bus's full speed.
  virtual Status allocHost(size_t bytes, void **out) = 0;
  virtual void freeHost(void *p) = 0;
  /// From beginCapture() to endCapture(), memsets, device copies and
  /// launches are recorded into a graph (their arguments' values as they
  /// are now), not run; host copies are refused. replay() queues the
  /// recorded work again, in order, with one call.
  virtual Status beginCapture() = 0;
  virtual Status endCapture(GraphHandle *out) = 0;
  virtual Status replay(GraphHandle graph) = 0;
  virtual void destroyGraph(GraphHandle graph) = 0;
  /// Prepares the library routine |call| (matmul.h) for the runs of a
  /// program: the GPU chooses cuBLASLt's algorithm and allocates the
  /// workspace. Not while capturing. The handle lives as long as the backend.
  virtual Status prepareMatmul(const MatmulCall &call, LibraryHandle *out) = 0;
  /// Queues a prepared matmul on buffers at these device addresses (|bias|
  /// 0 when the call has none), like a launch: capturable into a graph.
  virtual Status matmul(LibraryHandle call, DevicePtr a, DevicePtr b, DevicePtr bias, DevicePtr d) = 0;
  /// Likewise for the routine "convolution" (convolution.h): the GPU
  /// chooses cuDNN's algorithm.
  virtual Status prepareConvolution(const ConvolutionCall &call, LibraryHandle *out) = 0;
  virtual Status convolution(LibraryHandle call, const ConvolutionBuffers<DevicePtr> &buffers) = 0;
  /// Likewise for the routine "lstm" (lstm.h): the GPU sets up cuDNN's RNN
  /// and the device memory it keeps.
  virtual Status prepareLstm(const LstmCall &call, LibraryHandle *out) = 0;
  virtual Status lstm(LibraryHandle call, const LstmBuffers<DevicePtr> &buffers) = 0;
};

/// A device running bundles on |backend|.
std::unique_ptr<Device> createDeviceOn(std::unique_ptr<CudaBackend> backend);

/// kInvalidArgument, saying how to recompile, for a bundle compiled without
/// the cuda target.
Status checkHasCudaCode(const Bundle &bundle);

} // namespace cuda
} // namespace dlc::rt
