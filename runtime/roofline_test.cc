// The roofline model's arithmetic on programs built by hand: what bounds a
// kernel, how a small grid and float atomics slow it, what memsets, device
// copies and host copies add.
#include "runtime/roofline.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dlc::rt {
namespace {

namespace fb = rt::fb;

struct KernelSpec {
  uint32_t blocks = 1;
  uint64_t flops = 0, bytes = 0, atomics = 0;
  fb::ComputeUnit unit = fb::ComputeUnit::fp32;
  float efficiency = 0.5f;
  std::vector<uint32_t> zeroed;
  bool copy = false; // a DeviceCopy of buffer 0 into buffer 1 instead
  bool counted = true;
};

/// A program over buffers of |bufferFloats| f32 elements each: buffer 0 its
/// input, buffer 1 its output.
class ProgramBuilder {
public:
  explicit ProgramBuilder(std::vector<int64_t> bufferFloats) : floats_(std::move(bufferFloats)) {}

  const fb::Program &build(const std::vector<KernelSpec> &specs) {
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    for (int64_t n : floats_) {
      std::vector<int64_t> shape = {n};
      buffers.push_back(fb::CreateBufferDirect(fbb_, "b", fb::DType::F32, &shape));
    }
    std::vector<flatbuffers::Offset<fb::Kernel>> kernels;
    for (const KernelSpec &k : specs) {
      std::vector<fb::CpuCall> cpu;
      std::vector<flatbuffers::Offset<fb::Op>> ops;
      flatbuffers::Offset<void> execution;
      fb::CudaExecution type;
      if (k.copy) {
        std::vector<uint32_t> from = {0}, to = {1};
        execution = fb::CreateDeviceCopyDirect(fbb_, &from, &to).Union();
        type = fb::CudaExecution::DeviceCopy;
      } else {
        std::vector<uint32_t> args = {0, 1}, grid = {k.blocks, 1, 1}, block = {256, 1, 1};
        execution = fb::CreateCudaLaunchDirect(fbb_, "k", &args, &grid, &block, 0, false, &k.zeroed,
                                               "gemm")
                        .Union();
        type = fb::CudaExecution::CudaLaunch;
      }
      auto cost = k.counted ? fb::CreateKernelCost(fbb_, k.flops, k.bytes, k.unit, k.efficiency,
                                                   k.atomics)
                            : 0;
      kernels.push_back(fb::CreateKernel(fbb_, fbb_.CreateString("kernel"), fbb_.CreateVector(ops),
                                         0, 0, 0, 0, type, execution, fbb_.CreateVectorOfStructs(cpu),
                                         cost));
    }
    std::vector<uint32_t> inputs = {0}, outputs = {1};
    fbb_.Finish(fb::CreateProgramDirect(fbb_, "p", &buffers, &kernels, &inputs, nullptr, &outputs));
    return *flatbuffers::GetRoot<fb::Program>(fbb_.GetBufferPointer());
  }

private:
  std::vector<int64_t> floats_;
  flatbuffers::FlatBufferBuilder fbb_;
};

const DeviceSpec &h200() { return *findDevice("h200"); }

TEST(Roofline, KnowsTheDevicesItNames) {
  EXPECT_EQ(knownDeviceNames(), "h200, h100, a100, orin");
  for (const DeviceSpec &d : knownDevices()) {
    EXPECT_GT(d.sms, 0) << d.name;
    EXPECT_GT(d.bandwidth, 0) << d.name;
    // Tensor cores outrun the CUDA cores on every device listed.
    EXPECT_GT(d.peak[int(fb::ComputeUnit::tensor_16bit)], d.peak[int(fb::ComputeUnit::fp32)]);
    EXPECT_GT(d.atomicsPerSecond, 0) << d.name;
  }
  EXPECT_EQ(findDevice("tpu"), nullptr);
}

TEST(Roofline, AComputeBoundKernelOnEverySM) {
  ProgramBuilder b({1024, 1024});
  KernelSpec k;
  k.blocks = 4 * 132;
  k.flops = uint64_t(67e9); // a millisecond of the H200's f32 peak
  k.bytes = 1000;
  ProgramEstimate e = estimateProgram(b.build({k}), h200());
  ASSERT_EQ(e.kernels.size(), 1u);
  const KernelEstimate &kernel = e.kernels[0];
  EXPECT_EQ(kernel.fill, 1.0);
  EXPECT_DOUBLE_EQ(kernel.computeSeconds, 1e-3 / 0.5); // at half the peak
  EXPECT_EQ(kernel.bound, "compute");
  EXPECT_DOUBLE_EQ(kernel.seconds, h200().gapSeconds + 2e-3);
  EXPECT_DOUBLE_EQ(e.kernelSeconds, kernel.seconds + h200().graphLaunchSeconds);
  // One input and one output of 4 KiB each cross to and from the host,
  // through page-locked staging (a host memcpy at 10 GB/s, then the bus);
  // the input's upload hides behind the run before.
  double copy = h200().hostCopySeconds + 4096 / h200().hostBandwidth + 4096 / 10e9;
  EXPECT_DOUBLE_EQ(e.uploadSeconds, copy);
  EXPECT_DOUBLE_EQ(e.hostCopySeconds, copy);
  EXPECT_DOUBLE_EQ(e.seconds, e.kernelSeconds + copy);
  // The first run waits for it.
  ProgramEstimate first = estimateProgram(b.build({k}), h200(), Executor::issued);
  EXPECT_DOUBLE_EQ(first.seconds, first.kernelSeconds + 2 * copy);
  EXPECT_EQ(e.flops, k.flops);
}

TEST(Roofline, AnUploadLongerThanTheRunShowsItsExcess) {
  const int64_t floats = 1 << 24; // 64 MiB of input for a tiny kernel
  ProgramBuilder b({floats, 1});
  ProgramEstimate e = estimateProgram(b.build({KernelSpec{}}), h200());
  EXPECT_GT(e.uploadSeconds, e.kernelSeconds);
  EXPECT_DOUBLE_EQ(e.seconds, e.uploadSeconds + e.hostCopySeconds);
}

TEST(Roofline, TensorCoresAndFewBlocks) {
  ProgramBuilder b({16, 16});
  KernelSpec k;
  k.flops = uint64_t(989e9);
  k.unit = fb::ComputeUnit::tensor_16bit;
  k.efficiency = 1.0f;
  k.blocks = 33; // a quarter of the SMs
  ProgramEstimate e = estimateProgram(b.build({k}), h200());
  EXPECT_DOUBLE_EQ(e.kernels[0].fill, 0.25);
  EXPECT_DOUBLE_EQ(e.kernels[0].computeSeconds, 4e-3);
}

TEST(Roofline, MemoryAtomicsAndLaunchBounds) {
  ProgramBuilder b({1 << 20, 1 << 20});
  KernelSpec memory;
  memory.blocks = 1000;
  memory.bytes = uint64_t(4.8e12 * 0.85 * 1e-3); // a millisecond of traffic
  KernelSpec atomics = memory;
  atomics.atomics = uint64_t(h200().atomicsPerSecond * 5e-3);
  KernelSpec tiny;
  tiny.flops = 100;
  const fb::Program &p = b.build({memory, atomics, tiny});
  for (Executor executor : {Executor::issued, Executor::graph}) {
    ProgramEstimate e = estimateProgram(p, h200(), executor);
    EXPECT_EQ(e.kernels[0].bound, "memory");
    EXPECT_NEAR(e.kernels[0].memorySeconds, 1e-3, 1e-9);
    EXPECT_EQ(e.kernels[1].bound, "atomics");
    EXPECT_NEAR(e.kernels[1].seconds, h200().gapSeconds + 5e-3, 1e-9);
    EXPECT_EQ(e.kernels[2].bound, "launch");
    double sum = e.kernels[0].seconds + e.kernels[1].seconds + e.kernels[2].seconds;
    if (executor == Executor::issued) {
      // Issued from the host, a tiny kernel costs the host's issue time...
      EXPECT_DOUBLE_EQ(e.kernels[2].seconds, h200().issueSeconds);
      EXPECT_DOUBLE_EQ(e.kernelSeconds, sum);
    } else {
      // ...replayed in a graph, the device's gap; the graph's launch once.
      EXPECT_NEAR(e.kernels[2].seconds, h200().gapSeconds, 1e-9);
      EXPECT_NEAR(e.kernelSeconds, sum + h200().graphLaunchSeconds, 1e-12);
    }
  }
}

TEST(Roofline, AGraphSavesTheIssueTimeOfManySmallKernels) {
  ProgramBuilder b({16, 16});
  std::vector<KernelSpec> small(40);
  const fb::Program &p = b.build(small);
  double issued = estimateProgram(p, h200(), Executor::issued).kernelSeconds;
  double graph = estimateProgram(p, h200(), Executor::graph).kernelSeconds;
  EXPECT_NEAR(issued, 40 * h200().issueSeconds, 1e-12);
  EXPECT_NEAR(graph, 40 * h200().gapSeconds + h200().graphLaunchSeconds, 1e-12);
}

TEST(Roofline, MemsetsAndDeviceCopiesAreIssuedToo) {
  const int64_t floats = 1 << 24; // 64 MiB
  ProgramBuilder b({floats, floats});
  KernelSpec zeroing;
  zeroing.blocks = 132;
  zeroing.zeroed = {1};
  KernelSpec copy;
  copy.copy = true;
  ProgramEstimate e = estimateProgram(b.build({zeroing, copy}), h200(), Executor::issued);
  double bytes = double(floats) * 4, bandwidth = h200().bandwidth * 0.85;
  EXPECT_EQ(e.kernels[0].launches, 2);
  EXPECT_NEAR(e.kernels[0].seconds, h200().gapSeconds + bytes / bandwidth + h200().issueSeconds, 1e-12);
  EXPECT_EQ(e.kernels[1].launches, 1);
  EXPECT_EQ(e.kernels[1].bytes, uint64_t(2 * bytes));
  EXPECT_NEAR(e.kernels[1].seconds, h200().gapSeconds + 2 * bytes / bandwidth, 1e-12);
  EXPECT_EQ(e.kernels[1].bound, "memory");
}

TEST(Roofline, AKernelWithoutACostCountsItsIssueOnly) {
  ProgramBuilder b({16, 16});
  KernelSpec k;
  k.counted = false;
  ProgramEstimate e = estimateProgram(b.build({k}), h200(), Executor::issued);
  EXPECT_FALSE(e.kernels[0].counted);
  EXPECT_DOUBLE_EQ(e.kernels[0].seconds, h200().issueSeconds);
}

TEST(Roofline, ASlowerDeviceTakesLonger) {
  ProgramBuilder b({1 << 20, 1 << 20});
  KernelSpec k;
  k.blocks = 4096;
  k.flops = uint64_t(1e11);
  k.bytes = uint64_t(1e9);
  const fb::Program &p = b.build({k});
  double previous = 0;
  for (const char *name : {"h200", "h100", "a100", "orin"}) {
    double seconds = estimateProgram(p, *findDevice(name)).seconds;
    EXPECT_GE(seconds, previous) << name;
    previous = seconds;
  }
}

} // namespace
} // namespace dlc::rt
