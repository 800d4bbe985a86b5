//===- cuda_device_test.cc - The CUDA executor on both backends -----------===//
//
// Bundles built here by hand (no compiler involved) with small CUDA kernels
// exercise what the executor resolves: inputs, parameters shared between
// programs, views, zeroed accumulators, copy kernels, the step argument,
// identical kernels sharing a source, and the parameter coherency protocol
// of runtime/device.h. Each test runs on the emulation (cuda-sim) and on the
// GPU, which skips without one. Emulation-only tests plant bad kernels.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/cuda_device.h"
#include "runtime/cuda/code_trust.h"
#include "runtime/cuda/sha256.h"
#include "runtime/safetensors.h"
#include "runtime/session.h"
#if DLC_HAVE_CUDA_SIM
#include "runtime/cuda_sim/cuda_sim_host.h"
#include "runtime/cuda_sim/sim_module.h"
#endif

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include <unistd.h>

namespace dlc::rt {
namespace {

//===----------------------------------------------------------------------===//
// Bundles by hand.
//===----------------------------------------------------------------------===//

struct BufferSpec {
  std::string name;
  std::vector<int64_t> shape;
  fb::BufferKind kind = fb::BufferKind::Temp;
  uint64_t offset = 0;
  int param = -1, base = -1;
  fb::DType dtype = fb::DType::F32;
};

struct KernelSpec {
  std::string name;
  std::string opKind;            // "copy" for a kernel without CUDA code (a DeviceCopy)
  std::vector<uint32_t> inputs, outputs; // of its one op
  std::string source, entry;     // empty source: no CUDA code
  std::vector<uint32_t> args, zeroed;
  uint32_t block = 32;
  bool takesStep = false;
  /// Unset: a launch when there is source, else a copy of the op's input to
  /// its output.
  std::optional<fb::CudaExecution> execution;
  /// Ops after the first (kind, inputs, outputs): the loader checks each
  /// op's contract, so a kernel's ops say truly what its code reads and writes.
  std::vector<std::tuple<std::string, std::vector<uint32_t>, std::vector<uint32_t>>> more;
  /// A DeviceCopy's buffers, when not the op's.
  std::vector<uint32_t> copyFrom, copyTo;
  std::string location; // in the .dl source, if any
};

struct ProgramSpec {
  std::string name;
  std::vector<BufferSpec> buffers;
  std::vector<KernelSpec> kernels;
  std::vector<uint32_t> inputs, outputs;
  std::vector<std::string> inputNames, outputNames;
  uint64_t arenaBytes = 0;
};

/// A float32 parameter's values.
std::vector<float> floatsOf(const Parameter &p) {
  std::vector<float> values(p.bytes.size() / sizeof(float));
  std::memcpy(values.data(), p.bytes.data(), p.bytes.size());
  return values;
}

struct ParamSpec {
  std::string name;
  std::vector<float> values;
  fb::DType dtype = fb::DType::F32; // the values' bytes are written as they are
};

std::shared_ptr<const Bundle> makeBundle(const std::vector<ParamSpec> &params,
                                         const std::vector<ProgramSpec> &programs,
                                         std::vector<std::string> targets = {"cpu", "cuda"},
                                         Status *loaded = nullptr) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint8_t> payload;
  auto append = [&](const void *data, size_t bytes) {
    payload.resize((payload.size() + 63) / 64 * 64);
    uint64_t offset = payload.size();
    const auto *p = static_cast<const uint8_t *>(data);
    payload.insert(payload.end(), p, p + bytes);
    return offset;
  };
  std::vector<flatbuffers::Offset<fb::Parameter>> parameters;
  for (const ParamSpec &p : params) {
    std::vector<int64_t> shape = {
        int64_t(p.values.size() * sizeof(float) / dtypeSize(fromFbDType(p.dtype)))};
    uint64_t offset = append(p.values.data(), p.values.size() * sizeof(float));
    parameters.push_back(fb::CreateParameterDirect(fbb, p.name.c_str(), p.dtype, &shape,
                                                   true, nullptr, "zeros", offset,
                                                   p.values.size() * sizeof(float)));
  }
  std::map<std::string, uint64_t> sources; // identical sources share payload
  std::vector<flatbuffers::Offset<fb::Program>> fbPrograms;
  for (const ProgramSpec &p : programs) {
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    for (const BufferSpec &b : p.buffers)
      buffers.push_back(fb::CreateBufferDirect(fbb, b.name.c_str(), b.dtype, &b.shape, b.kind,
                                               b.offset, b.param, b.base));
    std::vector<flatbuffers::Offset<fb::Kernel>> kernels;
    for (const KernelSpec &k : p.kernels) {
      // Kernels made up for a test ("planted") are recorded as copies: the
      // CUDA backend runs the launch and does not read the op kind.
      auto kind = enumNamed<fb::OpKind>(fb::EnumNamesOpKind(), k.opKind);
      std::vector<flatbuffers::Offset<fb::Op>> ops = {
          fb::CreateOpDirect(fbb, kind.value_or(fb::OpKind::copy), &k.inputs, &k.outputs)};
      for (const auto &[name, in, out] : k.more)
        ops.push_back(fb::CreateOpDirect(
            fbb, enumNamed<fb::OpKind>(fb::EnumNamesOpKind(), name).value(), &in, &out));
      std::vector<fb::CpuCall> cpu(ops.size(), fb::CpuCall(fb::CpuRoutine::op, 1));
      const std::vector<uint32_t> &from = k.copyFrom.empty() ? k.inputs : k.copyFrom;
      const std::vector<uint32_t> &to = k.copyTo.empty() ? k.outputs : k.copyTo;
      flatbuffers::Offset<void> execution;
      fb::CudaExecution type = k.execution.value_or(
          k.source.empty() ? fb::CudaExecution::DeviceCopy : fb::CudaExecution::CudaLaunch);
      uint64_t offset = 0, bytes = k.source.size();
      if (!k.source.empty()) {
        if (!sources.count(k.source))
          sources[k.source] = append(k.source.data(), k.source.size());
        offset = sources[k.source];
      }
      if (type == fb::CudaExecution::LibraryCall) {
        execution =
            fb::CreateLibraryCallDirect(fbb, fb::Library::cublas, "gemm", nullptr, &k.args, 1024)
                .Union();
      } else if (type == fb::CudaExecution::Collective) {
        execution =
            fb::CreateCollectiveDirect(fbb, fb::CollectiveKind::all_reduce_sum, &k.args).Union();
      } else if (type == fb::CudaExecution::CudaLaunch) {
        std::vector<uint32_t> grid = {1, 1, 1}, block = {k.block, 1, 1};
        execution = fb::CreateCudaLaunchDirect(fbb, k.entry.c_str(), &k.args, &grid, &block, 0,
                                               k.takesStep, &k.zeroed)
                        .Union();
      } else if (type == fb::CudaExecution::DeviceCopy) {
        execution = fb::CreateDeviceCopyDirect(fbb, &from, &to).Union();
      }
      std::vector<flatbuffers::Offset<flatbuffers::String>> locations;
      if (!k.location.empty())
        locations.push_back(fbb.CreateString(k.location));
      kernels.push_back(fb::CreateKernelDirect(fbb, k.name.c_str(), &ops, &locations, offset, bytes,
                                               nullptr, type, execution, &cpu));
    }
    std::vector<flatbuffers::Offset<flatbuffers::String>> inNames, outNames;
    for (const std::string &n : p.inputNames)
      inNames.push_back(fbb.CreateString(n));
    for (const std::string &n : p.outputNames)
      outNames.push_back(fbb.CreateString(n));
    fbPrograms.push_back(fb::CreateProgram(
        fbb, fbb.CreateString(p.name), fbb.CreateVector(buffers), fbb.CreateVector(kernels),
        fbb.CreateVector(p.inputs), fbb.CreateVector(inNames), fbb.CreateVector(p.outputs),
        fbb.CreateVector(outNames), p.arenaBytes));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> fbTargets;
  for (const std::string &t : targets)
    fbTargets.push_back(fbb.CreateString(t));
  auto root = fb::CreateBundle(fbb, kBundleVersion, fbb.CreateString("test"), 0,
                               fbb.CreateVector(fbTargets), fbb.CreateVector(parameters),
                               fbb.CreateVector(fbPrograms));
  fb::FinishBundleBuffer(fbb, root);
  std::unique_ptr<Bundle> bundle;
  Status s = Bundle::fromBytes(encodeBundle(fbb.GetBufferPointer(), fbb.GetSize(), payload),
                               "<test bundle>", &bundle);
  if (loaded)
    *loaded = s;
  else
    EXPECT_TRUE(s.ok()) << s.message();
  return std::shared_ptr<const Bundle>(std::move(bundle));
}

// Both kernels define a helper `dlc_scale`, differently: each source must
// keep its own (the emulation compiles them into one translation unit).
const char *kAxpySource = R"(
__device__ float dlc_scale(float a, float b) { return a * b; }
extern "C" __global__ void dlc_axpy(const float *x, const float *w, float *y, float *sum,
                                    const unsigned long long *step) {
  int i = threadIdx.x;
  if (i < 8) {
    y[i] = dlc_scale(x[i], w[i]) + (float)*step;
    atomicAdd(sum, y[i]);
  }
}
)";

const char *kSgdSource = R"(
__device__ float dlc_scale(float d) { return 0.5f * d; }
extern "C" __global__ void dlc_sgd(float *w, const float *d) {
  int i = threadIdx.x;
  if (i < 8) w[i] -= dlc_scale(d[i]);
}
)";

