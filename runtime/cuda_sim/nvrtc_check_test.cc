//===- nvrtc_check_test.cc - The test kernels also compile for the GPU ---===//
//
// Compiles test_kernels.cuh with NVRTC for sm_90, proving the emulated source
// is genuine CUDA. NVRTC is dlopen'ed (declarations below, from nvrtc.h) and
// the test is skipped where it is not installed.
//
//===----------------------------------------------------------------------===//
#include <dlfcn.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using nvrtcProgram = struct _nvrtcProgram *;
using CreateFn = int (*)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                         const char *const *);
using CompileFn = int (*)(nvrtcProgram, int, const char *const *);
using SizeFn = int (*)(nvrtcProgram, size_t *);
using LogFn = int (*)(nvrtcProgram, char *);
using DestroyFn = int (*)(nvrtcProgram *);

TEST(CudaSimNvrtc, TestKernelsCompileForSm90) {
  void *lib = dlopen("libnvrtc.so", RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen("libnvrtc.so.13", RTLD_NOW | RTLD_LOCAL);
  if (!lib) GTEST_SKIP() << "libnvrtc not available";
  auto create = reinterpret_cast<CreateFn>(dlsym(lib, "nvrtcCreateProgram"));
  auto compile = reinterpret_cast<CompileFn>(dlsym(lib, "nvrtcCompileProgram"));
  auto logSize = reinterpret_cast<SizeFn>(dlsym(lib, "nvrtcGetProgramLogSize"));
  auto getLog = reinterpret_cast<LogFn>(dlsym(lib, "nvrtcGetProgramLog"));
  auto cubinSize = reinterpret_cast<SizeFn>(dlsym(lib, "nvrtcGetCUBINSize"));
  auto destroy = reinterpret_cast<DestroyFn>(dlsym(lib, "nvrtcDestroyProgram"));
  ASSERT_TRUE(create && compile && logSize && getLog && cubinSize && destroy);

  std::ifstream in(std::string(DLC_SIM_REPO_ROOT) + "/runtime/cuda_sim/test_kernels.cuh");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string src = text.str();
  nvrtcProgram prog = nullptr;
  ASSERT_EQ(create(&prog, src.c_str(), "test_kernels.cu", 0, nullptr, nullptr), 0);
  std::string inc1 = std::string("-I") + DLC_SIM_REPO_ROOT, inc2 = std::string("-I") + DLC_SIM_CUDA_INCLUDE;
  const char *opts[] = {"--gpu-architecture=sm_90", "--std=c++17", inc1.c_str(), inc2.c_str()};
  int rc = compile(prog, 4, opts);
  size_t n = 0;
  logSize(prog, &n);
  std::string log(n, '\0');
  getLog(prog, log.data());
  EXPECT_EQ(rc, 0) << log;
  size_t cubin = 0;
  cubinSize(prog, &cubin);
  EXPECT_GT(cubin, 0u);
  destroy(&prog);
}

} // namespace
