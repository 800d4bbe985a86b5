//===- cuda_sim_test.cc - Tests of the CUDA-on-CPU emulation -------------===//
//
// Runs the CUDA kernels of test_kernels.cuh on the emulator, compares them
// with float64 references, and checks that every planted bug is caught.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda_sim/cuda_sim.h"
#include "runtime/cuda_sim/test_kernels.cuh"
#include "runtime/tf32.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace dlc::sim {
namespace {

using rt::Status;

std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v) x = d(rng);
  return v;
}

/// A simMalloc'ed float buffer initialised from |values|.
struct FloatBuf : SimBuffer {
  FloatBuf(const std::vector<float> &values, const char *name)
      : SimBuffer(values.size() * sizeof(float), name, ElemKind::kF32) {
    std::copy(values.begin(), values.end(), as<float>());
  }
  FloatBuf(size_t n, const char *name) : SimBuffer(n * sizeof(float), name, ElemKind::kF32) {}
  float *p() const { return as<float>(); }
};

double seconds(const std::function<void()> &f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void referenceGemm(const std::vector<float> &A, const std::vector<float> &B, std::vector<double> &C,
                   int M, int N, int K) {
  C.assign(size_t(M) * N, 0.0);
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j) C[size_t(i) * N + j] += double(A[size_t(i) * K + k]) * B[size_t(k) * N + j];
}

Status runGemm(void (*kernel)(const float *, const float *, float *, int, int, int),
               const LaunchOptions &o, const FloatBuf &A, const FloatBuf &B, FloatBuf &C, int M,
               int N, int K) {
  dim3 grid((N + 31) / 32, (M + 31) / 32), block(32, 32);
  return launchWith(o, "sgemm", kernel, grid, block, 0, A.p(), B.p(), C.p(), M, N, K);
}