/// "step": y = x * w + step (in place of the arena), sum = sum(y) into a
/// zeroed accumulator, z = y viewed as [2, 4] and copied by a copy kernel.
/// "update": w -= 0.5 * d, twice (the same kernel code, shared source).
/// "peek": the same axpy as "step" (shared across programs), plus w out.
std::vector<ProgramSpec> axpyPrograms() {
  using K = fb::BufferKind;
  ProgramSpec step{"step",
                   {{"x", {8}, K::Input, 0},
                    {"w", {8}, K::Param, 0, 0},
                    {"y", {8}, K::Temp, 64},
                    {"y2d", {2, 4}, K::View, 0, -1, 2},
                    {"sum", {1}, K::Temp, 128},
                    {"z", {2, 4}, K::Temp, 192},
                    {"y81", {8, 1}, K::View, 0, -1, 2}},
                   // y = x + w, sum = bias_grad(y as [8, 1]): the shapes of
                   // what the axpy code reads and writes.
                   {{"axpy", "add", {0, 1}, {2}, kAxpySource, "dlc_axpy", {0, 1, 2, 4}, {4}, 32, true,
                     std::nullopt, {{"bias_grad", {6}, {4}}}},
                    {"copy", "copy", {3}, {5}}},
                   {0},
                   {5, 4},
                   {"x"},
                   {"z", "sum"},
                   256};
  ProgramSpec update{"update",
                     {{"w", {8}, K::Param, 0, 0}, {"d", {8}, K::Input, 0}},
                     {{"sgd.1", "add", {0, 1}, {0}, kSgdSource, "dlc_sgd", {0, 1}},
                      {"sgd.2", "add", {0, 1}, {0}, kSgdSource, "dlc_sgd", {0, 1}}},
                     {1},
                     {},
                     {"d"},
                     {},
                     64};
  return {step, update};
}

