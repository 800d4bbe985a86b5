//===- compile_bench.cc - NVRTC compile times for runtime/cuda/README.md --===//
//
// dlc-cuda-compile-bench [archs, default sm_90]: times one small kernel, a
// batch of 20 distinct small kernels on 1 and 2 threads, and the same batch
// through a fresh kernel cache (cold) and again (warm). A benchmark tool,
// so it prints; the runtime library never does.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/kernel_cache.h"
#include "runtime/cuda/nvrtc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace dlc::rt;
using namespace dlc::rt::cuda;

namespace {

/// Process CPU time (all threads), to tell parallel speed-up from contention.
double cpuMs() { return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

/// Twenty distinct kernels of the kinds the compiler emits: elementwise
/// chains, block reductions and fp16 (embedded cuda_fp16.h) kernels.
std::vector<NvrtcProgram> makePrograms(const std::vector<NvrtcHeader> &fp16) {
  std::vector<NvrtcProgram> programs;
  for (int i = 0; i < 20; ++i) {
    const std::string name = "bench_k" + std::to_string(i), c = std::to_string(i + 1) + ".0f";
    NvrtcProgram p;
    p.name = name;
    if (i % 3 == 0) {
      p.source = "extern \"C\" __global__ void " + name +
                 "(const float *a, const float *b, float *o, int n) {\n"
                 "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
                 "  if (i < n) o[i] = fmaxf(a[i] * " +
                 c + " + b[i], 0.f);\n}\n";
    } else if (i % 3 == 1) {
      p.source =
          "extern \"C\" __global__ void " + name +
          "(const float *x, float *out, int n) {\n"
          "  __shared__ float s[256];\n  int t = threadIdx.x; float v = 0.f;\n"
          "  for (int i = blockIdx.x * 256 + t; i < n; i += gridDim.x * 256) v += x[i] * " +
          c +
          ";\n"
          "  s[t] = v; __syncthreads();\n"
          "  for (int k = 128; k > 0; k >>= 1) { if (t < k) s[t] += s[t + k]; __syncthreads(); }\n"
          "  if (t == 0) atomicAdd(out, s[0]);\n}\n";
    } else {
      p.source = "#include <cuda_fp16.h>\nextern \"C\" __global__ void " + name +
                 "(const __half *x, __half *y, int n) {\n"
                 "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
                 "  if (i < n) y[i] = __hmul(x[i], __float2half(" +
                 c + "));\n}\n";
      p.headers = fp16;
    }
    programs.push_back(std::move(p));
  }
  return programs;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> archs;
  for (int i = 1; i < argc; ++i) archs.push_back(argv[i]);
  if (archs.empty()) archs = {"sm_90"};
  const Nvrtc *nvrtc = nullptr;
  if (Status s = Nvrtc::instance(&nvrtc); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  std::vector<NvrtcHeader> fp16;
  if (Status s = readCudaHeaders(findCudaIncludeDir(), fp16HeaderNames(), &fp16); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  const std::vector<NvrtcProgram> programs = makePrograms(fp16);
  std::string archList;
  for (const std::string &a : archs) archList += (archList.empty() ? "" : ",") + a;
  std::printf("NVRTC %s (%s), %zu kernels x {%s}, %u hardware threads\n", nvrtc->version().c_str(),
              nvrtc->libraryPath().c_str(), programs.size(), archList.c_str(),
              std::max(1u, std::thread::hardware_concurrency()));

  // Single kernels: median of 5 after a warm-up (the first call loads
  // libnvrtc-builtins and is slower).
  CompiledProgram one;
  nvrtc->compile(programs[0], archs, &one);
  for (int which : {0, 1, 2}) {
    std::vector<double> t;
    for (int rep = 0; rep < 5; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      if (Status s = nvrtc->compile(programs[which], archs, &one); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.toString().c_str());
        return 1;
      }
      t.push_back(msSince(start));
    }
    std::sort(t.begin(), t.end());
    static const char *kinds[] = {"elementwise", "reduction", "fp16 (embedded header)"};
    std::printf("single %-24s %7.1f ms\n", kinds[which], t[2]);
  }

  std::vector<CompiledProgram> out;
  for (int threads : {1, 2}) {
    const double cpu = cpuMs();
    const auto start = std::chrono::steady_clock::now();
    if (Status s = nvrtc->compileBatch(programs, archs, threads, &out); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.toString().c_str());
      return 1;
    }
    const double wall = msSince(start);
    std::printf("batch of %zu, %d thread(s)       %7.1f ms  (CPU %.1f ms)\n", programs.size(),
                threads, wall, cpuMs() - cpu);
  }

  char dir[] = "/tmp/dlc_compile_bench_XXXXXX";
  if (!::mkdtemp(dir)) return 1;
  for (const char *phase : {"cold", "warm"}) {
    KernelCache cache(dir);
    const auto start = std::chrono::steady_clock::now();
    if (Status s = cache.compileBatch(*nvrtc, programs, archs, 2, &out); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.toString().c_str());
      return 1;
    }
    const KernelCacheStats st = cache.stats();
    std::printf("cache %s, 2 threads           %7.1f ms  (hits %llu, misses %llu)\n", phase,
                msSince(start), static_cast<unsigned long long>(st.hits),
                static_cast<unsigned long long>(st.misses));
  }
  std::system(("rm -rf '" + std::string(dir) + "'").c_str());
  return 0;
}
