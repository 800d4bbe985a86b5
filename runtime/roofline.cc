//===- roofline.cc - How long a program should take on a given GPU --------===//
#include "runtime/roofline.h"

#include "runtime/bundle.h"

#include <algorithm>

namespace dlc::rt {
namespace {

// The share of the datasheet bandwidth a streaming kernel reaches (STREAM-
// like copies reach 85-92% on A100 and H100).
constexpr double kBandwidthReached = 0.85;

double blocksOf(const fb::CudaLaunch &launch) {
  double n = 1;
  for (uint32_t d : *launch.grid())
    n *= d;
  return n;
}

} // namespace

const std::vector<DeviceSpec> &knownDevices() {
  // Peaks from NVIDIA's datasheets, dense (no sparsity): fp32 and fp64 on
  // the CUDA cores, 16-bit (fp16/bf16 with f32 accumulation) and TF32 on the
  // tensor cores. Issue and gap times are typical of the driver API
  // (cuLaunchKernel about 2-4 us of host time; about 1 us between dependent
  // kernels on the device); host copies are synchronous from pageable memory.
  // The atomic rate is calibrated on one measurement: the text LSTM's
  // lstm_grad on the H200 (2026-12-04) took about 2.9 ms for 337 M atomic
  // adds into weight gradients that all 128 blocks share; the others scale
  // it by their L2 clocks and sizes.
  static const std::vector<DeviceSpec> devices = {
      {"h200", "NVIDIA H200 SXM, 141 GB HBM3e", 132, 4.8e12, {67e12, 34e12, 989e12, 494e12},
       3e-6, 1e-6, 1.2e11, 25e9, 10e-6},
      {"h100", "NVIDIA H100 SXM, 80 GB HBM3", 132, 3.35e12, {67e12, 34e12, 989e12, 494e12},
       3e-6, 1e-6, 1.2e11, 25e9, 10e-6},
      {"a100", "NVIDIA A100 SXM, 80 GB HBM2e", 108, 2.039e12, {19.5e12, 9.7e12, 312e12, 156e12},
       3e-6, 1.5e-6, 0.8e11, 12e9, 10e-6},
      // Integrated: host and device share LPDDR5, copies stay in it.
      {"orin", "NVIDIA Jetson AGX Orin 64 GB (GA10B)", 16, 204.8e9, {5.3e12, 0.17e12, 42.5e12, 21.2e12},
       8e-6, 2e-6, 0.1e11, 50e9, 15e-6},
  };
  return devices;
}

const DeviceSpec *findDevice(const std::string &name) {
  for (const DeviceSpec &d : knownDevices())
    if (d.name == name)
      return &d;
  return nullptr;
}

std::string knownDeviceNames() {
  std::string names;
  for (const DeviceSpec &d : knownDevices())
    names += (names.empty() ? "" : ", ") + d.name;
  return names;
}

ProgramEstimate estimateProgram(const fb::Program &program, const DeviceSpec &device) {
  ProgramEstimate out;
  out.program = program.name()->str();
  const auto &buffers = *program.buffers();
  // Memsets and device copies: issued like launches, bound by bandwidth.
  auto transfer = [&](uint64_t bytes) {
    return std::max(device.issueSeconds,
                    device.gapSeconds + double(bytes) / (device.bandwidth * kBandwidthReached));
  };
  for (const fb::Kernel *k : *program.kernels()) {
    KernelEstimate e;
    e.kernel = k->name()->str();
    if (const fb::CudaLaunch *launch = k->cuda_as_CudaLaunch()) {
      if (launch->zeroed())
        for (uint32_t b : *launch->zeroed()) {
          e.seconds += transfer(bufferBytes(*buffers[b]));
          ++e.launches;
        }
      e.fill = std::min(1.0, blocksOf(*launch) / device.sms);
      if (const fb::KernelCost *cost = k->cost()) {
        e.flops = cost->flops();
        e.bytes = cost->bytes();
        e.unit = cost->unit();
        e.computeSeconds =
            double(e.flops) / (device.peak[int(e.unit)] * double(cost->efficiency()) * e.fill);
        e.memorySeconds = double(e.bytes) / (device.bandwidth * kBandwidthReached * e.fill);
        e.atomics = cost->atomics();
        e.atomicSeconds = double(e.atomics) / device.atomicsPerSecond;
      } else {
        e.counted = false;
      }
      double work = std::max({e.computeSeconds, e.memorySeconds, e.atomicSeconds});
      double onDevice = device.gapSeconds + work;
      e.seconds += std::max(device.issueSeconds, onDevice);
      ++e.launches;
      e.bound = device.issueSeconds >= onDevice     ? "launch"
                : e.atomicSeconds > 0 && work == e.atomicSeconds ? "atomics"
                : e.computeSeconds >= e.memorySeconds ? "compute"
                                                      : "memory";
    } else if (const fb::DeviceCopy *copy = k->cuda_as_DeviceCopy()) {
      for (uint32_t b : *copy->to()) {
        e.bytes += 2 * bufferBytes(*buffers[b]);
        e.seconds += transfer(2 * bufferBytes(*buffers[b]));
        ++e.launches;
      }
      e.memorySeconds = double(e.bytes) / (device.bandwidth * kBandwidthReached);
      e.bound = e.seconds > double(e.launches) * device.issueSeconds ? "memory" : "launch";
    } else {
      // Not run on a CUDA device (a CPU-only bundle) or by a library call
      // this model cannot count yet: its issue time only.
      e.counted = false;
      e.seconds = device.issueSeconds;
      e.launches = 1;
      e.bound = "launch";
    }
    out.flops += e.flops;
    out.bytes += e.bytes;
    out.kernelSeconds += e.seconds;
    out.kernels.push_back(std::move(e));
  }
  auto hostCopy = [&](uint32_t b) {
    return device.hostCopySeconds + double(bufferBytes(*buffers[b])) / device.hostBandwidth;
  };
  if (program.inputs())
    for (uint32_t b : *program.inputs())
      out.hostCopySeconds += hostCopy(b);
  if (program.outputs())
    for (uint32_t b : *program.outputs())
      out.hostCopySeconds += hostCopy(b);
  // The training step's word, set before each run when a launch reads it.
  for (const fb::Kernel *k : *program.kernels())
    if (k->cuda_as_CudaLaunch() && k->cuda_as_CudaLaunch()->takes_step()) {
      out.hostCopySeconds += device.hostCopySeconds;
      break;
    }
  out.seconds = out.kernelSeconds + out.hostCopySeconds;
  return out;
}

} // namespace dlc::rt