std::vector<ParamSpec> axpyParams() {
  return {{"w", {0, 1, 2, 3, 4, 5, 6, 7}}};
}

//===----------------------------------------------------------------------===//
// Devices.
//===----------------------------------------------------------------------===//

/// Makes the device |backend| names, or says why the test must skip.
Status makeDevice(const std::string &backend, std::unique_ptr<Device> *out, std::string *skip) {
  if (backend == "cuda") {
    if (Status probe = cuda::CudaContext::probe(); !probe.ok()) {
      *skip = "no GPU: " + probe.message();
      return okStatus();
    }
    return createCudaDevice(0, out);
  }
#if DLC_HAVE_CUDA_SIM
  // The bundles are made here by hand, unsigned: the test vouches for them.
  SimOptions trusted;
  trusted.trustAnyBundle = true;
  return createCudaSimDevice(out, trusted);
#else
  *skip = "built without the CUDA emulation";
  return okStatus();
#endif
}

class CudaDeviceTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::string skip;
    Status s = makeDevice(GetParam(), &device_, &skip);
    if (!skip.empty())
      GTEST_SKIP() << skip;
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::unique_ptr<Session> open(std::shared_ptr<const Bundle> bundle) {
    std::unique_ptr<Session> session;
    Status s = Session::create(std::move(bundle), std::move(device_), &session);
    EXPECT_TRUE(s.ok()) << s.message();
    return session;
  }

  std::unique_ptr<Device> device_;
};

std::vector<float> runStep(Session &session, uint64_t step, float *sum = nullptr) {
  std::vector<float> x = {1, 1, 1, 1, 2, 2, 2, 2};
  std::vector<TensorView> outs;
  RunOptions options;
  options.step = step;
  Status s = session.run("step", {TensorView{x.data(), DType::kF32, {8}}}, &outs, options);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok() || outs.size() != 2)
    return {};
  EXPECT_EQ(outs[0].shape, (std::vector<int64_t>{2, 4}));
  if (sum)
    *sum = outs[1].f32()[0];
  return std::vector<float>(outs[0].f32(), outs[0].f32() + 8);
}

Status runUpdate(Session &session, float delta) {
  std::vector<float> d(8, delta);
  std::vector<TensorView> outs;
  return session.run("update", {TensorView{d.data(), DType::kF32, {8}}}, &outs);
}