// (a)
TEST(CudaSim, ElementwiseGridStride) {
  const int n = 10007; // ragged, and fewer threads than elements: the loop runs
  auto x = randomFloats(n, 1, -3, 3), y = randomFloats(n, 2);
  FloatBuf dx(x, "x"), dy(y, "y"), out(n, "out");
  ASSERT_TRUE(launch("ew_gelu_mul", ew_gelu_mul, dim3(7), dim3(256), 0, dx.p(), dy.p(), 0.25f,
                     out.p(), n).ok());
  EXPECT_EQ(out.countUnwritten(4), 0u);
  for (int i = 0; i < n; ++i) {
    double v = x[i], g = 0.5 * v * (1 + std::tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
    ASSERT_NEAR(out.p()[i], g * y[i] + 0.25, 1e-5) << i;
  }
}

TEST(CudaSim, LargeGridLoopsOverBlocks) {
  const int n = 70000 * 32 + 5; // grid.x > 65535
  std::vector<float> x(n, 1.5f);
  FloatBuf dx(x, "x"), dy(x, "y"), out(n, "out");
  int blocks = (n + 31) / 32;
  ASSERT_TRUE(launch("ew_gelu_mul", ew_gelu_mul, dim3(blocks), dim3(32), 0, dx.p(), dy.p(), 0.0f,
                     out.p(), n).ok());
  EXPECT_EQ(lastLaunchStats().blocks, uint64_t(blocks));
  EXPECT_EQ(out.countUnwritten(4), 0u);
}

// (b) and (g)
TEST(CudaSim, TiledSgemmRaggedMatchesFloat64AndCatchesMissingBarrier) {
  const int M = 70, N = 45, K = 100; // K: 4 tile trips, all edges ragged
  auto a = randomFloats(size_t(M) * K, 3), b = randomFloats(size_t(K) * N, 4);
  std::vector<double> ref;
  referenceGemm(a, b, ref, M, N, K);
  FloatBuf A(a, "A"), B(b, "B"), C(size_t(M) * N, "C");

  ScheduleDiff diff;
  auto good = [&](const LaunchOptions &o) { return runGemm(sgemm_tiled, o, A, B, C, M, N, K); };
  ASSERT_TRUE(compareSchedules(good, &diff).ok());
  EXPECT_FALSE(diff.differ) << diff.report;
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(C.p()[i], ref[i], 1e-5 * (1 + std::fabs(ref[i]))) << i;

  auto bad = [&](const LaunchOptions &o) {
    return runGemm(sgemm_tiled_nosync_bug, o, A, B, C, M, N, K);
  };
  ASSERT_TRUE(compareSchedules(bad, &diff).ok());
  EXPECT_TRUE(diff.differ);
  EXPECT_NE(diff.report.find("buffer 'C'"), std::string::npos) << diff.report;
}

// (c)
TEST(CudaSim, BlockReductionWithShufflesAndAtomics) {
  const int n = 100003;
  auto x = randomFloats(n, 5);
  FloatBuf dx(x, "x"), sum(1, "sum");
  double ref = 0;
  for (float v : x) ref += v;
  ScheduleDiff diff;
  CompareOptions co;
  co.relTol = 1e-5; // atomicAdd order changes with the block order
  auto run = [&](const LaunchOptions &o) {
    sum.p()[0] = 0.0f;
    return launchWith(o, "reduce_sum", reduce_sum, dim3(13), dim3(1024), 0, dx.p(), sum.p(), n);
  };
  ASSERT_TRUE(compareSchedules(run, &diff, co).ok());
  EXPECT_FALSE(diff.differ) << diff.report;
  EXPECT_NEAR(sum.p()[0], ref, 1e-3);
  // A partial last warp (blockDim 48) with a full-mask shuffle reads lanes
  // that do not exist: a bug on the GPU, an error here.
  sum.p()[0] = 0.0f;
  Status s = launch("reduce_sum", reduce_sum, dim3(2), dim3(48), 0, dx.p(), sum.p(), n);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not exist"), std::string::npos) << s.toString();
}

// (d)
TEST(CudaSim, DynamicSharedSoftmax) {
  const int rows = 5, cols = 333;
  auto x = randomFloats(size_t(rows) * cols, 6, -4, 4);
  FloatBuf dx(x, "x"), y(size_t(rows) * cols, "y");
  size_t smem = ((cols + 3) / 4) * 16 + 32 * sizeof(float);
  ASSERT_TRUE(launch("softmax_rows", softmax_rows, dim3(rows), dim3(128), smem, dx.p(), y.p(), cols).ok());
  for (int r = 0; r < rows; ++r) {
    double m = -1e30, s = 0;
    for (int c = 0; c < cols; ++c) m = std::max(m, double(x[r * cols + c]));
    for (int c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
    for (int c = 0; c < cols; ++c)
      ASSERT_NEAR(y.p()[r * cols + c], std::exp(x[r * cols + c] - m) / s, 1e-6) << r << "," << c;
  }
  // Too little dynamic shared memory: the scratch lands past the end.
  Status s = launch("softmax_rows", softmax_rows, dim3(rows), dim3(128), smem - 31 * 4, dx.p(), y.p(), cols);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dynamic shared memory"), std::string::npos) << s.toString();
}

// (e)
TEST(CudaSim, BallotAnyAllAndWarpScan) {
  const int n = 150, blocks = 2, threads = 96, warps = blocks * threads / 32;
  auto x = randomFloats(n, 7);
  for (int i = 64; i < 96; ++i) x[i] = 1.0f;  // warp 2: all positive
  for (int i = 96; i < 128; ++i) x[i] = -1.0f; // warp 3: none
  FloatBuf dx(x, "x");
  SimBuffer ballots(warps * 4, "ballots"), anyAll(warps * 8, "anyAll"), scan(n * 4, "scan");
  ASSERT_TRUE(launch("warp_votes", warp_votes, dim3(blocks), dim3(threads), 0, dx.p(),
                     ballots.as<unsigned>(), anyAll.as<int>(), scan.as<int>(), n).ok());
  for (int w = 0; w < warps; ++w) {
    unsigned expect = 0;
    for (int l = 0; l < 32; ++l) {
      int i = w * 32 + l;
      if (i < n && x[i] > 0) expect |= 1u << l;
    }
    EXPECT_EQ(ballots.as<unsigned>()[w], expect) << w;
    EXPECT_EQ(anyAll.as<int>()[2 * w], expect != 0) << w;
    EXPECT_EQ(anyAll.as<int>()[2 * w + 1], expect == ~0u) << w;
    int run = 0;
    for (int l = 0; l < 32 && w * 32 + l < n; ++l) {
      run += (expect >> l) & 1;
      EXPECT_EQ(scan.as<int>()[w * 32 + l], run) << w << "," << l;
    }
  }
}

// (f)
TEST(CudaSim, HalfPrecisionOps) {
  const int n = 77;
  auto a = randomFloats(n, 8), b = randomFloats(n, 9);
  FloatBuf da(a, "a"), db(b, "b"), y(n, "y");
  SimBuffer yh(n * 2, "yh", ElemKind::kF16);
  ASSERT_TRUE(launch("half_ops", half_ops, dim3(3), dim3(32), 0, da.p(), db.p(), 0.75f, y.p(),
                     yh.as<__half>(), n).ok());
  auto h = [](double v) { return double(__half2float(__double2half(v))); };
  for (int i = 0; i < n; ++i) {
    double ha = h(a[i]), hb = h(b[i]), hs = 0.75;
    double r = h(std::exp(h(ha * hs + hb)));
    double lo = h(ha * hs + 0.5), hi = h(hb * hs - 0.5);
    EXPECT_EQ(__half2float(yh.as<__half>()[i]), float(r)) << i;
    EXPECT_NEAR(y.p()[i], r + lo * hi, 1e-6) << i;
  }
}

// (w) The warp matrix API: a tensor-core GEMM matches float64 on fp16
// operands, and the emulation's opaque fragment layout catches a transposed
// load and code that assumes which element a lane holds.
struct WmmaProblem {
  static constexpr int M = 32, N = 48, K = 64; // 2 x 3 tiles, 4 steps of K
  SimBuffer a{size_t(M) * K * 2, "A", ElemKind::kF16}, b{size_t(N) * K * 2, "B", ElemKind::kF16};
  FloatBuf bias{randomFloats(N, 13), "bias"}, c{size_t(M) * N, "C"};
  std::vector<double> want; // A B in float64 from the fp16 values

  WmmaProblem() {
    auto av = randomFloats(size_t(M) * K, 11), bv = randomFloats(size_t(N) * K, 12);
    for (size_t i = 0; i < av.size(); ++i) a.as<__half>()[i] = __float2half(av[i]);
    for (size_t i = 0; i < bv.size(); ++i) b.as<__half>()[i] = __float2half(bv[i]);
    want.assign(size_t(M) * N, 0.0);
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k)
          want[size_t(m) * N + n] += double(__half2float(a.as<__half>()[size_t(m) * K + k])) *
                                     double(__half2float(b.as<__half>()[size_t(n) * K + k]));
  }
  /// The largest |C - want - offset(n)|.
  double error(const std::vector<float> &offset = {}) const {
    double e = 0;
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n)
        e = std::max(e, std::abs(c.p()[size_t(m) * N + n] - want[size_t(m) * N + n] -
                                 (offset.empty() ? 0.0 : double(offset[n]))));
    return e;
  }
};

