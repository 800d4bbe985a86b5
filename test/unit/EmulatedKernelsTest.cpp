//===- EmulatedKernelsTest.cpp - Emitted CUDA kernels vs the reference ----===//
//
// For every function of Inputs/emulated_kernels.mlir: fuse it, run the CUDA
// kernels emitted for its groups under the emulation (outputs poisoned first,
// red zones checked, forward and reverse schedules), and compare what the
// function returns with the float64 reference evaluator on the same inputs.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "compiler/Reference/Evaluator.h"
#include "compiler/Transforms/Passes.h"
#include "runtime/cuda/cubin_info.h"
#include "runtime/cuda/nvrtc.h"
#include "test/unit/EmulatedKernelRegistry.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>

using namespace mlir;

namespace {

using Buffer = std::shared_ptr<dlc::sim::SimBuffer>;

Buffer allocate(Value v, const std::string &name) {
  auto type = cast<ShapedType>(v.getType());
  size_t bytes = size_t(type.getNumElements()) * (type.getElementType().isInteger(64) ? 8 : 4);
  auto b = std::make_shared<dlc::sim::SimBuffer>(bytes ? bytes : 4, name.c_str(),
                                                 dlc::sim::ElemKind::kF32);
  b->fillUnwritten();
  return b;
}

double relativeError(const float *got, const dlc::ref::RefTensor &want) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::isnan(got[i]) ? INFINITY : std::fabs(got[i] - want.data[i]));
    scale = std::max(scale, std::fabs(want.data[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/// Runs |func|'s kernels under |options|; returns its results as floats.
std::vector<std::vector<float>> runEmulated(func::FuncOp func,
                                            const std::vector<dlc::ref::RefTensor> &args,
                                            const dlc::sim::LaunchOptions &options, int *index) {
  std::map<void *, Buffer> buffers; // by Value impl
  auto key = [](Value v) { return v.getAsOpaquePointer(); };
  for (auto [arg, value] : llvm::zip(func.getArguments(), args)) {
    Buffer b = allocate(arg, "argument");
    for (int64_t i = 0; i < value.size(); ++i)
      b->as<float>()[i] = float(value.data[size_t(i)]);
    buffers[const_cast<void *>(key(arg))] = b;
  }
  for (auto group : func.getBody().getOps<dlc::dl::FusedOp>()) {
    FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group, (*index)++);
    EXPECT_TRUE(succeeded(kernel));
    if (failed(kernel))
      return {};
    const dlc::test::EmulatedKernel *compiled = nullptr;
    for (int k = 0; k < dlcEmulatedKernelCount; ++k)
      if (kernel->name == dlcEmulatedKernels[k].name)
        compiled = &dlcEmulatedKernels[k];
    EXPECT_NE(compiled, nullptr) << kernel->name << " was not compiled into the test";
    if (!compiled)
      return {};
    std::vector<void *> pointers;
    for (Value v : group.getInputs())
      pointers.push_back(buffers.at(const_cast<void *>(key(v)))->data());
    for (auto [i, r] : llvm::enumerate(group.getResults())) {
      Buffer b = allocate(r, kernel->name.c_str());
      if (llvm::is_contained(kernel->zeroedOutputs, int(i)))
        std::memset(b->data(), 0, b->bytes());
      buffers[const_cast<void *>(key(r))] = b;
      pointers.push_back(b->data());
    }
    unsigned long long step = 0;
    std::vector<void *> args;
    for (void *&p : pointers)
      args.push_back(&p);
    if (kernel->takesStep)
      args.push_back(&step);
    dim3 grid(unsigned(kernel->grid[0]), unsigned(kernel->grid[1]), unsigned(kernel->grid[2]));
    dim3 block(unsigned(kernel->block[0]), unsigned(kernel->block[1]), unsigned(kernel->block[2]));
    dlc::rt::Status status = dlc::sim::launchPacked(kernel->name.c_str(), compiled->run,
                                                     args.data(), grid, block, 0, options);
    EXPECT_TRUE(status.ok()) << status.toString();
  }
  std::vector<std::vector<float>> results;
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (Value v : ret.getOperands()) {
    Buffer b = buffers.at(const_cast<void *>(key(v)));
    size_t unwrittenAt = 0;
    EXPECT_EQ(b->countUnwritten(4, &unwrittenAt), 0u) << "first unwritten element " << unwrittenAt;
    const float *p = b->as<float>();
    results.emplace_back(p, p + b->bytes() / 4);
  }
  return results;
}

TEST(EmulatedKernelsTest, EveryEmittedKernelMatchesTheReference) {
  DialectRegistry registry;
  registry.insert<dlc::dl::DLDialect, func::FuncDialect>();
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> original =
      parseSourceFile<ModuleOp>(DLC_SOURCE_DIR "/test/unit/Inputs/emulated_kernels.mlir", &context);
  ASSERT_TRUE(original);
  OwningOpRef<ModuleOp> fused = original->clone();
  PassManager pm(&context);
  pm.addPass(dlc::createFuseKernelsPass());
  ASSERT_TRUE(succeeded(pm.run(*fused)));

  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-1, 1);
  int checked = 0;
  for (auto schedule : {dlc::sim::Schedule::kForward, dlc::sim::Schedule::kReverse}) {
    dlc::sim::LaunchOptions options = dlc::sim::defaultLaunchOptions();
    options.schedule = schedule;
    int index = 0;
    for (auto func : fused->getOps<func::FuncOp>()) {
      SCOPED_TRACE(func.getSymName().str() + " under " + dlc::sim::scheduleName(schedule));
      auto reference = original->lookupSymbol<func::FuncOp>(func.getSymName());
      std::vector<dlc::ref::RefTensor> args;
      for (Type t : func.getArgumentTypes()) {
        dlc::ref::RefTensor a(std::vector<int64_t>(cast<ShapedType>(t).getShape()));
        for (double &v : a.data)
          v = double(float(dist(rng)));
        args.push_back(std::move(a));
      }
      auto want = dlc::ref::evaluate(reference, args, {});
      ASSERT_TRUE(succeeded(want));
      auto got = runEmulated(func, args, options, &index);
      ASSERT_EQ(got.size(), want->size());
      for (size_t r = 0; r < got.size(); ++r) {
        double error = relativeError(got[r].data(), (*want)[r]);
        EXPECT_LE(error, 1e-4) << "result " << r;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 2 * 28);
}

TEST(EmulatedKernelsTest, EveryEmittedKernelCompilesWithNvrtcWithinLimits) {
  // The same kernels for the GPU: NVRTC for sm_90 and the older sm_80, and
  // each cubin's resources against what the launch needs (no GPU needed).
  const dlc::rt::cuda::Nvrtc *nvrtc = nullptr;
  if (dlc::rt::Status s = dlc::rt::cuda::Nvrtc::instance(&nvrtc); !s.ok())
    GTEST_SKIP() << s.toString();
  DialectRegistry registry;
  registry.insert<dlc::dl::DLDialect, func::FuncDialect>();
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(DLC_SOURCE_DIR "/test/unit/Inputs/emulated_kernels.mlir", &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(dlc::createFuseKernelsPass());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  int index = 0, compiled = 0;
  module->walk([&](dlc::dl::FusedOp group) {
    FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group, index++);
    ASSERT_TRUE(succeeded(kernel));
    dlc::rt::cuda::NvrtcProgram program{kernel->name, kernel->source, {}, {}, {"--std=c++17"}};
    dlc::rt::cuda::CompiledProgram result;
    dlc::rt::Status status = nvrtc->compile(program, {"sm_90", "sm_80"}, &result);
    ASSERT_TRUE(status.ok()) << status.toString();
    for (const dlc::rt::cuda::CompiledImage &image : result.images) {
      dlc::rt::cuda::CubinInfo info;
      ASSERT_TRUE(dlc::rt::cuda::parseCubin(image.cubin.data(), image.cubin.size(), &info).ok());
      const dlc::rt::cuda::KernelResources *r = info.find(kernel->name);
      ASSERT_NE(r, nullptr) << kernel->name << " for " << image.arch;
      int64_t threads = kernel->block[0] * kernel->block[1] * kernel->block[2];
      EXPECT_LE(int64_t(r->registers) * threads, 65536) << kernel->name << " " << image.arch;
      EXPECT_LE(int64_t(r->sharedBytes), 48 * 1024) << kernel->name << " " << image.arch;
      EXPECT_LE(r->frameBytes, 64u) << kernel->name << " " << image.arch << ": stack frame";
      ++compiled;
    }
  });
  EXPECT_EQ(compiled, 2 * index);
}

} // namespace