TEST_P(CudaDeviceTest, RunsKernelsViewsCopiesAndTheStep) {
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  EXPECT_EQ(session->device().name(), GetParam());
  float sum = 0;
  std::vector<float> z = runStep(*session, 3, &sum);
  EXPECT_EQ(z, (std::vector<float>{3, 4, 5, 6, 11, 13, 15, 17}));
  EXPECT_EQ(sum, 74); // the accumulator is zeroed before every launch
  z = runStep(*session, 0, &sum);
  EXPECT_EQ(z, (std::vector<float>{0, 1, 2, 3, 8, 10, 12, 14}));
  EXPECT_EQ(sum, 50);
}

// The first run issues each command; later ones replay them as one captured
// graph, with new inputs, steps and parameters each time (the step and the
// inputs are read from device memory, which the graph's arguments point at).
TEST_P(CudaDeviceTest, LaterRunsReplayOneCapturedGraph) {
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  float sum = 0;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(runStep(*session, 3, &sum), (std::vector<float>{3, 4, 5, 6, 11, 13, 15, 17}));
    EXPECT_EQ(sum, 74); // the accumulator's memset is replayed too
    EXPECT_EQ(runStep(*session, 0, &sum), (std::vector<float>{0, 1, 2, 3, 8, 10, 12, 14}));
    EXPECT_EQ(sum, 50);
  }
  ExecutionCounts counts = session->executionCounts("step");
  EXPECT_EQ(counts.issued, 1);
  EXPECT_EQ(counts.replayed, 3);
  // The parameters a replayed "update" writes are the ones "step" reads.
  ASSERT_TRUE(runUpdate(*session, 2).ok());
  ASSERT_TRUE(runUpdate(*session, 2).ok());
  EXPECT_EQ(session->executionCounts("update").replayed, 1);
  EXPECT_EQ(runStep(*session, 0), (std::vector<float>{-4, -3, -2, -1, 0, 2, 4, 6}));
  // A profiled run issues each command again, to time it.
  std::vector<float> x(8, 1.0f);
  std::vector<TensorView> outs;
  RunOptions profiled;
  profiled.profile = true;
  ASSERT_TRUE(session->run("step", {TensorView{x.data(), DType::kF32, {8}}}, &outs, profiled).ok());
  EXPECT_EQ(session->executionCounts("step").issued, 2);
}

// The next run's inputs go up while a run is in flight (two input slots):
// each run computes on its own inputs, replayed from either slot's graph.
TEST_P(CudaDeviceTest, StagesTheNextInputsWhileARunIsInFlight) {
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  auto view = [](std::vector<float> &x) { return TensorView{x.data(), DType::kF32, {8}}; };
  // "step" computes z = x * w + step, w = 0..7.
  auto expected = [](float x, uint64_t step) {
    std::vector<float> z(8);
    for (int i = 0; i < 8; ++i)
      z[i] = x * float(i) + float(step);
    return z;
  };
  std::vector<TensorView> outs;
  std::vector<float> x(8, 1.0f);
  ASSERT_TRUE(session->stage("step", {view(x)}).ok());
  for (uint64_t run = 0; run < 6; ++run) {
    RunOptions options;
    options.step = run;
    Status s = session->start("step", options);
    ASSERT_TRUE(s.ok()) << s.message();
    // Staged during the run, from a buffer the caller then reuses at once.
    std::fill(x.begin(), x.end(), float(run + 2));
    ASSERT_TRUE(session->stage("step", {view(x)}).ok());
    std::fill(x.begin(), x.end(), -100.0f);
    s = session->finish("step", &outs);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(std::vector<float>(outs[0].f32(), outs[0].f32() + 8), expected(float(run + 1), run))
        << "run " << run;
  }
  EXPECT_EQ(session->executionCounts("step").issued, 1);
  EXPECT_EQ(session->executionCounts("step").replayed, 5);
  // Out of order: a finish with nothing started, a start before the last
  // run finished, a start with nothing staged.
  EXPECT_NE(session->finish("step", &outs).message().find("no run of 'step' was started"),
            std::string::npos);
  ASSERT_TRUE(session->start("step").ok()); // what the last loop staged
  EXPECT_NE(session->start("step").message().find("no inputs staged"), std::string::npos);
  ASSERT_TRUE(session->finish("step", &outs).ok());
  ASSERT_TRUE(session->stage("step", {view(x)}).ok());
  ASSERT_TRUE(session->start("step").ok());
  ASSERT_TRUE(session->stage("step", {view(x)}).ok());
  EXPECT_NE(session->start("step").message().find("before the last one finished"), std::string::npos);
  EXPECT_NE(session->stage("step", {view(x)}).message().find("staged twice during one run"),
            std::string::npos);
  ASSERT_TRUE(session->finish("step", &outs).ok());
}