TEST(CudaSim, WmmaGemmMatchesFloat64AndCatchesLayoutBugs) {
  WmmaProblem p;
  const dim3 grid(WmmaProblem::N / 16, WmmaProblem::M / 16), warp(32);
  ASSERT_TRUE(launch("wmma_gemm", wmma_gemm, grid, warp, 0, p.a.as<__half>(), p.b.as<__half>(),
                     p.c.p(), WmmaProblem::M, WmmaProblem::N, WmmaProblem::K).ok());
  EXPECT_LT(p.error(), 1e-5);
  ASSERT_TRUE(launch("wmma_gemm_transposed_b_bug", wmma_gemm_transposed_b_bug, grid, warp, 0,
                     p.a.as<__half>(), p.b.as<__half>(), p.c.p(), WmmaProblem::M, WmmaProblem::N,
                     WmmaProblem::K).ok());
  EXPECT_GT(p.error(), 0.1) << "a transposed B load went unnoticed";
  std::vector<float> bias(p.bias.p(), p.bias.p() + WmmaProblem::N);
  ASSERT_TRUE(launch("wmma_bias_layout_bug", wmma_bias_layout_bug, grid, warp, 0,
                     p.a.as<__half>(), p.b.as<__half>(), p.bias.p(), p.c.p(), WmmaProblem::M,
                     WmmaProblem::N, WmmaProblem::K).ok());
  EXPECT_GT(p.error(bias), 0.1) << "code assuming a fragment layout went unnoticed";
}

