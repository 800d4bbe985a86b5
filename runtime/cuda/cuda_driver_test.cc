//===- cuda_driver_test.cc - The driver API without and with a GPU --------===//
//
// Here (no driver) the first tests check that "no GPU" is a clean
// kUnavailable; the GPU tests skip. On a GPU machine the GPU tests run.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/cuda_driver.h"

#include "runtime/cuda/cubin_info.h"
#include "runtime/cuda/nvrtc.h"
#include "runtime/cuda/test_kernels.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>

#include <dlfcn.h>
#include <unistd.h>

namespace dlc::rt::cuda {
namespace {
using namespace testing;

bool driverInstalled() {
  void *h = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!h) h = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  return h != nullptr; // never closed: the driver does not like being unloaded
}

TEST(CudaDriver, NoDriverIsUnavailableAndFast) {
  if (driverInstalled()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CudaContext> ctx;
  Status s = CudaContext::open(0, &ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("libcuda.so.1 not found: no NVIDIA driver on this machine"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(ctx, nullptr);
  EXPECT_EQ(CudaContext::probe().code(), StatusCode::kUnavailable);
  // Asking again gives the same answer (the failure is remembered).
  EXPECT_EQ(CudaContext::open(0, &ctx).message(), s.message());
}

TEST(CudaDriver, TheToolkitStubIsNotADriver) {
  const std::string stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (::access(stub.c_str(), R_OK) != 0) GTEST_SKIP() << "no " << stub;
  ::setenv("DLC_CUDA_DRIVER_LIBRARY", stub.c_str(), 1);
  std::unique_ptr<CudaContext> ctx;
  Status s = CudaContext::open(0, &ctx);
  ::unsetenv("DLC_CUDA_DRIVER_LIBRARY");
  ASSERT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cuInit failed: CUDA_ERROR_STUB_LIBRARY (34)"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(stub), std::string::npos);
}

TEST(CudaDriver, ErrorTextWithoutADriver) {
  EXPECT_NE(cudaErrorText(2).find("CUDA_ERROR_OUT_OF_MEMORY (2)"), std::string::npos);
  EXPECT_NE(cudaErrorText(12345).find("(12345)"), std::string::npos);
}

// --- On a GPU ----------------------------------------------------------------

/// An open context and NVRTC, or skip.
struct Gpu {
  std::unique_ptr<CudaContext> ctx;
  const Nvrtc *nvrtc = nullptr;
  std::string skip;
  Gpu() {
    if (Status s = CudaContext::open(0, &ctx); !s.ok())
      skip = s.toString();
    else if (Status s = Nvrtc::instance(&nvrtc); !s.ok())
      skip = s.toString();
  }
};

#define DLC_REQUIRE_GPU(gpu)                                                                       \
  Gpu gpu;                                                                                         \
  if (!gpu.skip.empty()) GTEST_SKIP() << gpu.skip

CudaModule *loadOrDie(Gpu &gpu, const NvrtcProgram &program, bool ptxOnly = false) {
  CompiledImage image;
  Status s = gpu.nvrtc->compileForArch(program, gpu.ctx->device().arch(), &image);
  EXPECT_TRUE(s.ok()) << s.toString();
  CudaModule *module = nullptr;
  s = gpu.ctx->loadModule(program.name, ptxOnly ? std::vector<uint8_t>() : image.cubin, image.ptx,
                          &module);
  EXPECT_TRUE(s.ok()) << s.toString();
  return module;
}

// What counts for the 48 KiB limit is static plus dynamic shared memory; the
// opt-in raises the dynamic limit only.
TEST(CudaDriver, SharedMemoryOptInCountsStaticAndDynamic) {
  EXPECT_EQ(dynamicSharedOptIn(0, 0), 0u);
  EXPECT_EQ(dynamicSharedOptIn(48 * 1024, 0), 0u);
  EXPECT_EQ(dynamicSharedOptIn(0, 48 * 1024), 0u);
  EXPECT_EQ(dynamicSharedOptIn(0, 48 * 1024 + 4), 48u * 1024 + 4);
  EXPECT_EQ(dynamicSharedOptIn(40 * 1024, 16 * 1024), 16u * 1024); // neither alone exceeds it
  EXPECT_EQ(dynamicSharedOptIn(16 * 1024, 32 * 1024), 0u);
}

TEST(CudaDriverGpu, DescribesTheDevice) {
  DLC_REQUIRE_GPU(gpu);
  const DeviceInfo &d = gpu.ctx->device();
  EXPECT_FALSE(d.name.empty());
  EXPECT_GE(d.ccMajor, 7);
  EXPECT_GT(d.multiprocessors, 0);
  EXPECT_GE(d.sharedPerBlockOptin, d.sharedPerBlock);
  EXPECT_GE(d.driverVersion, 12000);
  size_t free = 0, total = 0;
  ASSERT_TRUE(gpu.ctx->memoryInfo(&free, &total).ok());
  EXPECT_GT(free, 0u);
  EXPECT_LE(free, total);
  std::printf("[ device   ] %s %s, %d SMs, %.1f GiB, driver %d\n", d.name.c_str(), d.arch().c_str(),
              d.multiprocessors, total / 1073741824.0, d.driverVersion);
}

TEST(CudaDriverGpu, RunsTheElementwiseKernel) {
  DLC_REQUIRE_GPU(gpu);
  for (bool ptxOnly : {false, true}) { // CUBIN, then the PTX JIT path
    SCOPED_TRACE(ptxOnly ? "PTX JIT" : "CUBIN");
    CudaModule *module = loadOrDie(gpu, {"dlc_add", kAddSource, {}, {}, {}}, ptxOnly);
    ASSERT_NE(module, nullptr);
    CudaKernel kernel;
    ASSERT_TRUE(gpu.ctx->getKernel(module, "dlc_add", &kernel).ok());
    const int n = 100003; // not a multiple of the block
    std::vector<float> a(n), b(n), c(n, -1.f);
    for (int i = 0; i < n; ++i) a[i] = 0.5f * i, b[i] = 1.f - i;
    DevicePtr da = 0, db = 0, dc = 0;
    ASSERT_TRUE(gpu.ctx->alloc(n * sizeof(float), &da).ok());
    ASSERT_TRUE(gpu.ctx->alloc(n * sizeof(float), &db).ok());
    ASSERT_TRUE(gpu.ctx->alloc(n * sizeof(float), &dc).ok());
    ASSERT_TRUE(gpu.ctx->copyToDevice(da, a.data(), n * sizeof(float)).ok());
    ASSERT_TRUE(gpu.ctx->copyToDevice(db, b.data(), n * sizeof(float)).ok());
    LaunchConfig config;
    config.block[0] = 256;
    config.grid[0] = (n + 255) / 256;
    Status s = gpu.ctx->launchWith(kernel, config, da, db, dc, n);
    ASSERT_TRUE(s.ok()) << s.toString();
    ASSERT_TRUE(gpu.ctx->copyToHost(c.data(), dc, n * sizeof(float)).ok());
    ASSERT_TRUE(gpu.ctx->synchronize().ok());
    for (int i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i] + b[i]) << i;
    for (DevicePtr p : {da, db, dc}) EXPECT_TRUE(gpu.ctx->free(p).ok());
    EXPECT_TRUE(gpu.ctx->unloadModule(module).ok());
  }
}

TEST(CudaDriverGpu, RunsTheReductionAndAgreesWithCubinInfo) {
  DLC_REQUIRE_GPU(gpu);
  const NvrtcProgram program{"dlc_block_sum", kBlockSumSource, {}, {}, {}};
  CompiledImage image;
  ASSERT_TRUE(gpu.nvrtc->compileForArch(program, gpu.ctx->device().arch(), &image).ok());
  CudaModule *module = nullptr;
  ASSERT_TRUE(gpu.ctx->loadModule("dlc_block_sum", image.cubin, image.ptx, &module).ok());
  CudaKernel kernel;
  ASSERT_TRUE(gpu.ctx->getKernel(module, "dlc_block_sum", &kernel).ok());

  KernelAttributes attrs;
  ASSERT_TRUE(gpu.ctx->kernelAttributes(kernel, &attrs).ok());
  CubinInfo info;
  ASSERT_TRUE(parseCubin(image.cubin.data(), image.cubin.size(), &info).ok());
  EXPECT_EQ(attrs.registers, info.kernels[0].registers);
  // Which of the two the driver reports on sm_90+ is what this records.
  EXPECT_TRUE(attrs.sharedBytes == static_cast<int>(info.kernels[0].sharedBytes) ||
              attrs.sharedBytes == static_cast<int>(info.kernels[0].sharedSectionBytes));
  std::printf("[ resource ] driver: %d regs, %d B shared, %d B local; cubin: %d regs, %u B shared "
              "(section %u), %u B stack\n",
              attrs.registers, attrs.sharedBytes, attrs.localBytes, info.kernels[0].registers,
              info.kernels[0].sharedBytes, info.kernels[0].sharedSectionBytes,
              info.kernels[0].stackBytes);

  const int n = 1 << 20;
  std::vector<float> x(n);
  double expected = 0;
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>((i % 17) - 8), expected += x[i];
  DevicePtr dx = 0, dout = 0;
  ASSERT_TRUE(gpu.ctx->alloc(n * sizeof(float), &dx).ok());
  ASSERT_TRUE(gpu.ctx->alloc(sizeof(float), &dout).ok());
  ASSERT_TRUE(gpu.ctx->copyToDevice(dx, x.data(), n * sizeof(float)).ok());
  ASSERT_TRUE(gpu.ctx->memset(dout, 0, sizeof(float)).ok());
  LaunchConfig config;
  config.block[0] = 256;
  config.grid[0] = 120;
  ASSERT_TRUE(gpu.ctx->launchWith(kernel, config, dx, dout, n).ok());
  float sum = -1;
  ASSERT_TRUE(gpu.ctx->copyToHost(&sum, dout, sizeof sum).ok());
  ASSERT_TRUE(gpu.ctx->synchronize().ok());
  EXPECT_EQ(sum, static_cast<float>(expected));
  gpu.ctx->free(dx);
  gpu.ctx->free(dout);
}

TEST(CudaDriverGpu, RunsTheHalfKernel) {
  DLC_REQUIRE_GPU(gpu);
  NvrtcProgram program{"dlc_half_scale", kHalfScaleSource, {}, {}, {}};
  ASSERT_TRUE(readCudaHeaders(findCudaIncludeDir(), fp16HeaderNames(), &program.headers).ok());
  CudaModule *module = loadOrDie(gpu, program);
  ASSERT_NE(module, nullptr);
  CudaKernel kernel;
  ASSERT_TRUE(gpu.ctx->getKernel(module, "dlc_half_scale", &kernel).ok());
  const int n = 4096;
  // fp16 bit patterns of small integers (exact in half): i % 64.
  auto toHalf = [](int v) -> uint16_t {
    if (v == 0) return 0;
    int e = 0;
    while ((1 << (e + 1)) <= v) ++e;
    return static_cast<uint16_t>((e + 15) << 10 | ((v - (1 << e)) << (10 - e)));
  };
  std::vector<uint16_t> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = toHalf(i % 64);
  DevicePtr dx = 0, dy = 0;
  ASSERT_TRUE(gpu.ctx->alloc(n * 2, &dx).ok());
  ASSERT_TRUE(gpu.ctx->alloc(n * 2, &dy).ok());
  ASSERT_TRUE(gpu.ctx->copyToDevice(dx, x.data(), n * 2).ok());
  LaunchConfig config;
  config.block[0] = 128;
  config.grid[0] = n / 128;
  ASSERT_TRUE(gpu.ctx->launchWith(kernel, config, dx, dy, 2.0f, n).ok());
  ASSERT_TRUE(gpu.ctx->copyToHost(y.data(), dy, n * 2).ok());
  ASSERT_TRUE(gpu.ctx->synchronize().ok());
  for (int i = 0; i < n; ++i) ASSERT_EQ(y[i], toHalf(2 * (i % 64))) << i;
  gpu.ctx->free(dx);
  gpu.ctx->free(dy);
}

TEST(CudaDriverGpu, ErrorsNameTheCallAndTheKernel) {
  DLC_REQUIRE_GPU(gpu);
  CudaModule *module = loadOrDie(gpu, {"dlc_add", kAddSource, {}, {}, {}});
  ASSERT_NE(module, nullptr);
  CudaKernel kernel;
  Status s = gpu.ctx->getKernel(module, "no_such_kernel", &kernel);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("cuModuleGetFunction(kernel 'no_such_kernel'"), std::string::npos)
      << s.message();
  ASSERT_TRUE(gpu.ctx->getKernel(module, "dlc_add", &kernel).ok());
  LaunchConfig config;
  config.block[0] = 4096; // above the 1024-thread limit
  s = gpu.ctx->launchWith(kernel, config, DevicePtr{0}, DevicePtr{0}, DevicePtr{0}, 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  EXPECT_NE(s.message().find("cuLaunchKernel(kernel 'dlc_add', grid 1x1x1, block 4096x1x1"),
            std::string::npos)
      << s.message();
  config.block[0] = 0;
  EXPECT_EQ(gpu.ctx->launchWith(kernel, config, 0).code(), StatusCode::kInvalidArgument);

  CudaModule *bad = nullptr;
  std::vector<uint8_t> garbage(256, 0x5a);
  garbage[0] = 0x7f, garbage[1] = 'E', garbage[2] = 'L', garbage[3] = 'F';
  s = gpu.ctx->loadModule("garbage", garbage, "", &bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.toString();
  s = gpu.ctx->loadModule("bad_ptx", {}, "this is not PTX", &bad);
  EXPECT_NE(s.message().find("module 'bad_ptx', PTX JIT"), std::string::npos) << s.message();
  DevicePtr huge = 0;
  s = gpu.ctx->alloc(size_t{1} << 50, &huge);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  EXPECT_NE(s.message().find("CUDA_ERROR_OUT_OF_MEMORY"), std::string::npos);
}

} // namespace
} // namespace dlc::rt::cuda