TEST_P(CudaDeviceTest, ParametersStayOnTheDeviceUntilSynced) {
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  Status s = runUpdate(*session, 2); // w -= 1, twice: w - 2
  ASSERT_TRUE(s.ok()) << s.message();
  // A run copies no parameters back: the host copy is the initial one.
  EXPECT_EQ(floatsOf(*session->parameter("w")), axpyParams()[0].values);
  // "step" reads what "update" wrote: the storage is shared by programs.
  EXPECT_EQ(runStep(*session, 0), (std::vector<float>{-2, -1, 0, 1, 4, 6, 8, 10}));
  // Editing before syncing would lose the update: refused.
  EXPECT_FALSE(session->parametersChanged().ok());
  ASSERT_TRUE(session->syncParametersToHost().ok());
  EXPECT_EQ(floatsOf(*session->parameter("w")), (std::vector<float>{-2, -1, 0, 1, 2, 3, 4, 5}));
  // Host edits reach the device at the next run.
  std::vector<float> tens(8, 10.0f);
  std::memcpy(session->parameter("w")->bytes.data(), tens.data(), sizeof(float) * tens.size());
  ASSERT_TRUE(session->parametersChanged().ok());
  EXPECT_EQ(runStep(*session, 0), (std::vector<float>{10, 10, 10, 10, 20, 20, 20, 20}));
}

TEST_P(CudaDeviceTest, CheckpointsSyncAndReload) {
  std::string dir = ::testing::TempDir() + "/cuda_device_" + GetParam();
  std::filesystem::create_directories(dir);
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  ASSERT_TRUE(runUpdate(*session, 2).ok());
  Status s = session->saveCheckpoint(dir + "/ckpt.safetensors", {});
  ASSERT_TRUE(s.ok()) << s.message();
  SafetensorsFile file;
  ASSERT_TRUE(SafetensorsFile::open(dir + "/ckpt.safetensors", &file).ok());
  std::vector<float> saved;
  ASSERT_TRUE(readFloat32(*file.find("w"), &saved).ok());
  EXPECT_EQ(saved, (std::vector<float>{-2, -1, 0, 1, 2, 3, 4, 5})); // the device's values
  ASSERT_TRUE(runUpdate(*session, 2).ok());
  s = session->loadCheckpoint(dir + "/ckpt.safetensors", nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(runStep(*session, 0), (std::vector<float>{-2, -1, 0, 1, 4, 6, 8, 10}));
}

TEST_P(CudaDeviceTest, ProfilesEveryKernel) {
  auto session = open(makeBundle(axpyParams(), axpyPrograms()));
  ASSERT_TRUE(session);
  std::vector<float> x(8, 1.0f);
  std::vector<TensorView> outs;
  RunOptions options;
  options.profile = true;
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(session->run("step", {TensorView{x.data(), DType::kF32, {8}}}, &outs, options).ok());
  std::vector<KernelTime> times = session->kernelTimes("step");
  ASSERT_EQ(times.size(), 2u);
  EXPECT_EQ(times[0].kernel, "axpy");
  EXPECT_EQ(times[1].kernel, "copy");
  EXPECT_EQ(times[0].runs, 2);
  EXPECT_GT(times[0].seconds, 0);
}

TEST_P(CudaDeviceTest, RejectsABundleWithoutCudaCode) {
  std::vector<ProgramSpec> programs = axpyPrograms();
  for (ProgramSpec &p : programs)
    for (KernelSpec &k : p.kernels) {
      k.source.clear();
      k.execution = fb::CudaExecution::NONE;
    }
  std::unique_ptr<Session> session;
  Status s = Session::create(makeBundle(axpyParams(), programs, {"cpu"}), std::move(device_),
                             &session);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no CUDA code"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--target cuda"), std::string::npos) << s.message();
}

TEST_P(CudaDeviceTest, RejectsAKernelCompiledForTheCpuOnly) {
  std::vector<ProgramSpec> programs = axpyPrograms();
  programs[0].kernels[0].source.clear();
  programs[0].kernels[0].execution = fb::CudaExecution::NONE;
  auto session = open(makeBundle(axpyParams(), programs));
  ASSERT_TRUE(session);
  std::vector<float> x(8, 1.0f);
  std::vector<TensorView> outs;
  Status s = session->run("step", {TensorView{x.data(), DType::kF32, {8}}}, &outs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel 'axpy'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--target cuda"), std::string::npos) << s.message();
}

// Library calls and collectives have their place in the format: the loader
// checks them like launches, and this runtime says which it does not run
// (it runs cublas "matmul" calls: matmul_test.cc, conformance-library.test).
TEST_P(CudaDeviceTest, RefusesLibraryCallsAndCollectivesItDoesNotRun) {
  for (fb::CudaExecution type : {fb::CudaExecution::LibraryCall, fb::CudaExecution::Collective}) {
    std::vector<ProgramSpec> programs = axpyPrograms();
    programs[0].kernels[0].execution = type;
    std::shared_ptr<const Bundle> bundle = makeBundle(axpyParams(), programs);
    std::unique_ptr<Device> device;
    std::string skip;
    ASSERT_TRUE(makeDevice(GetParam(), &device, &skip).ok());
    std::unique_ptr<Session> session;
    ASSERT_TRUE(Session::create(bundle, std::move(device), &session).ok());
    std::vector<float> x(8, 1.0f);
    std::vector<TensorView> outs;
    Status s = session->run("step", {TensorView{x.data(), DType::kF32, {8}}}, &outs);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(type == fb::CudaExecution::LibraryCall ? "routine 'gemm' is not one this runtime runs"
                                                                      : "not run by this runtime yet"),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("kernel 'axpy'"), std::string::npos) << s.message();
  }
}