// TF32 fragments (16x16x8): converted operands give the product of the
// operands rounded to nearest (ties away) in TF32; unconverted ones are
// truncated to TF32, as a tensor core reads them, which differs.
TEST(CudaSim, WmmaTf32RoundsOperandsAsTheHardware) {
  constexpr int M = 32, N = 16, K = 24;
  FloatBuf a{randomFloats(size_t(M) * K, 21), "A"}, b{randomFloats(size_t(N) * K, 22), "B"};
  FloatBuf c{size_t(M) * N, "C"};
  auto truncated = [](float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits &= 0xffffe000u;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  };
  auto product = [&](float (*round)(float)) {
    std::vector<double> want(size_t(M) * N, 0.0);
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k)
          want[size_t(m) * N + n] +=
              double(round(a.p()[size_t(m) * K + k])) * double(round(b.p()[size_t(n) * K + k]));
    return want;
  };
  auto error = [&](const std::vector<double> &want) {
    double e = 0;
    for (size_t i = 0; i < want.size(); ++i)
      e = std::max(e, std::abs(double(c.p()[i]) - want[i]));
    return e;
  };
  const std::vector<double> rounded = product([](float v) { return dlc::rt::roundToTf32(v); });
  const std::vector<double> cut = product(+truncated);
  const dim3 grid(N / 16, M / 16), warp(32);
  ASSERT_TRUE(launch("wmma_gemm_tf32", wmma_gemm_tf32, grid, warp, 0, a.p(), b.p(), c.p(), M, N, K, 1).ok());
  EXPECT_LT(error(rounded), 1e-5);
  EXPECT_GT(error(cut), 1e-4) << "the rounding was not to nearest";
  ASSERT_TRUE(launch("wmma_gemm_tf32", wmma_gemm_tf32, grid, warp, 0, a.p(), b.p(), c.p(), M, N, K, 0).ok());
  EXPECT_LT(error(cut), 1e-5);
  EXPECT_GT(error(rounded), 1e-4) << "unconverted operands were not truncated";
}

TEST(CudaSim, WmmaMisuseIsAnError) {
  WmmaProblem p;
  // A K that is no multiple of 8: ldm breaks load_matrix_sync's contract.
  Status s = launch("wmma_gemm", wmma_gemm, dim3(1, 1), dim3(32), 0, p.a.as<__half>(),
                    p.b.as<__half>(), p.c.p(), 16, 16, 20);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("load_matrix_sync"), std::string::npos) << s.toString();
  // Half a warp: the calls are warp-collective.
  s = launch("wmma_gemm", wmma_gemm, dim3(1, 1), dim3(16), 0, p.a.as<__half>(), p.b.as<__half>(),
             p.c.p(), 16, 16, 16);
  EXPECT_FALSE(s.ok());
}

