//===- roofline.cc - How long a program should take on a given GPU --------===//
#include "runtime/roofline.h"

#include "runtime/bundle.h"

#include <algorithm>

namespace dlc::rt {
namespace {

// The share of the datasheet bandwidth a streaming kernel reaches (STREAM-
// like copies reach 85-92% on A100 and H100).
constexpr double kBandwidthReached = 0.85;
// One host core's memcpy into page-locked staging, bytes/s.
constexpr double kHostMemcpyBandwidth = 10e9;

double blocksOf(const flatbuffers::Vector<uint32_t> &grid) {
  double n = 1;
  for (uint32_t d : grid)
    n *= d;
  return n;
}

} // namespace

const std::vector<DeviceSpec> &knownDevices() {
  // Peaks from NVIDIA's datasheets, dense (no sparsity): fp32 and fp64 on
  // the CUDA cores, 16-bit (fp16/bf16 with f32 accumulation) and TF32 on the
  // tensor cores. Issue and gap times are typical of the driver API
  // (cuLaunchKernel about 2-4 us of host time; about 1 us between dependent
  // kernels on the device, graph nodes included; a graph's launch about
  // 5 us). Host copies are asynchronous from page-locked memory (PCIe 5 x16
  // on H100/H200, 4 on A100; Orin's host and device share LPDDR5).
  // The atomic rate is calibrated on one measurement: the text LSTM's
  // lstm_grad on the H200 (2026-12-04) took about 2.8 ms for 337 M atomic
  // adds into weight gradients that all 128 blocks share; the others scale
  // it by their L2 clocks and sizes.
  static const std::vector<DeviceSpec> devices = {
      {"h200", "NVIDIA H200 SXM, 141 GB HBM3e", 132, 4.8e12, {67e12, 34e12, 989e12, 494e12},
       3e-6, 1e-6, 5e-6, 1.2e11, 50e9, 4e-6},
      {"h100", "NVIDIA H100 SXM, 80 GB HBM3", 132, 3.35e12, {67e12, 34e12, 989e12, 494e12},
       3e-6, 1e-6, 5e-6, 1.2e11, 50e9, 4e-6},
      {"a100", "NVIDIA A100 SXM, 80 GB HBM2e", 108, 2.039e12, {19.5e12, 9.7e12, 312e12, 156e12},
       3e-6, 1.5e-6, 5e-6, 0.8e11, 25e9, 4e-6},
      {"orin", "NVIDIA Jetson AGX Orin 64 GB (GA10B)", 16, 204.8e9, {5.3e12, 0.17e12, 42.5e12, 21.2e12},
       8e-6, 2e-6, 15e-6, 0.1e11, 50e9, 10e-6},
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

ProgramEstimate estimateProgram(const fb::Program &program, const DeviceSpec &device,
                                Executor executor) {
  ProgramEstimate out;
  out.program = program.name()->str();
  out.executor = executor;
  const auto &buffers = *program.buffers();
  // One command's time given its work on the device: issued from the host,
  // the longer of the host's issue and the device's gap plus work; replayed
  // in a graph, the device's alone.
  auto command = [&](double work) {
    return executor == Executor::issued ? std::max(device.issueSeconds, device.gapSeconds + work)
                                        : device.gapSeconds + work;
  };
  auto streamed = [&](uint64_t bytes) { return double(bytes) / (device.bandwidth * kBandwidthReached); };
  // A launch of generated code or a library call, of |cost| (none: its
  // overhead only); |work| gets the device's time for its own launches.
  auto execution = [&](const fb::Kernel *k, const fb::CudaLaunch *launch, const fb::KernelCost *cost,
                       double *workOut) {
    KernelEstimate e;
    e.kernel = k->name()->str();
    double work = 0;
    if (launch && launch->zeroed())
      for (uint32_t b : *launch->zeroed()) {
        e.seconds += command(streamed(bufferBytes(*buffers[b])));
        ++e.launches;
      }
    // A library chooses its own grid, to fill the GPU.
    e.fill = launch ? std::min(1.0, blocksOf(*launch->grid()) / device.sms) : 1.0;
    // One launch's work: its flops at its unit's peak, bytes at the
    // bandwidth (both scaled by the SMs its grid fills), atomics at L2's rate.
    auto launchWork = [&](uint64_t flops, uint64_t bytes, uint64_t atomics, const fb::KernelCost &cost,
                          double fill) {
      double compute = double(flops) / (device.peak[int(cost.unit())] * double(cost.efficiency()) * fill);
      double memory = streamed(bytes) / fill, atomic = double(atomics) / device.atomicsPerSecond;
      e.computeSeconds += compute;
      e.memorySeconds += memory;
      e.atomicSeconds += atomic;
      double w = std::max({compute, memory, atomic});
      work += w;
      e.seconds += command(w);
      ++e.launches;
    };
    if (cost) {
      e.flops = cost->flops();
      e.bytes = cost->bytes();
      e.unit = cost->unit();
      e.atomics = cost->atomics();
      // The stages' parts first; the first launch does the rest.
      uint64_t flops = e.flops, bytes = e.bytes, atomics = e.atomics;
      std::vector<const fb::CudaStage *> stages;
      if (launch && launch->then())
        stages.assign(launch->then()->begin(), launch->then()->end());
      for (const fb::CudaStage *stage : stages)
        if (const fb::KernelCost *part = stage->cost()) {
          flops -= std::min(flops, part->flops());
          bytes -= std::min(bytes, part->bytes());
          atomics -= std::min(atomics, part->atomics());
        }
      launchWork(flops, bytes, atomics, *cost, e.fill);
      for (const fb::CudaStage *stage : stages) {
        const fb::KernelCost *part = stage->cost(); // none: its overhead only
        launchWork(part ? part->flops() : 0, part ? part->bytes() : 0, part ? part->atomics() : 0,
                   part ? *part : *cost, std::min(1.0, blocksOf(*stage->grid()) / device.sms));
      }
    } else {
      e.counted = false;
      e.seconds += command(0);
      ++e.launches;
      if (launch && launch->then())
        for (size_t i = 0; i < launch->then()->size(); ++i) {
          e.seconds += command(0);
          ++e.launches;
        }
    }
    *workOut = work;
    return e;
  };
  for (const fb::Kernel *k : *program.kernels()) {
    KernelEstimate e;
    e.kernel = k->name()->str();
    double work = 0; // of its own launch
    if (k->cuda_as_CudaLaunch() || k->cuda_as_LibraryCall()) {
      e = execution(k, k->cuda_as_CudaLaunch(), k->cost(), &work);
      // Two executions (--kernels auto): the device measures both and keeps
      // the faster; the model predicts the one it finds faster.
      if (k->alternative_as_CudaLaunch() || k->alternative_as_LibraryCall()) {
        double otherWork = 0;
        KernelEstimate other = execution(k, k->alternative_as_CudaLaunch(), k->alternative_cost(), &otherWork);
        if (other.counted && e.counted && other.seconds < e.seconds) {
          e = std::move(other);
          e.alternative = true;
          work = otherWork;
        }
      }
    } else if (const fb::DeviceCopy *copy = k->cuda_as_DeviceCopy()) {
      for (uint32_t b : *copy->to()) {
        e.bytes += 2 * bufferBytes(*buffers[b]);
        e.seconds += command(streamed(2 * bufferBytes(*buffers[b])));
        ++e.launches;
      }
      work = e.memorySeconds = streamed(e.bytes);
    } else {
      // Not run on a CUDA device (a CPU-only bundle): its overhead only.
      e.counted = false;
      e.seconds = command(0);
      e.launches = 1;
    }
    // What decides its time: overheads when they are most of it.
    e.bound = e.seconds - work >= work                          ? "launch"
              : e.atomicSeconds > 0 && work == e.atomicSeconds ? "atomics"
              : e.computeSeconds >= e.memorySeconds            ? "compute"
                                                               : "memory";
    out.flops += e.flops;
    out.bytes += e.bytes;
    out.kernelSeconds += e.seconds;
    out.kernels.push_back(std::move(e));
  }
  if (executor == Executor::graph)
    out.kernelSeconds += device.graphLaunchSeconds;
  // Inputs go up and outputs come down through page-locked staging: a host
  // memcpy, then the bus.
  auto hostCopy = [&](uint64_t bytes) {
    return device.hostCopySeconds + double(bytes) / device.hostBandwidth +
           double(bytes) / kHostMemcpyBandwidth;
  };
  if (program.inputs())
    for (uint32_t b : *program.inputs())
      out.uploadSeconds += hostCopy(bufferBytes(*buffers[b]));
  if (program.outputs())
    for (uint32_t b : *program.outputs())
      out.hostCopySeconds += hostCopy(bufferBytes(*buffers[b]));
  // The training step's word, set before each run when a launch reads it.
  for (const fb::Kernel *k : *program.kernels())
    if (k->cuda_as_CudaLaunch() && k->cuda_as_CudaLaunch()->takes_step()) {
      out.hostCopySeconds += hostCopy(sizeof(uint64_t));
      break;
    }
  // Replayed runs get their inputs staged during the run before (as the
  // trainer's steps do): only what the upload takes beyond it shows.
  out.seconds = out.kernelSeconds + out.hostCopySeconds +
                (executor == Executor::graph ? std::max(0.0, out.uploadSeconds - out.kernelSeconds)
                                             : out.uploadSeconds);
  return out;
}

} // namespace dlc::rt