// A parameter the device interface would read as float32 past its end (an
// i64 parameter whose bytes are those of its float32 values) is refused.
TEST(CudaExecutionLoader, RefusesParametersThatAreNotFloat32) {
  std::vector<ParamSpec> params = axpyParams();
  params[0].dtype = fb::DType::I64;
  params[0].values.resize(16); // 8 i64 values' bytes
  std::vector<ProgramSpec> programs = axpyPrograms();
  Status s;
  makeBundle(params, {programs[1]}, {"cpu", "cuda"}, &s);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("this runtime stores parameters as f32"), std::string::npos)
      << s.message();
}

TEST(CudaExecutionLoader, ChecksEveryKindOfExecution) {
  auto rejected = [](void (*edit)(KernelSpec &)) {
    std::vector<ProgramSpec> programs = axpyPrograms();
    edit(programs[0].kernels[0]);
    Status s;
    makeBundle(axpyParams(), programs, {"cpu", "cuda"}, &s);
    return s.ok() ? std::string("accepted") : s.message();
  };
  EXPECT_NE(rejected([](KernelSpec &k) {
              k.execution = fb::CudaExecution::LibraryCall;
              k.args = {0, 99};
            }).find("programs[0].kernels[0].cuda.args[1] = 99 out of range"),
            std::string::npos);
  EXPECT_NE(rejected([](KernelSpec &k) {
              k.execution = fb::CudaExecution::Collective;
              k.args = {77};
            }).find("cuda.args[0] = 77 out of range"),
            std::string::npos);
  // A copy between buffers of different sizes (x: 8 floats, sum: 1).
  EXPECT_NE(rejected([](KernelSpec &k) {
              k.execution = fb::CudaExecution::DeviceCopy;
              k.copyFrom = {0};
              k.copyTo = {4};
            }).find("differ in size"),
            std::string::npos);
  EXPECT_NE(rejected([](KernelSpec &k) {
              k.execution = fb::CudaExecution::DeviceCopy;
              k.copyFrom = {0, 2};
              k.copyTo = {2};
            }).find("copies 2 buffers into 1"),
            std::string::npos);
  // The ops must say what the code touches: y = x + w, written as [1].
  EXPECT_NE(rejected([](KernelSpec &k) { k.outputs = {4}; }).find("(add): result 0"),
            std::string::npos);
  EXPECT_EQ(rejected([](KernelSpec &) {}), "accepted");
}

std::string backendName(const ::testing::TestParamInfo<std::string> &info) {
  return info.param == "cuda" ? "Gpu" : "Emulated";
}

INSTANTIATE_TEST_SUITE_P(Backends, CudaDeviceTest, ::testing::Values("cuda-sim", "cuda"),
                         backendName);

//===----------------------------------------------------------------------===//
// The emulation: planted bugs become Statuses naming the kernel.
//===----------------------------------------------------------------------===//
#if DLC_HAVE_CUDA_SIM

/// A program "bad" running one kernel |source| on y: [8] at the arena's end.
Status runPlanted(const std::string &source, const std::string &entry,
                  const RunOptions &options = {}) {
  using K = fb::BufferKind;
  ProgramSpec bad{"bad",
                  {{"x", {8}, K::Input, 0}, {"y", {8}, K::Temp, 64}},
                  {{"planted", "planted", {0}, {1}, source, entry, {0, 1}}},
                  {0},
                  {1},
                  {"x"},
                  {"y"},
                  96};
  bad.kernels[0].location = "wild.dl:7:3";
  std::unique_ptr<Device> device;
  SimOptions trusted;
  trusted.trustAnyBundle = true;
  DLC_RETURN_IF_ERROR(createCudaSimDevice(&device, trusted), "");
  std::unique_ptr<Session> session;
  DLC_RETURN_IF_ERROR(Session::create(makeBundle({}, {bad}), std::move(device), &session), "");
  std::vector<float> x(8, 1.0f);
  std::vector<TensorView> outs;
  return session->run("bad", {TensorView{x.data(), DType::kF32, {8}}}, &outs, options);
}

