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
#include "runtime/float16.h"
#include "test/unit/EmulatedKernelRegistry.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>

using namespace mlir;

namespace {

using Buffer = std::shared_ptr<dlc::sim::SimBuffer>;

dlc::ref::RefTensor randomInput(BlockArgument arg, std::mt19937 &rng);

/// The runtime element type of a tensor type (the emitters' types).
dlc::rt::DType dtypeOf(Type t) {
  Type e = cast<ShapedType>(t).getElementType();
  if (e.isF16())
    return dlc::rt::DType::kF16;
  if (e.isBF16())
    return dlc::rt::DType::kBF16;
  if (e.isF64())
    return dlc::rt::DType::kF64;
  if (e.isInteger(64))
    return dlc::rt::DType::kI64;
  if (e.isInteger(32))
    return dlc::rt::DType::kI32;
  return dlc::rt::DType::kF32;
}

Buffer allocate(Value v, const std::string &name) {
  auto type = cast<ShapedType>(v.getType());
  size_t bytes = size_t(type.getNumElements()) * dlc::rt::dtypeSize(dtypeOf(type));
  auto b = std::make_shared<dlc::sim::SimBuffer>(bytes ? bytes : 4, name.c_str(),
                                                 dlc::sim::ElemKind::kF32);
  b->fillUnwritten();
  return b;
}

template <typename T> double relativeError(const T *got, const dlc::ref::RefTensor &want) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::isnan(got[i]) ? INFINITY : std::fabs(got[i] - want.data[i]));
    scale = std::max(scale, std::fabs(want.data[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/// One launch of a kernel: its first or a later stage.
struct Launch {
  std::string entry;
  dlc::sim::PackedKernel run;
  dim3 grid, block;
  uint32_t clusterBlocks = 1;
};

/// |kernel|'s launches in order, each with its launcher from |table|, found
/// as |prefix| + its entry; empty (and a failure) when one is missing.
std::vector<Launch> launchesOf(const dlc::cuda::CudaKernel &kernel, const dlc::test::EmulatedKernel *table,
                               int count, const std::string &prefix) {
  auto dims = [](const std::array<int64_t, 3> &d) { return dim3(unsigned(d[0]), unsigned(d[1]), unsigned(d[2])); };
  std::vector<Launch> launches = {{kernel.name, nullptr, dims(kernel.grid), dims(kernel.block)}};
  for (const dlc::cuda::CudaStage &stage : kernel.then)
    launches.push_back({stage.entry, nullptr, dims(stage.grid), dims(stage.block), uint32_t(stage.clusterBlocks)});
  for (Launch &l : launches) {
    for (int k = 0; k < count; ++k)
      if (prefix + l.entry == table[k].name)
        l.run = table[k].run;
    EXPECT_NE(l.run, nullptr) << l.entry << " was not compiled into the test";
    if (!l.run)
      return {};
  }
  return launches;
}

/// Runs |func|'s kernels under |options|; returns its results (as doubles:
/// f64 results keep their precision).
std::vector<std::vector<double>> runEmulated(func::FuncOp func,
                                            const std::vector<dlc::ref::RefTensor> &args,
                                            const dlc::sim::LaunchOptions &options) {
  std::map<void *, Buffer> buffers; // by Value impl
  auto key = [](Value v) { return v.getAsOpaquePointer(); };
  for (auto [arg, value] : llvm::zip(func.getArguments(), args)) {
    Buffer b = allocate(arg, "argument");
    for (int64_t i = 0; i < value.size(); ++i)
      dlc::rt::storeElement(dtypeOf(arg.getType()), b->data(), i, value.data[size_t(i)]);
    buffers[const_cast<void *>(key(arg))] = b;
  }
  for (auto group : func.getBody().getOps<dlc::dl::FusedOp>()) {
    FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group);
    EXPECT_TRUE(succeeded(kernel));
    if (failed(kernel))
      return {};
    std::vector<Launch> launches =
        launchesOf(*kernel, dlcEmulatedKernels, dlcEmulatedKernelCount, "emulated_kernels/");
    if (launches.empty())
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
    // Undefined at the start (NaN shows a read before a write), unless the
    // runtime zeroes it (an OrderedSumTable's ticket).
    std::vector<float> scratch(size_t(kernel->scratchBytes + 3) / 4, kernel->zeroedScratch ? 0.0f : std::nanf(""));
    if (kernel->scratchBytes > 0)
      pointers.push_back(scratch.data());
    unsigned long long stepWord = 0, *step = &stepWord;
    std::vector<void *> args;
    for (void *&p : pointers)
      args.push_back(&p);
    if (kernel->takesStep)
      args.push_back(&step);
    for (const Launch &l : launches) {
      dlc::sim::LaunchOptions clustered = options;
      clustered.clusterBlocks = l.clusterBlocks;
      dlc::rt::Status status = dlc::sim::launchPacked(l.entry.c_str(), l.run, args.data(), l.grid, l.block, 0, clustered);
      EXPECT_TRUE(status.ok()) << status.toString();
    }
  }
  std::vector<std::vector<double>> results;
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (Value v : ret.getOperands()) {
    Buffer b = buffers.at(const_cast<void *>(key(v)));
    dlc::rt::DType dtype = dtypeOf(v.getType());
    size_t unwrittenAt = 0;
    EXPECT_EQ(b->countUnwritten(dlc::rt::dtypeSize(dtype), &unwrittenAt), 0u)
        << "first unwritten element " << unwrittenAt;
    std::vector<double> values(b->bytes() / dlc::rt::dtypeSize(dtype));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = dlc::rt::loadElement(dtype, b->data(), int64_t(i));
    results.push_back(std::move(values));
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
  pm.addPass(dlc::createSelectKernelsPass(dlc::SelectKernelsPassOptions{{"cuda"}}));
  ASSERT_TRUE(succeeded(pm.run(*fused)));

  std::mt19937 rng(3);
  int checked = 0;
  for (auto schedule : {dlc::sim::Schedule::kForward, dlc::sim::Schedule::kReverse}) {
    dlc::sim::LaunchOptions options = dlc::sim::defaultLaunchOptions();
    options.schedule = schedule;
    for (auto func : fused->getOps<func::FuncOp>()) {
      SCOPED_TRACE(func.getSymName().str() + " under " + dlc::sim::scheduleName(schedule));
      auto reference = original->lookupSymbol<func::FuncOp>(func.getSymName());
      std::vector<dlc::ref::RefTensor> args;
      for (BlockArgument arg : reference.getArguments())
        args.push_back(randomInput(arg, rng));
      auto want = dlc::ref::evaluate(reference, args, {});
      ASSERT_TRUE(succeeded(want));
      auto got = runEmulated(func, args, options);
      ASSERT_EQ(got.size(), want->size());
      for (size_t r = 0; r < got.size(); ++r) {
        double error = relativeError(got[r].data(), (*want)[r]);
        // A cast rounds once, the same way everywhere: equal to the bit. An
        // f64 kernel computes in double: float arithmetic would be off by
        // about 1e-7.
        Type element = cast<ShapedType>(reference.getResultTypes()[r]).getElementType();
        double bound = func.getSymName().starts_with("cast_") ? 0.0
                       : func.getSymName().ends_with("_f64")  ? 1e-12
                       : element.isBF16()                     ? 8e-3 // a rounding flip: 2^-7
                       : element.isF16()                      ? 1e-3 // 2^-10
                                                              : 1e-4;
        EXPECT_LE(error, bound) << "result " << r;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 2 * 40);
}

TEST(EmulatedKernelsTest, LaunchesBeyondCudaLimitsAreRefusedAtCompileTime) {
  dlc::cuda::CudaKernel k;
  k.grid = {200704, 1, 1};
  k.block = {256, 1, 1};
  EXPECT_EQ(dlc::cuda::launchLimitError(k), "");
  k.grid = {1, 100352, 1}; // VGG16 at batch 128 with row tiles on grid.y
  EXPECT_NE(dlc::cuda::launchLimitError(k).find("exceeds CUDA's (2^31 - 1, 65535, 65535)"),
            std::string::npos);
  k.grid = {1, 1, 1};
  k.block = {512, 4, 1};
  EXPECT_NE(dlc::cuda::launchLimitError(k), "");
  k.block = {256, 1, 1};
  k.sharedBytes = 48 * 1024 + 4;
  EXPECT_NE(dlc::cuda::launchLimitError(k), "");
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
  pm.addPass(dlc::createSelectKernelsPass(dlc::SelectKernelsPassOptions{{"cuda"}}));
  ASSERT_TRUE(succeeded(pm.run(*module)));
  int index = 0, compiled = 0;
  module->walk([&](dlc::dl::FusedOp group) {
    FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group);
    ++index;
    ASSERT_TRUE(succeeded(kernel));
    std::vector<std::string> includeDirs; // tensor-core kernels include mma.h
    if (std::string dir = dlc::rt::cuda::findCudaIncludeDir(); !dir.empty())
      includeDirs.push_back(dir);
    dlc::rt::cuda::NvrtcProgram program{kernel->name, kernel->source, {}, includeDirs, {"--std=c++17"}};
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

extern const dlc::test::EmulatedKernel dlcExampleKernels[];
extern const int dlcExampleKernelCount;

namespace {

/// |group| as a function of its own (its inputs as arguments, its yielded
/// values as results) for the reference evaluator.
func::FuncOp groupAsFunction(dlc::dl::FusedOp group, ModuleOp into) {
  Block &body = group.getBody().front();
  auto yield = cast<dlc::dl::YieldOp>(body.getTerminator());
  OpBuilder builder(into.getBodyRegion());
  auto type = builder.getFunctionType(TypeRange(body.getArgumentTypes()),
                                      TypeRange(yield.getValues().getTypes()));
  auto func = builder.create<func::FuncOp>(group.getLoc(), "group", type);
  Block *entry = func.addEntryBlock();
  IRMapping map;
  map.map(body.getArguments(), entry->getArguments());
  builder.setInsertionPointToEnd(entry);
  for (Operation &op : body.without_terminator())
    builder.clone(op, map);
  SmallVector<Value> results;
  for (Value v : yield.getValues())
    results.push_back(map.lookup(v));
  builder.create<func::ReturnOp>(group.getLoc(), results);
  return func;
}

/// Random but valid values for group input |arg|: ids below the embedding's
/// vocabulary, sparse labels below the class count, a small step number,
/// non-negative optimizer state; else uniform in [-1, 1].
dlc::ref::RefTensor randomInput(BlockArgument arg, std::mt19937 &rng) {
  auto type = cast<ShapedType>(arg.getType());
  dlc::ref::RefTensor t(std::vector<int64_t>(type.getShape()));
  if (type.getElementType().isInteger()) {
    t.integer = true;
    int64_t bound = 4;
    for (Operation *user : arg.getUsers()) {
      if (isa<dlc::dl::EmbeddingOp>(user))
        bound = cast<ShapedType>(user->getOperand(1).getType()).getDimSize(0);
      else if (user->getNumOperands() > 0 && user->getOperand(0) != arg)
        bound = cast<ShapedType>(user->getOperand(0).getType()).getShape().back();
    }
    std::uniform_int_distribution<int64_t> dist(0, bound - 1);
    for (double &v : t.data)
      v = double(dist(rng));
    return t;
  }
  // Optimizer state and variances must be positive (square roots).
  bool positive = llvm::any_of(arg.getUses(), [](OpOperand &use) {
    Operation *u = use.getOwner();
    if (isa<dlc::dl::OptimizerUpdateOp>(u))
      return true;
    if (auto bn = dyn_cast<dlc::dl::BatchNormOp>(u))
      return use.get() == bn.getMovingVariance();
    if (auto g = dyn_cast<dlc::dl::BatchNormInferenceGradOp>(u))
      return use.get() == g.getMovingVariance();
    if (auto st = dyn_cast<dlc::dl::BatchNormStatisticsUpdateOp>(u))
      return use.get() == st.getMovingVariance();
    return false;
  });
  // LSTM weights at Keras' Glorot scale: uniform [-1, 1] saturates every
  // gate, and 20 steps of saturated float32 sums drift past 1e-4.
  double limit = 1.0;
  for (OpOperand &use : arg.getUses())
    if (isa<dlc::dl::LSTMOp, dlc::dl::LSTMGradOp>(use.getOwner()) &&
        (use.getOperandNumber() == 1 || use.getOperandNumber() == 2))
      limit = std::sqrt(6.0 / double(type.getDimSize(0) + type.getDimSize(1)));
  std::uniform_real_distribution<double> dist(positive ? 0.01 : -limit, limit);
  // Values of the argument's own element type, as a buffer of it holds.
  for (double &v : t.data)
    v = dlc::ref::roundTo(type.getElementType(), dist(rng));
  return t;
}

size_t elementBytes(Type t) {
  Type e = cast<ShapedType>(t).getElementType();
  return e.isInteger(64) ? 8 : 4;
}

/// Runs |kernel| (compiled as |run|) under the emulation on |args|; returns
/// the group's results as doubles.
std::vector<std::vector<double>> runGroup(dlc::dl::FusedOp group, const dlc::cuda::CudaKernel &kernel,
                                          const std::vector<Launch> &launches,
                                          const std::vector<dlc::ref::RefTensor> &args) {
  std::vector<Buffer> buffers;
  std::vector<void *> pointers;
  for (auto [v, a] : llvm::zip(group.getInputs(), args)) {
    Buffer b = allocate(v, "input");
    for (size_t i = 0; i < a.data.size(); ++i) {
      Type e = cast<ShapedType>(v.getType()).getElementType();
      if (e.isInteger(64))
        b->as<int64_t>()[i] = int64_t(a.data[i]);
      else if (e.isInteger(32))
        b->as<int32_t>()[i] = int32_t(a.data[i]);
      else
        b->as<float>()[i] = float(a.data[i]);
    }
    buffers.push_back(b);
    pointers.push_back(b->data());
  }
  for (auto [i, r] : llvm::enumerate(group.getResults())) {
    Buffer b = allocate(r, kernel.name.c_str());
    if (llvm::is_contained(kernel.zeroedOutputs, int(i)))
      std::memset(b->data(), 0, b->bytes());
    buffers.push_back(b);
    pointers.push_back(b->data());
  }
  std::vector<float> scratch(size_t(kernel.scratchBytes + 3) / 4, kernel.zeroedScratch ? 0.0f : std::nanf(""));
  if (kernel.scratchBytes > 0)
    pointers.push_back(scratch.data());
  unsigned long long stepWord = 0, *step = &stepWord;
  std::vector<void *> argv;
  for (void *&p : pointers)
    argv.push_back(&p);
  if (kernel.takesStep)
    argv.push_back(&step);
  for (const Launch &l : launches) {
    dlc::sim::LaunchOptions options = dlc::sim::defaultLaunchOptions();
    options.clusterBlocks = l.clusterBlocks;
    dlc::rt::Status status = dlc::sim::launchPacked(l.entry.c_str(), l.run, argv.data(), l.grid, l.block, 0, options);
    EXPECT_TRUE(status.ok()) << status.toString();
  }
  std::vector<std::vector<double>> results;
  for (auto [i, r] : llvm::enumerate(group.getResults())) {
    const Buffer &b = buffers[group.getInputs().size() + i];
    size_t unwrittenAt = 0;
    EXPECT_EQ(b->countUnwritten(elementBytes(r.getType()), &unwrittenAt), 0u)
        << kernel.name << " result " << i << ": first unwritten element " << unwrittenAt;
    std::vector<double> values(b->bytes() / 4);
    for (size_t k = 0; k < values.size(); ++k)
      values[k] = b->as<float>()[k];
    results.push_back(std::move(values));
  }
  return results;
}

/// Every distinct kernel of the example models' programs (forward, grad,
/// train_step), run on fresh random inputs under the emulation, outputs
/// poisoned, against the reference evaluator on the same group.
void checkExample(const std::string &stem, int *distinct);

void reportCount(const std::string &stem, int distinct) {
  std::printf("%s: %d distinct kernels checked under the emulation\n", stem.c_str(), distinct);
}

void checkExample(const std::string &stem, int *distinct) {
  DialectRegistry registry;
  registry.insert<dlc::dl::DLDialect, func::FuncDialect>();
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(DLC_FUSED_EXAMPLES_DIR "/" + stem + ".fused.mlir", &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(dlc::createSelectKernelsPass(dlc::SelectKernelsPassOptions{{"cuda"}}));
  ASSERT_TRUE(succeeded(pm.run(*module)));
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(UnknownLoc::get(&context));
  std::mt19937 rng(11);
  std::set<std::string> seen;
  module->walk([&](dlc::dl::FusedOp group) {
    FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group);
    ASSERT_TRUE(succeeded(kernel)) << group.getKernelName().str();
    // Programs repeat kernels (grad and train_step share most); their
    // header lines differ only by the locations in the re-parsed file.
    std::string key = kernel->source.substr(kernel->source.find('\n'));
    for (size_t at = key.find(kernel->name); at != std::string::npos; at = key.find(kernel->name, at))
      key.replace(at, kernel->name.size(), "@");
    if (!seen.insert(key).second)
      return;
    ++*distinct;
    SCOPED_TRACE(stem + ": " + kernel->name);
    std::vector<Launch> launches = launchesOf(*kernel, dlcExampleKernels, dlcExampleKernelCount, stem + "/");
    ASSERT_FALSE(launches.empty());
    std::vector<dlc::ref::RefTensor> args;
    for (BlockArgument arg : group.getBody().front().getArguments())
      args.push_back(randomInput(arg, rng));
    func::FuncOp reference = groupAsFunction(group, *scratch);
    auto want = dlc::ref::evaluate(reference, args, {});
    reference.erase();
    ASSERT_TRUE(succeeded(want));
    auto got = runGroup(group, *kernel, launches, args);
    ASSERT_EQ(got.size(), want->size());
    for (size_t r = 0; r < got.size(); ++r)
      EXPECT_LE(relativeError(got[r].data(), (*want)[r]), 1e-4) << "result " << r;
  });
}

/// Checks every distinct kernel of |stem| and that there are at least
/// |minimum| (a model whose kernels vanished from the registry must fail).
void expectExampleMatches(const std::string &stem, int minimum) {
  int distinct = 0;
  checkExample(stem, &distinct);
  reportCount(stem, distinct);
  EXPECT_GE(distinct, minimum);
}

TEST(EmulatedExamplesTest, MnistCnnKernelsMatchTheReference) { expectExampleMatches("mnist_cnn", 20); }

TEST(EmulatedExamplesTest, TextLstmKernelsMatchTheReference) { expectExampleMatches("text_lstm", 8); }

TEST(EmulatedExamplesTest, Vgg16TransferAt224KernelsMatchTheReference) {
  if (!std::getenv("DLC_EMULATE_FULL_VGG16"))
    GTEST_SKIP() << "minutes under the emulation; set DLC_EMULATE_FULL_VGG16=1 to run";
  expectExampleMatches("vgg16_transfer", 15);
}

TEST(EmulatedExamplesTest, Vgg16TransferKernelsMatchTheReference) {
  expectExampleMatches("vgg16_small", 15);
}

} // namespace