// (h)
TEST(CudaSim, RedZoneCatchesOffByOneWrite) {
  const int n = 100;
  std::vector<float> x(n, 1.0f);
  FloatBuf dx(x, "x"), out(n, "out");
  Status s = launch("ew_scale_oob_bug", ew_scale_oob_bug, dim3(4), dim3(32), 0, dx.p(), out.p(), n);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ew_scale_oob_bug"), std::string::npos) << s.toString();
  EXPECT_NE(s.message().find("buffer 'out'"), std::string::npos) << s.toString();
  EXPECT_NE(s.message().find("past the end at byte offset 400"), std::string::npos) << s.toString();
  EXPECT_TRUE(checkRedZones("after repair").ok()); // the report re-poisons
}

// (i)
TEST(CudaSim, BarrierBugsAreErrorsNotHangs) {
  FloatBuf x(std::vector<float>(64, 1.0f), "x");
  Status s = launch("early_exit", early_exit_barrier_bug, dim3(1), dim3(64), 0, x.p(), 40);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exited while"), std::string::npos) << s.toString();
  EXPECT_NE(s.message().find("early_exit"), std::string::npos) << s.toString();

  s = launch("divergent", divergent_barrier_bug, dim3(1), dim3(64), 0, x.p());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("divergent barrier"), std::string::npos) << s.toString();

  s = launch("shfl_exit", shuffle_exited_lane_bug, dim3(1), dim3(32), 0, x.p(), 20);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has exited"), std::string::npos) << s.toString();

  // The emulator is usable again after a faulted launch.
  EXPECT_TRUE(launch("early_exit", early_exit_barrier_bug, dim3(1), dim3(64), 0, x.p(), 64).ok());
}

// (j)
TEST(CudaSim, PoisonFindsUnwrittenOutput) {
  const int n = 50;
  FloatBuf dx(std::vector<float>(n, 1.0f), "x"), out(n, "out");
  ASSERT_TRUE(launch("skip", ew_scale_skip_bug, dim3(2), dim3(32), 0, dx.p(), out.p(), n).ok());
  size_t first = 0;
  EXPECT_EQ(out.countUnwritten(sizeof(float), &first), 1u);
  EXPECT_EQ(first, size_t(n - 1));
  EXPECT_TRUE(std::isnan(out.p()[n - 1]));
}

TEST(CudaSim, SharedMemoryIsPoisonedPerBlock) {
  FloatBuf out(32, "out");
  ASSERT_TRUE(launch("uninit", read_uninit_shared_bug, dim3(1), dim3(32), 0, out.p()).ok());
  EXPECT_TRUE(std::isnan(out.p()[1])); // reads s[0], never written
  EXPECT_EQ(out.p()[2], 1.0f);
}

TEST(CudaSim, BlockCountsReduceAndMatch) {
  std::vector<int> x(64);
  for (int i = 0; i < 64; ++i) x[i] = (i * 7) % 11 - (i < 32 ? 0 : 3);
  SimBuffer dx(64 * 4, "x"), out(8 * 4, "out");
  std::copy(x.begin(), x.end(), dx.as<int>());
  ASSERT_TRUE(launch("counts", block_counts, dim3(2), dim3(32), 0, dx.as<int>(), out.as<int>()).ok());
  for (int b = 0; b < 2; ++b) {
    int count = 0, sum = 0, orr = 0, andd = 1, same = 0;
    for (int l = 0; l < 32; ++l) {
      int v = x[b * 32 + l];
      count += v > 0, sum += v, orr |= v > 5, andd &= v >= 0;
      same += (v & 3) == (x[b * 32] & 3);
    }
    EXPECT_EQ(out.as<int>()[4 * b], count);
    EXPECT_EQ(out.as<int>()[4 * b + 1], orr * 2 + andd);
    EXPECT_EQ(out.as<int>()[4 * b + 2], sum);
    EXPECT_EQ(out.as<int>()[4 * b + 3], same);
  }
}