// --check-numerics stops at the kernel that made the first NaN.
TEST(CudaSimDevice, CheckNumericsNamesTheKernelThatMadeANaN) {
  const char *source = R"(
extern "C" __global__ void dlc_nan(const float *x, float *y) {
  int i = threadIdx.x;
  if (i < 8) y[i] = i == 3 ? x[i] - x[i] / 0.0f : x[i];
}
)";
  EXPECT_TRUE(runPlanted(source, "dlc_nan").ok()); // unchecked: the NaN goes unnoticed
  RunOptions checked;
  checked.checkNumerics = true;
  Status s = runPlanted(source, "dlc_nan", checked);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel 'planted' (wild.dl:7:3) of program 'bad' wrote -inf to 'y' f32[8] at element 3"),
            std::string::npos)
      << s.message();
}

// cuda-sim runs a bundle's CUDA source as host code: only bundles signed
// with this machine's key (what `dlc compile` writes), or when trusted.
TEST(CudaSimDevice, RunsOnlyBundlesSignedHereUnlessTrusted) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("dlc_trust_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::setenv("DLC_BUNDLE_KEY", (dir + "/key").c_str(), 1);
  std::shared_ptr<const Bundle> unsigned_ = makeBundle(axpyParams(), axpyPrograms());
  auto attach = [](std::shared_ptr<const Bundle> bundle) {
    std::unique_ptr<Device> device;
    Status s = createCudaSimDevice(&device);
    std::unique_ptr<Session> session;
    if (s.ok())
      s = Session::create(std::move(bundle), std::move(device), &session);
    return s;
  };
  Status s = attach(unsigned_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("was not compiled by dlc on this machine"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("--trust-bundle-code"), std::string::npos) << s.message();

  std::vector<uint8_t> bytes = unsigned_->bytes();
  ASSERT_TRUE(cuda::signBundle(&bytes).ok());
  std::unique_ptr<Bundle> signed_;
  ASSERT_TRUE(Bundle::fromBytes(bytes, "signed", &signed_).ok());
  EXPECT_TRUE(attach(std::move(signed_)).ok());

  // One bit of the signature, or of what it signs, and the bundle is a stranger.
  for (size_t at : {bytes.size() - 1, size_t(40)}) {
    std::vector<uint8_t> forged = bytes;
    forged[at] ^= 1;
    std::unique_ptr<Bundle> bundle;
    if (!Bundle::fromBytes(forged, "forged", &bundle).ok())
      continue; // the checksum caught it first
    EXPECT_FALSE(attach(std::move(bundle)).ok()) << "byte " << at;
  }
  // Another machine's key.
  ::setenv("DLC_BUNDLE_KEY", (dir + "/other-key").c_str(), 1);
  std::unique_ptr<Bundle> elsewhere;
  ASSERT_TRUE(Bundle::fromBytes(bytes, "elsewhere", &elsewhere).ok());
  std::vector<uint8_t> otherKeyed = unsigned_->bytes();
  ASSERT_TRUE(cuda::signBundle(&otherKeyed).ok()); // creates other-key
  EXPECT_FALSE(attach(std::move(elsewhere)).ok());
  // RFC 4231 test case 2: the HMAC is the standard one.
  std::string data = "what do ya want for nothing?";
  EXPECT_EQ(cuda::toHex([&] {
              std::vector<uint8_t> mac = cuda::hmacSha256(
                  {'J', 'e', 'f', 'e'}, reinterpret_cast<const uint8_t *>(data.data()), data.size());
              std::array<uint8_t, 32> a;
              std::copy(mac.begin(), mac.end(), a.begin());
              return a;
            }()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  ::unsetenv("DLC_BUNDLE_KEY");
  std::filesystem::remove_all(dir);
}

TEST(CudaSimDevice, AnOutOfBoundsWriteNamesTheKernel) {
  Status s = runPlanted(R"(
extern "C" __global__ void dlc_oob(const float *x, float *y) {
  int i = threadIdx.x;
  if (i <= 8) y[i] = 2.0f * x[i < 8 ? i : 0]; // one element too far
}
)",
                        "dlc_oob");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel 'planted' (wild.dl:7:3) of program 'bad'"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("dlc_oob"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("past the end"), std::string::npos) << s.message();
}

TEST(CudaSimDevice, TheSameKernelInBoundsRuns) {
  // The control for the test above: only the bound differs.
  Status s = runPlanted(R"(
extern "C" __global__ void dlc_inb(const float *x, float *y) {
  int i = threadIdx.x;
  if (i < 8) y[i] = 2.0f * x[i < 8 ? i : 0];
}
)",
                        "dlc_inb");
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(CudaSimDevice, ADivergentBarrierNamesTheKernel) {
  Status s = runPlanted(R"(
extern "C" __global__ void dlc_diverge(const float *x, float *y) {
  int i = threadIdx.x;
  if (i < 16) __syncthreads();
  if (i < 8) y[i] = x[i];
}
)",
                        "dlc_diverge");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel 'planted'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("__syncthreads"), std::string::npos) << s.message();
}

