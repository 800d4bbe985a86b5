//===- roofline.h - How long a program should take on a given GPU ---------===//
//
// A roofline model: each kernel takes the longest of the host's time to
// issue it and the device's: a fixed gap plus the slowest of its arithmetic
// at the peak of the units it runs on and its memory traffic at the
// device's bandwidth (both scaled by the SMs its grid fills) and its float
// atomics at the rate L2 serves them. The counts
// come from the bundle (KernelCost, written by the compiler); the peaks from
// the table of devices in roofline.cc. It answers "which GPU for this
// model" and "where does the step go" before anything runs; the GPU check
// compares it with measurements.
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
  /// Float atomic adds to device memory per second, as a kernel whose
  /// blocks all add into one weight gradient gets them (the same addresses
  /// from every block: serialized in L2).
  double atomicsPerSecond = 0;
  double hostBandwidth = 0;    // host <-> device copies, bytes/s
  double hostCopySeconds = 0;  // a synchronous host <-> device copy's fixed cost
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
};

struct ProgramEstimate {
  std::string program;
  std::vector<KernelEstimate> kernels;
  double kernelSeconds = 0;   // the kernels' sum
  double hostCopySeconds = 0; // inputs up, outputs down
  double seconds = 0;         // one run
  uint64_t flops = 0, bytes = 0;
};

/// The prediction for one run of |program| on |device|.
ProgramEstimate estimateProgram(const fb::Program &program, const DeviceSpec &device);

} // namespace dlc::rt
