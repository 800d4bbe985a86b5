//===- roofline.h - How long a program should take on a given GPU ---------===//
//
// A roofline model: each kernel takes the device's time, a fixed gap plus
// the slowest of its arithmetic at the peak of the units it runs on, its
// memory traffic at the device's bandwidth (both scaled by the SMs its grid
// fills) and its float atomics at the rate L2 serves them; issued from the
// host rather than replayed from a graph, the host's time to issue it is
// the floor. The counts come from the bundle (KernelCost, written by the
// compiler); the peaks from the table of devices in roofline.cc. It answers
// "which GPU for this model" and "where does the step go" before anything
// runs; the GPU check compares it with measurements.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"

#include <string>
#include <vector>

namespace dlc::rt {

struct DeviceSpec {
  std::string name;        // what --device takes: "h200"
  std::string description; // "NVIDIA H200 SXM, 141 GB HBM3e"
  int sms = 0;
  double bandwidth = 0;    // device memory, bytes/s (datasheet)
  double peak[4] = {};     // flop/s by fb::ComputeUnit (dense, datasheet)
  double issueSeconds = 0; // the host's time to issue one launch, memset or copy
  double gapSeconds = 0;   // the device's time between two dependent kernels
  double graphLaunchSeconds = 0; // the host's time to launch a captured graph
  /// Float atomic adds to device memory per second, as a kernel whose
  /// blocks all add into one weight gradient gets them (the same addresses
  /// from every block: serialized in L2).
  double atomicsPerSecond = 0;
  double hostBandwidth = 0;    // host <-> device copies from page-locked memory, bytes/s
  double hostCopySeconds = 0;  // a host <-> device copy's fixed cost
};

/// The devices --device knows, by name.
const std::vector<DeviceSpec> &knownDevices();
/// The device called |name|, or null.
const DeviceSpec *findDevice(const std::string &name);
/// "h200, h100, a100, orin".
std::string knownDeviceNames();

struct KernelEstimate {
  std::string kernel;
  uint64_t flops = 0, bytes = 0, atomics = 0;
  fb::ComputeUnit unit = fb::ComputeUnit::fp32;
  double fill = 1;        // the fraction of the SMs its grid occupies
  double computeSeconds = 0, memorySeconds = 0, atomicSeconds = 0;
  double seconds = 0;     // predicted, overheads included
  int launches = 0;       // launches, memsets and copies it issues
  std::string bound;      // "compute", "memory", "atomics" or "launch": what decides its time
  bool counted = true;    // false: the bundle has no cost for it (time is overhead only)
  /// Its alternative execution (Kernel.alternative), which this model finds
  /// faster than its first, as the device's measurement would.
  bool alternative = false;
};

/// How the runtime executes a program's commands: issued one by one from
/// the host (a program's first run, profiled runs), or replayed as one
/// captured CUDA graph (every later run; runtime/cuda/cuda_device.h).
enum class Executor { issued, graph };

struct ProgramEstimate {
  std::string program;
  Executor executor = Executor::graph;
  std::vector<KernelEstimate> kernels;
  double kernelSeconds = 0;   // the kernels' sum (and the graph's launch)
  double uploadSeconds = 0;   // the inputs: staged, then up the bus
  double hostCopySeconds = 0; // the outputs down, the step up
  /// One run. A replayed run's inputs went up during the run before (the
  /// trainer stages the next batch while a step runs): only the part of the
  /// upload that outlasts the kernels counts.
  double seconds = 0;
  uint64_t flops = 0, bytes = 0;
};

/// The prediction for one run of |program| on |device|.
ProgramEstimate estimateProgram(const fb::Program &program, const DeviceSpec &device,
                                Executor executor = Executor::graph);

} // namespace dlc::rt