TEST(CudaSimDevice, ACompileErrorNamesTheKernel) {
  Status s = runPlanted(R"(
extern "C" __global__ void dlc_broken(const float *x, float *y) {
  y[threadIdx.x] = x[threadIdx.x]   // missing semicolon
}
)",
                        "dlc_broken");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in kernel 'dlc_broken'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("error"), std::string::npos) << s.message();
}

/// A fresh cache directory per test.
std::string freshDirectory(const std::string &name) {
  std::string dir = ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(CudaSimModule, IsCachedAndRebuiltWhenDamaged) {
  cuda::SimToolchain toolchain = cuda::SimToolchain::fromEnvironment();
  toolchain.cacheDirectory = freshDirectory("sim-cache");
  std::vector<cuda::SimKernelSource> kernels = {{"dlc_sgd", kSgdSource}};
  std::unique_ptr<cuda::SimModule> first, second, third;
  Status s = cuda::SimModule::build(kernels, toolchain, &first);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(first->cached());
  EXPECT_EQ(first->path().rfind(toolchain.cacheDirectory, 0), 0u);
  s = cuda::SimModule::build(kernels, toolchain, &second);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(second->cached());
  // A truncated entry (a crash while copying the cache?) is rebuilt.
  std::string path = second->path();
  first.reset();
  second.reset();
  std::filesystem::resize_file(path, 100);
  s = cuda::SimModule::build(kernels, toolchain, &third);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(third->cached());
  float w[8] = {0, 0, 0, 0, 0, 0, 0, 0}, d[8] = {2, 2, 2, 2, 2, 2, 2, 2};
  float *wp = w, *dp = d;
  void *args[] = {&wp, &dp};
  cuda::LaunchConfig config;
  config.block[0] = 8;
  s = third->launch(0, config, args);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(w[7], -1.0f);
  std::filesystem::remove_all(toolchain.cacheDirectory);
}

TEST(CudaSimModule, WorksWithoutACacheDirectory) {
  cuda::SimToolchain toolchain = cuda::SimToolchain::fromEnvironment();
  toolchain.cacheDirectory = "";
  std::unique_ptr<cuda::SimModule> module;
  Status s = cuda::SimModule::build({{"dlc_sgd", kSgdSource}}, toolchain, &module);
  ASSERT_TRUE(s.ok()) << s.message();
}

TEST(CudaSimModule, AMissingCompilerIsAClearError) {
  cuda::SimToolchain toolchain = cuda::SimToolchain::fromEnvironment();
  toolchain.compiler = "/nonexistent/g++";
  Status s = toolchain.check();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("'/nonexistent/g++' was not found"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("$DLC_CXX"), std::string::npos) << s.message();
}

TEST(CudaSimModule, KernelsMayShareHelperAndEntryNames) {
  // kAxpySource and kSgdSource both define dlc_scale; here both entries are
  // also called dlc_same: the module still compiles, and runs each.
  std::string axpy = kAxpySource, sgd = kSgdSource;
  axpy.replace(axpy.find("dlc_axpy"), 8, "dlc_same");
  sgd.replace(sgd.find("dlc_sgd"), 7, "dlc_same");
  cuda::SimToolchain toolchain = cuda::SimToolchain::fromEnvironment();
  std::unique_ptr<cuda::SimModule> module;
  Status s = cuda::SimModule::build({{"dlc_same", axpy}, {"dlc_same", sgd}}, toolchain, &module);
  ASSERT_TRUE(s.ok()) << s.message();
  float w[8] = {1, 1, 1, 1, 1, 1, 1, 1}, d[8] = {2, 2, 2, 2, 2, 2, 2, 2};
  float *wp = w, *dp = d;
  void *args[] = {&wp, &dp};
  cuda::LaunchConfig config;
  config.block[0] = 8;
  s = module->launch(1, config, args);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(w[0], 0.0f);
}

#endif // DLC_HAVE_CUDA_SIM

TEST(CudaDriverDevice, WithoutAGpuTheErrorSaysWhatIsMissing) {
  Status probe = cuda::CudaContext::probe();
  if (probe.ok())
    GTEST_SKIP() << "a GPU is present";
  std::unique_ptr<Device> device;
  Status s = createCudaDevice(0, &device);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), probe.message());
}

} // namespace
} // namespace dlc::rt