// Host-only kernels (they call the emulator's API, so NVRTC never sees them).
Status g_nested;
extern "C" __global__ void nested_launch_kernel(float *out) {
  if (threadIdx.x == 0)
    g_nested = launch("inner", ew_scale_skip_bug, dim3(1), dim3(1), 0, out, out, 1);
}
extern "C" __global__ void trap_kernel(int bad) {
  if (threadIdx.x == bad) __trap();
  __syncthreads();
}

TEST(CudaSim, TrapAndNestedLaunchAreErrors) {
  FloatBuf out(4, "out");
  ASSERT_TRUE(launch("outer", nested_launch_kernel, dim3(1), dim3(32), 0, out.p()).ok());
  EXPECT_EQ(g_nested.code(), rt::StatusCode::kInvalidArgument) << g_nested.toString();
  Status s = launch("trap_kernel", trap_kernel, dim3(2), dim3(64), 0, 17);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("thread (17,0,0): __trap"), std::string::npos) << s.toString();
  EXPECT_TRUE(launch("trap_kernel", trap_kernel, dim3(2), dim3(64), 0, -1).ok());
}

TEST(CudaSim, PackedLaunchAndInvalidConfigs) {
  const int n = 40;
  FloatBuf dx(std::vector<float>(n, 2.0f), "x"), out(n, "out");
  float *px = dx.p(), *po = out.p();
  int nn = n;
  void *args[] = {&px, &po, &nn};
  ASSERT_TRUE(launchPacked("skip", DLC_SIM_PACKED(ew_scale_skip_bug), args, dim3(1), dim3(64), 0).ok());
  EXPECT_EQ(out.p()[0], 4.0f);
  Status s = launch("skip", ew_scale_skip_bug, dim3(1), dim3(1025), 0, px, po, n);
  EXPECT_EQ(s.code(), rt::StatusCode::kInvalidArgument);
  s = launch("skip", ew_scale_skip_bug, dim3(0), dim3(32), 0, px, po, n);
  EXPECT_EQ(s.code(), rt::StatusCode::kInvalidArgument);
}

// (k) The blocks of a cluster run co-resident: each reads what the others
// wrote into its shared memory before the cluster barrier, in every order.
TEST(CudaSim, ClusterBlocksShareMemoryAcrossBarriers) {
  const int blocks = 8, steps = 5;
  FloatBuf out(blocks * 128, "out");
  for (Schedule schedule : {Schedule::kForward, Schedule::kReverse, Schedule::kRandom}) {
    LaunchOptions o = defaultLaunchOptions();
    o.schedule = schedule, o.clusterBlocks = 4;
    Status s = launchWith(o, "cluster_ring", cluster_ring, dim3(blocks), dim3(64), 128 * sizeof(float),
                          out.p(), steps);
    ASSERT_TRUE(s.ok()) << s.toString();
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < 64; ++t) {
        // The row arrived from rank (rank - steps) mod 4 of the same cluster.
        int from = b / 4 * 4 + ((b % 4) - steps % 4 + 4) % 4;
        float origin = from * 100.0f + t;
        ASSERT_EQ(out.p()[b * 128 + t], origin + steps) << scheduleName(schedule) << " block " << b;
        ASSERT_EQ(out.p()[b * 128 + 64 + t], origin * float(1 << steps)) << scheduleName(schedule);
      }
    EXPECT_EQ(lastLaunchStats().blocks, uint64_t(blocks));
  }
  LaunchOptions o = defaultLaunchOptions();
  o.clusterBlocks = 3; // does not divide the grid
  Status s = launchWith(o, "cluster_ring", cluster_ring, dim3(blocks), dim3(64), 128 * sizeof(float),
                        out.p(), steps);
  EXPECT_EQ(s.code(), rt::StatusCode::kInvalidArgument) << s.toString();
  o.clusterBlocks = 1; // rank 1 does not exist
  s = launchWith(o, "cluster_ring", cluster_ring, dim3(blocks), dim3(64), 128 * sizeof(float), out.p(),
                 steps);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("block rank 1"), std::string::npos) << s.toString();
  o.clusterBlocks = 4;
  s = launchWith(o, "cluster_exit", cluster_exit_bug, dim3(blocks), dim3(32), 0, out.p());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exited while"), std::string::npos) << s.toString();
  s = launchWith(o, "cluster_rank", cluster_rank_bug, dim3(4), dim3(32), 0, out.p());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("block rank 4"), std::string::npos) << s.toString();
  // A cluster barrier in a launch without clusters waits for the block alone.
  EXPECT_TRUE(launch("cluster_exit", cluster_exit_bug, dim3(1), dim3(32), 0, out.p()).ok());
}

