//===- CpuConvPoolDenseTest.cpp - CPU conv, pool, dense vs the reference --===//
//
// Every float32 kernel of runtime/cpu/{conv,pool,dense}.h is run on seeded
// random inputs and compared with the float64 reference kernel of
// compiler/Reference: relative error max|a - b| / max|ref| <= 1e-4. Max-pool
// cases draw inputs from a few integers so that windows hold ties, whose
// gradient routing must equal the reference's exactly.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/GradKernels.h"
#include "runtime/cpu/conv.h"
#include "runtime/cpu/dense.h"
#include "runtime/cpu/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace ref = dlc::ref;
namespace cpu = dlc::rt::cpu;
using dlc::rt::DType;
using dlc::rt::Status;
using dlc::rt::StatusCode;
using dlc::rt::TensorView;

namespace {

constexpr double kTolerance = 1e-4;

/// A float32 copy of a reference tensor, viewable by the runtime kernels.
struct Buffer {
  std::vector<int64_t> shape;
  std::vector<float> data;

  explicit Buffer(std::vector<int64_t> s) : shape(std::move(s)), data(size_t(ref::numElements(shape)), 0.0f) {}
  explicit Buffer(const ref::RefTensor &t) : shape(t.shape), data(t.data.begin(), t.data.end()) {}
  TensorView view() { return TensorView{data.data(), DType::kF32, shape}; }
};

ref::RefTensor randomTensor(std::mt19937 &rng, std::vector<int64_t> shape, double lo = -1,
                            double hi = 1) {
  ref::RefTensor t(std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  // Rounded to float so that both sides see the same inputs.
  for (double &v : t.data)
    v = double(float(dist(rng)));
  return t;
}

/// Small integers: most pooling windows then contain ties.
ref::RefTensor tiedTensor(std::mt19937 &rng, std::vector<int64_t> shape) {
  ref::RefTensor t(std::move(shape));
  std::uniform_int_distribution<int> dist(-1, 2);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

/// max|got - want| / max|want| (absolute when want is all zeros); infinite on
/// a shape mismatch.
double relativeError(const Buffer &got, const ref::RefTensor &want) {
  if (got.shape != want.shape)
    return INFINITY;
  double diff = 0, scale = 0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    double a = got.data[i], b = want.data[i];
    if (std::isinf(b) && a == b)
      continue;
    diff = std::max(diff, std::isnan(a) ? INFINITY : std::abs(a - b));
    scale = std::max(scale, std::abs(b));
  }
  return scale > 0 ? diff / scale : diff;
}

::testing::AssertionResult matches(const Buffer &got, const ref::RefTensor &want) {
  double error = relativeError(got, want);
  if (error <= kTolerance)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "relative error " << error << " > " << kTolerance;
}

::testing::AssertionResult ok(const Status &s) {
  if (s.ok())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.toString();
}

struct ActivationCase {
  cpu::Activation runtime;
  ref::Unary reference;
  bool none;
  const char *name;
};
const ActivationCase kActivations[] = {
    {cpu::Activation::kNone, ref::Unary::Relu, true, "none"},
    {cpu::Activation::kRelu, ref::Unary::Relu, false, "relu"},
    {cpu::Activation::kSigmoid, ref::Unary::Sigmoid, false, "sigmoid"},
    {cpu::Activation::kTanh, ref::Unary::Tanh, false, "tanh"},
    {cpu::Activation::kGelu, ref::Unary::Gelu, false, "gelu"},
    {cpu::Activation::kGeluTanh, ref::Unary::GeluTanh, false, "gelu_tanh"},
    {cpu::Activation::kLeakyRelu, ref::Unary::LeakyRelu, false, "leaky_relu"},
};
constexpr float kSlope = 0.2f;

ref::RefTensor activated(const ref::RefTensor &x, const ActivationCase &a) {
  return a.none ? x : ref::unary(x, a.reference, kSlope);
}

//===----------------------------------------------------------------------===//
// The comparison itself
//===----------------------------------------------------------------------===//

TEST(CpuConvPoolDenseHarness, RejectsPerturbedResults) {
  std::mt19937 rng(7);
  ref::RefTensor x = randomTensor(rng, {2, 6, 6, 3}), k = randomTensor(rng, {3, 3, 3, 4});
  ref::RefTensor want = ref::conv2d(x, k, nullptr, {1, 1}, true, {1, 1});
  cpu::ConvGeometry g;
  ASSERT_TRUE(ok(cpu::makeConvGeometry(2, 6, 6, 3, 3, 3, 4, 1, 1, 1, 1, true, &g)));
  cpu::Conv2D conv;
  ASSERT_TRUE(ok(conv.prepare(g)));
  Buffer bx(x), bk(k), y(want.shape);
  TensorView vx = bx.view(), vk = bk.view(), vy = y.view();
  ASSERT_TRUE(ok(conv.forward(vx, vk, nullptr, vy)));
  EXPECT_TRUE(matches(y, want));
  // One element off by 1e-3 of the largest output is caught, and so is a
  // result of the wrong shape.
  double top = 0;
  for (double v : want.data)
    top = std::max(top, std::abs(v));
  Buffer nudged = y;
  nudged.data[17] += float(1e-3 * top);
  EXPECT_FALSE(matches(nudged, want));
  Buffer reshaped = y;
  reshaped.shape = {2, 36, 4};
  EXPECT_FALSE(matches(reshaped, want));
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct ConvCase {
  int64_t n, h, w, c, kh, kw, f;
  ref::Pair strides, dilation;
  bool same;
};

std::string describe(const ConvCase &c) {
  return "conv n=" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" +
         std::to_string(c.w) + "x" + std::to_string(c.c) + " k=" + std::to_string(c.kh) + "x" +
         std::to_string(c.kw) + "->" + std::to_string(c.f) + " s=" +
         std::to_string(c.strides[0]) + "," + std::to_string(c.strides[1]) + " d=" +
         std::to_string(c.dilation[0]) + "," + std::to_string(c.dilation[1]) +
         (c.same ? " same" : " valid");
}

const ConvCase kConvCases[] = {
    {2, 9, 11, 3, 3, 3, 5, {1, 1}, {1, 1}, false},
    {2, 9, 11, 3, 3, 3, 5, {1, 1}, {1, 1}, true},
    {2, 9, 11, 4, 3, 3, 6, {2, 2}, {1, 1}, true},
    {2, 9, 11, 4, 3, 3, 6, {2, 2}, {1, 1}, false},
    {3, 10, 7, 5, 3, 2, 4, {2, 1}, {1, 1}, true},
    {3, 10, 7, 5, 3, 2, 4, {2, 1}, {1, 1}, false},
    {2, 11, 9, 3, 3, 3, 8, {1, 1}, {2, 2}, true},
    {2, 11, 9, 3, 3, 3, 8, {1, 1}, {2, 2}, false},
    {2, 12, 12, 2, 2, 4, 3, {1, 1}, {1, 1}, true}, // even kernel: odd pad after
    {4, 28, 28, 1, 3, 3, 32, {1, 1}, {1, 1}, false}, // MNIST first layer
    {2, 13, 15, 3, 5, 5, 16, {2, 2}, {1, 1}, true},  // RGB first layer
    {2, 13, 13, 32, 3, 3, 64, {1, 1}, {1, 1}, false},
    {2, 7, 9, 17, 1, 1, 9, {1, 1}, {1, 1}, false},
    {6, 20, 20, 64, 3, 3, 16, {1, 1}, {1, 1}, true}, // kernel grad in several chunks
};

TEST(CpuConvForward, MatchesReferenceWithEveryActivation) {
  std::mt19937 rng(11);
  for (const ConvCase &c : kConvCases) {
    ref::RefTensor x = randomTensor(rng, {c.n, c.h, c.w, c.c});
    ref::RefTensor k = randomTensor(rng, {c.kh, c.kw, c.c, c.f});
    ref::RefTensor bias = randomTensor(rng, {c.f});
    ref::RefTensor linear = ref::conv2d(x, k, &bias, c.strides, c.same, c.dilation);
    ref::RefTensor unbiased = ref::conv2d(x, k, nullptr, c.strides, c.same, c.dilation);
    cpu::ConvGeometry g;
    ASSERT_TRUE(ok(cpu::makeConvGeometry(c.n, c.h, c.w, c.c, c.kh, c.kw, c.f, c.strides[0],
                                         c.strides[1], c.dilation[0], c.dilation[1], c.same,
                                         &g)));
    ASSERT_EQ((std::vector<int64_t>{g.batch, g.outH, g.outW, g.outC}), linear.shape);
    Buffer bx(x), bk(k), bb(bias);
    TensorView vx = bx.view(), vk = bk.view(), vb = bb.view();
    for (const ActivationCase &a : kActivations) {
      SCOPED_TRACE(describe(c) + " " + a.name);
      cpu::Conv2D conv;
      ASSERT_TRUE(ok(conv.prepare(g, {a.runtime, kSlope})));
      Buffer y(linear.shape);
      TensorView vy = y.view();
      ASSERT_TRUE(ok(conv.forward(vx, vk, &vb, vy)));
      EXPECT_TRUE(matches(y, activated(linear, a)));
      ASSERT_TRUE(ok(conv.forward(vx, vk, nullptr, vy)));
      EXPECT_TRUE(matches(y, activated(unbiased, a)));
    }
  }
}

TEST(CpuConvBackward, DataKernelAndBiasMatchReference) {
  std::mt19937 rng(12);
  for (const ConvCase &c : kConvCases) {
    SCOPED_TRACE(describe(c));
    ref::RefTensor x = randomTensor(rng, {c.n, c.h, c.w, c.c});
    ref::RefTensor k = randomTensor(rng, {c.kh, c.kw, c.c, c.f});
    ref::RefTensor dy =
        randomTensor(rng, ref::conv2d(x, k, nullptr, c.strides, c.same, c.dilation).shape);
    cpu::ConvGeometry g;
    ASSERT_TRUE(ok(cpu::makeConvGeometry(c.n, c.h, c.w, c.c, c.kh, c.kw, c.f, c.strides[0],
                                         c.strides[1], c.dilation[0], c.dilation[1], c.same,
                                         &g)));
    // A fused activation must not leak into the backward passes.
    cpu::Conv2D conv;
    ASSERT_TRUE(ok(conv.prepare(g, {cpu::Activation::kRelu, 0.0f})));
    Buffer bx(x), bk(k), bdy(dy), dx(x.shape), dk(k.shape), db({c.f});
    TensorView vx = bx.view(), vk = bk.view(), vdy = bdy.view(), vdx = dx.view(),
               vdk = dk.view(), vdb = db.view();
    ASSERT_TRUE(ok(conv.backwardData(vdy, vk, vdx)));
    EXPECT_TRUE(matches(dx, ref::conv2dGradInput(dy, k, {c.h, c.w}, c.strides, c.same,
                                                 c.dilation)));
    ASSERT_TRUE(ok(conv.backwardKernel(vx, vdy, vdk, &vdb)));
    ref::RefTensor wantK = ref::conv2dGradKernel(x, dy, {c.kh, c.kw}, c.strides, c.same,
                                                 c.dilation);
    EXPECT_TRUE(matches(dk, wantK));
    EXPECT_TRUE(matches(db, ref::biasGrad(dy)));
    std::fill(dk.data.begin(), dk.data.end(), 0.0f);
    ASSERT_TRUE(ok(conv.backwardKernel(vx, vdy, vdk, nullptr)));
    EXPECT_TRUE(matches(dk, wantK));
  }
}

TEST(CpuConvGeometry, FollowsTfPaddingAndRejectsMisuse) {
  cpu::ConvGeometry g;
  // 10 wide, 4-wide kernel, stride 3, same: 4 outputs, 3 padding (1 before, 2 after).
  ASSERT_TRUE(ok(cpu::makeConvGeometry(1, 10, 10, 1, 4, 4, 1, 3, 3, 1, 1, true, &g)));
  EXPECT_EQ(g.outW, 4);
  EXPECT_EQ(g.padLeft, 1);
  EXPECT_EQ(g.padRight, 2);
  EXPECT_EQ(cpu::makeConvGeometry(1, 2, 2, 1, 3, 3, 1, 1, 1, 1, 1, false, &g).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(ok(cpu::makeConvGeometry(1, 5, 5, 2, 3, 3, 4, 1, 1, 1, 1, false, &g)));
  cpu::Conv2D conv;
  Buffer x({1, 5, 5, 2}), k({3, 3, 2, 4}), y({1, 3, 3, 4}), wrong({1, 3, 3, 5});
  TensorView vx = x.view(), vk = k.view(), vy = y.view(), vw = wrong.view();
  EXPECT_EQ(conv.forward(vx, vk, nullptr, vy).code(), StatusCode::kInvalidArgument);
  cpu::ConvGeometry broken = g;
  broken.outH = 4;
  EXPECT_EQ(conv.prepare(broken).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ok(conv.prepare(g)));
  EXPECT_EQ(conv.forward(vx, vk, nullptr, vw).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ok(conv.forward(vx, vk, nullptr, vy)));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  int64_t n, h, w, c;
  ref::Pair window, strides;
  bool same;
};

const PoolCase kPoolCases[] = {
    {2, 8, 8, 5, {2, 2}, {2, 2}, false},
    {2, 9, 7, 3, {2, 2}, {2, 2}, true},   // ragged: padding after
    {2, 9, 7, 3, {3, 3}, {2, 2}, true},   // overlapping windows
    {2, 7, 9, 4, {3, 2}, {1, 1}, true},
    {1, 10, 10, 17, {3, 3}, {3, 3}, false}, // channel count not a vector multiple
    {2, 5, 6, 3, {2, 3}, {1, 2}, false},
    {1, 8, 8, 2, {2, 2}, {3, 3}, true},   // stride > window: skipped rows
    {3, 26, 26, 32, {2, 2}, {2, 2}, false}, // MNIST
    {2, 11, 11, 64, {2, 2}, {2, 2}, false},
};

TEST(CpuConvPoolDensePool, MaxAndAvgMatchReferenceWithTies) {
  std::mt19937 rng(21);
  for (const PoolCase &c : kPoolCases)
    for (bool tied : {false, true}) {
      SCOPED_TRACE("pool " + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
                   std::to_string(c.c) + " window " + std::to_string(c.window[0]) + "x" +
                   std::to_string(c.window[1]) + " stride " + std::to_string(c.strides[0]) +
                   "," + std::to_string(c.strides[1]) + (c.same ? " same" : " valid") +
                   (tied ? " tied" : ""));
      std::vector<int64_t> shape{c.n, c.h, c.w, c.c};
      ref::RefTensor x = tied ? tiedTensor(rng, shape) : randomTensor(rng, shape);
      ref::RefTensor maxY = ref::maxPool2d(x, c.window, c.strides, c.same);
      ref::RefTensor avgY = ref::avgPool2d(x, c.window, c.strides, c.same);
      ref::RefTensor dy = randomTensor(rng, maxY.shape);
      cpu::PoolGeometry g;
      ASSERT_TRUE(ok(cpu::makePoolGeometry(c.n, c.h, c.w, c.c, c.window[0], c.window[1],
                                           c.strides[0], c.strides[1], c.same, &g)));
      Buffer bx(x), bdy(dy), y(maxY.shape), dx(x.shape);
      // dx starts dirty: the gradients must overwrite, not accumulate.
      std::fill(dx.data.begin(), dx.data.end(), 5.0f);
      TensorView vx = bx.view(), vdy = bdy.view(), vy = y.view(), vdx = dx.view();
      ASSERT_TRUE(ok(cpu::maxPool2d(g, vx, vy)));
      EXPECT_TRUE(matches(y, maxY));
      ASSERT_TRUE(ok(cpu::maxPool2dGrad(g, vx, vdy, vdx)));
      EXPECT_TRUE(matches(dx, ref::maxPool2dGrad(x, dy, c.window, c.strides, c.same)));
      ASSERT_TRUE(ok(cpu::avgPool2d(g, vx, vy)));
      EXPECT_TRUE(matches(y, avgY));
      std::fill(dx.data.begin(), dx.data.end(), 5.0f);
      ASSERT_TRUE(ok(cpu::avgPool2dGrad(g, vdy, vdx)));
      EXPECT_TRUE(matches(dx, ref::avgPool2dGrad(dy, {c.h, c.w}, c.window, c.strides, c.same)));
    }
}

TEST(CpuConvPoolDensePool, FusedReluBiasGradientMatchesTheComposition) {
  // max_pool2d_grad -> relu_grad (mask from the relu output x) -> bias_grad,
  // against the reference ops one after the other; x = relu(random) so that
  // whole windows are zero (ties at 0: their gradient must be masked away).
  std::mt19937 rng(23);
  for (const PoolCase &c : kPoolCases) {
    std::vector<int64_t> shape{c.n, c.h, c.w, c.c};
    ref::RefTensor x = ref::unary(tiedTensor(rng, shape), ref::Unary::Relu);
    ref::RefTensor dy = randomTensor(rng, ref::maxPool2d(x, c.window, c.strides, c.same).shape);
    ref::RefTensor pooled = ref::maxPool2dGrad(x, dy, c.window, c.strides, c.same);
    ref::RefTensor wantDx = ref::unaryGrad(x, pooled, ref::Unary::Relu);
    ref::RefTensor wantDb = ref::biasGrad(wantDx);
    cpu::PoolGeometry g;
    ASSERT_TRUE(ok(cpu::makePoolGeometry(c.n, c.h, c.w, c.c, c.window[0], c.window[1],
                                         c.strides[0], c.strides[1], c.same, &g)));
    Buffer bx(x), bdy(dy), dx(x.shape), db({c.c});
    std::fill(dx.data.begin(), dx.data.end(), 5.0f);
    TensorView vx = bx.view(), vdy = bdy.view(), vdx = dx.view(), vdb = db.view();
    ASSERT_TRUE(ok(cpu::maxPool2dGradRelu(g, vx, vdy, vdx, &vdb)));
    EXPECT_TRUE(matches(dx, wantDx));
    EXPECT_TRUE(matches(db, wantDb));
  }
}

TEST(CpuConvPoolDensePool, MaxGradientTakesTheFirstMaximumOfEachWindow) {
  // One 2x2 window of equal values: all the gradient goes to the top-left.
  Buffer x({1, 2, 2, 1}), dy({1, 1, 1, 1}), dx({1, 2, 2, 1});
  std::fill(x.data.begin(), x.data.end(), 3.0f);
  dy.data[0] = 1.5f;
  cpu::PoolGeometry g;
  ASSERT_TRUE(ok(cpu::makePoolGeometry(1, 2, 2, 1, 2, 2, 2, 2, false, &g)));
  TensorView vx = x.view(), vdy = dy.view(), vdx = dx.view();
  ASSERT_TRUE(ok(cpu::maxPool2dGrad(g, vx, vdy, vdx)));
  EXPECT_EQ(dx.data, (std::vector<float>{1.5f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(cpu::maxPool2dGrad(g, vdy, vdy, vdx).code(), StatusCode::kInvalidArgument);
}

TEST(CpuConvPoolDensePool, GlobalPoolsMatchReference) {
  std::mt19937 rng(22);
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{2, 5, 7, 3}, {3, 4, 4, 19}, {1, 1, 1, 8}, {128, 3, 3, 64}})
    for (bool tied : {false, true}) {
      ref::RefTensor x = tied ? tiedTensor(rng, shape) : randomTensor(rng, shape);
      ref::RefTensor maxY = ref::globalMaxPool2d(x), avgY = ref::globalAvgPool2d(x);
      ref::RefTensor dy = randomTensor(rng, maxY.shape);
      Buffer bx(x), bdy(dy), y(maxY.shape), dx(x.shape);
      std::fill(dx.data.begin(), dx.data.end(), 5.0f);
      TensorView vx = bx.view(), vdy = bdy.view(), vy = y.view(), vdx = dx.view();
      ASSERT_TRUE(ok(cpu::globalMaxPool2d(vx, vy)));
      EXPECT_TRUE(matches(y, maxY));
      ASSERT_TRUE(ok(cpu::globalMaxPool2dGrad(vx, vdy, vdx)));
      EXPECT_TRUE(matches(dx, ref::globalMaxPool2dGrad(x, dy)));
      ASSERT_TRUE(ok(cpu::globalAvgPool2d(vx, vy)));
      EXPECT_TRUE(matches(y, avgY));
      ASSERT_TRUE(ok(cpu::globalAvgPool2dGrad(vdy, vdx)));
      EXPECT_TRUE(matches(dx, ref::globalAvgPool2dGrad(dy, {shape[1], shape[2]})));
    }
}

//===----------------------------------------------------------------------===//
// Dense
//===----------------------------------------------------------------------===//

TEST(CpuConvPoolDenseDense, ForwardAndGradientsMatchReference) {
  std::mt19937 rng(31);
  const std::vector<std::vector<int64_t>> inputs = {
      {7, 13}, {2, 3, 13}, {128, 576}, {1, 64}, {300, 40}};
  const int64_t units[] = {5, 5, 64, 10, 129};
  for (size_t i = 0; i < inputs.size(); ++i) {
    int64_t in = inputs[i].back(), out = units[i];
    ref::RefTensor x = randomTensor(rng, inputs[i]), k = randomTensor(rng, {in, out});
    ref::RefTensor bias = randomTensor(rng, {out});
    ref::RefTensor linear = ref::dense(x, k, &bias), unbiased = ref::dense(x, k, nullptr);
    ref::RefTensor dy = randomTensor(rng, linear.shape);
    Buffer bx(x), bk(k), bb(bias), bdy(dy), y(linear.shape), dx(x.shape), dk(k.shape),
        db({out});
    TensorView vx = bx.view(), vk = bk.view(), vb = bb.view(), vdy = bdy.view(),
               vy = y.view(), vdx = dx.view(), vdk = dk.view(), vdb = db.view();
    for (const ActivationCase &a : kActivations) {
      SCOPED_TRACE("dense " + ref::RefTensor(inputs[i]).shapeString() + " -> " +
                   std::to_string(out) + " " + a.name);
      ASSERT_TRUE(ok(cpu::denseForward(vx, vk, &vb, {a.runtime, kSlope}, vy)));
      EXPECT_TRUE(matches(y, activated(linear, a)));
      ASSERT_TRUE(ok(cpu::denseForward(vx, vk, nullptr, {a.runtime, kSlope}, vy)));
      EXPECT_TRUE(matches(y, activated(unbiased, a)));
    }
    SCOPED_TRACE("dense grads " + ref::RefTensor(inputs[i]).shapeString());
    ASSERT_TRUE(ok(cpu::denseGradInput(vdy, vk, vdx)));
    EXPECT_TRUE(matches(dx, ref::denseGradInput(dy, k)));
    ASSERT_TRUE(ok(cpu::denseGradKernel(vx, vdy, vdk)));
    EXPECT_TRUE(matches(dk, ref::denseGradKernel(x, dy)));
    ASSERT_TRUE(ok(cpu::biasGrad(vdy, vdb)));
    EXPECT_TRUE(matches(db, ref::biasGrad(dy)));
  }
  Buffer x({4, 6}), k({5, 3}), y({4, 3});
  TensorView vx = x.view(), vk = k.view(), vy = y.view();
  EXPECT_EQ(cpu::denseForward(vx, vk, nullptr, {}, vy).code(), StatusCode::kInvalidArgument);
  // No input features: the output is the bias alone.
  Buffer empty({3, 0}), none({0, 4}), bias({4}), out({3, 4});
  bias.data = {1, -2, 3, -4};
  std::fill(out.data.begin(), out.data.end(), 9.0f);
  TensorView ve = empty.view(), vn = none.view(), vb = bias.view(), vo = out.view();
  ASSERT_TRUE(ok(cpu::denseForward(ve, vn, &vb, {cpu::Activation::kRelu, 0.0f}, vo)));
  EXPECT_EQ(out.data, (std::vector<float>{1, 0, 3, 0, 1, 0, 3, 0, 1, 0, 3, 0}));
}

TEST(CpuConvPoolDenseDense, BiasGradSumsEveryLeadingAxis) {
  std::mt19937 rng(32);
  // A conv-sized gradient: 1e5 rows, where float accumulation would drift.
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{5}, {3, 4, 7}, {64, 26, 26, 32}, {2, 3, 4, 5, 6}}) {
    ref::RefTensor dy = randomTensor(rng, shape, -0.5, 1.0);
    Buffer bdy(dy), db({shape.back()});
    TensorView vdy = bdy.view(), vdb = db.view();
    ASSERT_TRUE(ok(cpu::biasGrad(vdy, vdb)));
    EXPECT_TRUE(matches(db, ref::biasGrad(dy)));
  }
}

TEST(CpuConvPoolDenseDense, ApplyActivationMatchesReference) {
  std::mt19937 rng(33);
  ref::RefTensor x = randomTensor(rng, {10000}, -4, 4);
  for (const ActivationCase &a : kActivations) {
    SCOPED_TRACE(a.name);
    Buffer y(x);
    cpu::applyActivation(y.data.data(), int64_t(y.data.size()), {a.runtime, kSlope});
    EXPECT_TRUE(matches(y, activated(x, a)));
  }
}

} // namespace

namespace {

// One definition of each activation on the CPU: a dense or conv2d epilogue
// gives exactly the bits of the layer without it followed by the activation
// op (cpu::unary), for every activation.
TEST(CpuConvPoolDenseEpilogue, EveryActivationHasOneDefinition) {
  std::mt19937 rng(34);
  ref::RefTensor x = randomTensor(rng, {3, 7}), k = randomTensor(rng, {7, 5});
  ref::RefTensor image = randomTensor(rng, {2, 6, 6, 3}), filter = randomTensor(rng, {3, 3, 3, 4});
  cpu::ConvGeometry g;
  ASSERT_TRUE(ok(cpu::makeConvGeometry(2, 6, 6, 3, 3, 3, 4, 1, 1, 1, 1, true, &g)));
  for (const ActivationCase &a : kActivations) {
    SCOPED_TRACE(a.name);
    Buffer bx(x), bk(k), fused({3, 5}), plain({3, 5});
    ASSERT_TRUE(ok(cpu::denseForward(bx.view(), bk.view(), nullptr, {a.runtime, kSlope}, fused.view())));
    ASSERT_TRUE(ok(cpu::denseForward(bx.view(), bk.view(), nullptr, {}, plain.view())));
    cpu::unary(a.runtime, plain.data.data(), plain.data.data(), int64_t(plain.data.size()), kSlope);
    EXPECT_EQ(fused.data, plain.data);

    Buffer bimage(image), bfilter(filter), convFused({2, 6, 6, 4}), convPlain({2, 6, 6, 4});
    cpu::Conv2D withEpilogue, without;
    ASSERT_TRUE(ok(withEpilogue.prepare(g, {a.runtime, kSlope})));
    ASSERT_TRUE(ok(without.prepare(g)));
    ASSERT_TRUE(ok(withEpilogue.forward(bimage.view(), bfilter.view(), nullptr, convFused.view())));
    ASSERT_TRUE(ok(without.forward(bimage.view(), bfilter.view(), nullptr, convPlain.view())));
    cpu::unary(a.runtime, convPlain.data.data(), convPlain.data.data(),
               int64_t(convPlain.data.size()), kSlope);
    EXPECT_EQ(convFused.data, convPlain.data);
  }
}

} // namespace