// (l) cp.async writes shared memory when its batch is waited for: before,
// the tile still holds poison; zero-fill and the batch order are exact.
TEST(CudaSim, PipelineCopiesLandAtTheirWait) {
  std::vector<__half> host(128);
  for (int i = 0; i < 128; ++i) host[i] = __float2half(float(i % 50) - 20.0f);
  SimBuffer in(128 * sizeof(__half), "in");
  std::memcpy(in.data(), host.data(), 128 * sizeof(__half));
  FloatBuf out(128, "out");
  const int n = 40;
  Status s = launch("pipeline_tiles", pipeline_tiles, dim3(1), dim3(64), 0, in.as<__half>(), out.p(), n, 0);
  ASSERT_TRUE(s.ok()) << s.toString();
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(out.p()[i], i < n ? __half2float(host[i]) : 0.0f) << i;
    EXPECT_EQ(out.p()[64 + i], __half2float(host[64 + i])) << i;
  }
  s = launch("pipeline_tiles", pipeline_tiles, dim3(1), dim3(64), 0, in.as<__half>(), out.p(), n, 1);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_TRUE(std::isnan(out.p()[0])) << "read before its wait: " << out.p()[0];
  EXPECT_EQ(out.p()[64], __half2float(host[64]));
  SimBuffer global(64 * sizeof(__half), "global");
  s = launch("pipeline_to_global", pipeline_to_global_bug, dim3(1), dim3(8), 0, in.as<__half>(),
             global.as<__half>());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not the block's shared memory"), std::string::npos) << s.toString();
}

// Costs reported in README.md (best of 3; the first launch of a block size
// also pays for faulting in its fiber stacks).
TEST(CudaSim, Timings) {
  const int S = 256, n = 1 << 20;
  FloatBuf A(randomFloats(S * S, 10), "A"), B(randomFloats(S * S, 11), "B"), C(S * S, "C");
  FloatBuf x(randomFloats(n, 12), "x"), sum(1, "sum");
  double tg = 1e9, tr = 1e9;
  LaunchStats gs, rs;
  for (int rep = 0; rep < 3; ++rep) {
    Status st;
    tg = std::min(tg, seconds([&] {
      st = runGemm(sgemm_tiled, defaultLaunchOptions(), A, B, C, S, S, S);
    }));
    ASSERT_TRUE(st.ok());
    gs = lastLaunchStats();
    sum.p()[0] = 0;
    tr = std::min(tr, seconds([&] {
      st = launch("reduce_sum", reduce_sum, dim3(64), dim3(1024), 0, x.p(), sum.p(), n);
    }));
    ASSERT_TRUE(st.ok());
    rs = lastLaunchStats();
  }
  std::printf("[cuda_sim] sgemm 256^3 (64 blocks of 1024): %.1f ms, %llu switches; "
              "1M-float reduction (64 blocks of 1024): %.1f ms, %llu switches\n",
              tg * 1e3, (unsigned long long)gs.switches, tr * 1e3,
              (unsigned long long)rs.switches);
}

} // namespace
} // namespace dlc::sim
