//===- CpuKernelsTest.cpp - float32 CPU kernels against the float64 oracle ===//
//
// Every non-convolution kernel of runtime/cpu is run on seeded random inputs
// (float32 values, so both sides see the same numbers) and compared with its
// ref:: counterpart: max |cpu - ref| / max |ref| <= 1e-4 for tensors, 1e-5
// relative for scalar losses. Shapes include ones large enough to take the
// multi-threaded paths and, for axis kernels, a non-last axis. Dropout masks
// must be identical, not close.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/GradKernels.h"
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/Optimizers.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/loss.h"
#include "runtime/cpu/normalization.h"
#include "runtime/cpu/optimizer.h"
#include "runtime/cpu/recurrent.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

using namespace dlc;
using namespace dlc::rt::cpu;
using ref::RefTensor;

namespace {

using Floats = std::vector<float>;

/// Random float32 values in [lo, hi), held as a RefTensor (exactly).
RefTensor random(std::vector<int64_t> shape, std::mt19937 &rng, float lo = -1.0f, float hi = 1.0f) {
  RefTensor t(std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

Floats toFloats(const RefTensor &t) { return Floats(t.data.begin(), t.data.end()); }
RefTensor toRef(const Floats &v, std::vector<int64_t> shape) {
  RefTensor t(std::move(shape));
  t.data.assign(v.begin(), v.end());
  return t;
}

/// max |got - want| <= tolerance * max |want| (absolute when want is all 0).
testing::AssertionResult matches(const Floats &got, const RefTensor &want,
                                 double tolerance = 1e-4) {
  if (int64_t(got.size()) != want.size())
    return testing::AssertionFailure() << got.size() << " elements, want " << want.size();
  double worst = 0, scale = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    double d = std::fabs(double(got[i]) - want[i]);
    if (std::isnan(d))
      return testing::AssertionFailure() << "NaN at " << i;
    if (d > worst)
      worst = d, at = i;
    scale = std::max(scale, std::fabs(want[i]));
  }
  scale = scale > 0 ? scale : 1.0;
  if (worst <= tolerance * scale)
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "relative error " << worst / scale << " at " << at
                                     << ": got " << got[at] << ", want " << want[at];
}

AxisDims dimsOf(const std::vector<int64_t> &shape, int64_t axis) {
  AxisDims d;
  EXPECT_TRUE(axisDims(shape, axis, &d).ok());
  return d;
}

const ref::Unary kRefUnary[] = {ref::Unary::Relu, ref::Unary::Sigmoid,  ref::Unary::Tanh,
                                ref::Unary::Gelu, ref::Unary::GeluTanh, ref::Unary::LeakyRelu};
const Activation kUnary[] = {Activation::kRelu, Activation::kSigmoid,  Activation::kTanh,
                            Activation::kGelu, Activation::kGeluTanh, Activation::kLeakyRelu};
} // namespace

TEST(CpuKernelsHarness, ComparisonRejectsAPerturbedResult) {
  std::mt19937 rng(1);
  RefTensor want = random({1000}, rng);
  Floats got = toFloats(want);
  EXPECT_TRUE(matches(got, want));
  got[417] += 2e-4f; // 2e-4 of max |want| (~1)
  EXPECT_FALSE(matches(got, want));
  got = toFloats(want);
  got[3] = NAN;
  EXPECT_FALSE(matches(got, want));
  EXPECT_FALSE(matches(Floats(999), want));
}

// Found by fuzz-bundle: exp of NaN converted NaN to int (undefined). NaN in,
// NaN out, so that --check-numerics sees where it started.
TEST(CpuKernelsElementwise, NaNStaysNaNThroughTheApproximations) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(rt::cpu::expApprox(nan)));
  EXPECT_TRUE(std::isnan(rt::cpu::sigmoidApprox(nan)));
  EXPECT_NEAR(rt::cpu::expApprox(1.0f), std::exp(1.0f), 1e-6f);
}

TEST(CpuKernelsElementwise, UnaryAndGradMatchReference) {
  std::mt19937 rng(2);
  for (std::vector<int64_t> shape : {std::vector<int64_t>{7, 33}, {300001}})
    for (float range : {6.0f, 60.0f})
      for (int k = 0; k < 6; ++k) {
        SCOPED_TRACE(testing::Message() << "kind " << k << " range " << range << " n " << shape[0]);
        RefTensor x = random(shape, rng, -range, range), dy = random(shape, rng);
        Floats xf = toFloats(x), y(xf.size()), dx(xf.size());
        unary(kUnary[k], xf.data(), y.data(), int64_t(xf.size()), 0.2f);
        EXPECT_TRUE(matches(y, ref::unary(x, kRefUnary[k], double(0.2f))));
        // The gradient takes the forward output for sigmoid and tanh.
        RefTensor saved = unaryGradTakesOutput(kUnary[k]) ? toRef(y, shape) : x;
        Floats savedF = toFloats(saved), dyF = toFloats(dy);
        unaryGrad(kUnary[k], savedF.data(), dyF.data(), dx.data(), int64_t(dx.size()), 0.2f);
        EXPECT_TRUE(matches(dx, ref::unaryGrad(saved, dy, kRefUnary[k], double(0.2f))));
      }
}

TEST(CpuKernelsElementwise, SoftmaxAndGradAlongAnyAxis) {
  std::mt19937 rng(3);
  struct Case {
    std::vector<int64_t> shape;
    int64_t axis;
  };
  for (const Case &c : {Case{{4, 10}, -1}, Case{{3, 5, 7}, 1}, Case{{2, 3, 70, 2}, 1},
                        Case{{2, 9, 130}, 1}, Case{{512, 1000}, 1}, Case{{6}, 0}})
    for (float range : {3.0f, 300.0f}) {
      SCOPED_TRACE(RefTensor(c.shape).shapeString() + " axis " + std::to_string(c.axis));
      RefTensor x = random(c.shape, rng, -range, range), dy = random(c.shape, rng);
      Floats xf = toFloats(x), y(xf.size()), dx(xf.size()), dyF = toFloats(dy);
      softmax(xf.data(), y.data(), dimsOf(c.shape, c.axis));
      EXPECT_TRUE(matches(y, ref::softmax(x, c.axis)));
      RefTensor yRef = toRef(y, c.shape);
      softmaxGrad(y.data(), dyF.data(), dx.data(), dimsOf(c.shape, c.axis));
      EXPECT_TRUE(matches(dx, ref::softmaxGrad(yRef, dy, c.axis)));
    }
  AxisDims d;
  EXPECT_FALSE(axisDims({2, 3}, 2, &d).ok());
  EXPECT_FALSE(axisDims({2, 3}, -3, &d).ok());
}

TEST(CpuKernelsElementwise, AddConcatAndSlice) {
  std::mt19937 rng(4);
  for (int64_t n : {5, 200003})
    for (int count : {1, 2, 3}) {
      std::vector<RefTensor> in;
      std::vector<Floats> inF;
      std::vector<const RefTensor *> refs;
      std::vector<const float *> ptrs;
      for (int k = 0; k < count; ++k)
        in.push_back(random({n}, rng));
      for (int k = 0; k < count; ++k) {
        inF.push_back(toFloats(in[k]));
        refs.push_back(&in[k]);
        ptrs.push_back(inF[k].data());
      }
      Floats y(n);
      add(ptrs.data(), count, y.data(), n);
      EXPECT_TRUE(matches(y, ref::add(refs)));
    }
  for (int64_t axis : {0, 1, -1}) {
    std::vector<std::vector<int64_t>> shapes = {{3, 4, 5}, {3, 4, 5}, {3, 4, 5}};
    int64_t a = axis < 0 ? 2 : axis;
    shapes[1][a] = 2;
    shapes[2][a] = 7;
    std::vector<RefTensor> in;
    for (auto &s : shapes)
      in.push_back(random(s, rng));
    std::vector<Floats> inF;
    std::vector<const void *> ptrs;
    std::vector<const RefTensor *> refs;
    std::vector<int64_t> sizes;
    for (auto &t : in) {
      inF.push_back(toFloats(t));
      refs.push_back(&t);
      sizes.push_back(t.shape[a]);
    }
    for (auto &f : inF)
      ptrs.push_back(f.data());
    RefTensor want = ref::concat(refs, axis);
    AxisDims d = dimsOf(want.shape, axis);
    Floats y(want.size());
    concat(ptrs.data(), sizes.data(), 3, y.data(), d.outer, d.inner);
    EXPECT_TRUE(matches(y, want, 0.0)) << "axis " << axis;
    int64_t start = 0;
    for (int k = 0; k < 3; ++k) {
      Floats part(in[k].size());
      slice(y.data(), part.data(), d.outer, d.channels, start, sizes[k], d.inner);
      EXPECT_TRUE(matches(part, ref::slice(want, axis, start, sizes[k]), 0.0));
      start += sizes[k];
    }
  }
}

TEST(CpuKernelsElementwise, DropoutReproducesTheReferenceMask) {
  std::mt19937 rng(5);
  for (int64_t n : {17, 400000})
    for (double rate : {0.1, 0.5, 0.75})
      for (uint64_t stream : {0, 7}) {
        RefTensor x = random({n}, rng, 0.5f, 1.5f); // never 0: a zero marks a dropped element
        Floats xf = toFloats(x), y(n);
        dropout(xf.data(), y.data(), n, rate, 1234, stream);
        RefTensor want = ref::dropout(x, rate, 1234, stream);
        int64_t mismatched = 0, dropped = 0;
        for (int64_t i = 0; i < n; ++i) {
          mismatched += (y[i] == 0.0f) != (want[i] == 0.0);
          dropped += y[i] == 0.0f;
        }
        EXPECT_EQ(mismatched, 0) << "n " << n << " rate " << rate;
        EXPECT_NEAR(double(dropped) / n, rate, n > 1000 ? 0.01 : 0.5);
        EXPECT_TRUE(matches(y, want, 1e-6));
      }
  Floats buffer(1 << 20, 3.0f), copyOf(buffer.size());
  copy(buffer.data(), copyOf.data(), buffer.size() * sizeof(float));
  EXPECT_EQ(copyOf, buffer);
  zeros(buffer.data(), buffer.size() * sizeof(float));
  EXPECT_EQ(buffer, Floats(buffer.size(), 0.0f));
}

//===----------------------------------------------------------------------===//
// Losses and metrics
//===----------------------------------------------------------------------===//

namespace {
struct LabelBuffer {
  Floats f;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  rt::DType type = rt::DType::kF32;
  const void *data() const {
    return type == rt::DType::kF32   ? static_cast<const void *>(f.data())
           : type == rt::DType::kI32 ? static_cast<const void *>(i32.data())
                                     : static_cast<const void *>(i64.data());
  }
};
} // namespace

TEST(CpuKernelsLoss, EveryLossAndGradientMatchesReference) {
  std::mt19937 rng(6);
  const ref::LossKind refKinds[] = {
      ref::LossKind::CategoricalCrossentropy, ref::LossKind::SparseCategoricalCrossentropy,
      ref::LossKind::BinaryCrossentropy, ref::LossKind::MeanSquaredError};
  const LossKind kinds[] = {LossKind::kCategoricalCrossentropy,
                            LossKind::kSparseCategoricalCrossentropy, LossKind::kBinaryCrossentropy,
                            LossKind::kMeanSquaredError};
  for (std::vector<int64_t> shape : {std::vector<int64_t>{8, 5}, {4, 3, 6}, {256, 1000}})
    for (int k = 0; k < 4; ++k)
      for (bool logits : {false, true})
        for (double smoothing : {0.0, 0.1})
          for (rt::DType labelType : {rt::DType::kF32, rt::DType::kI32, rt::DType::kI64}) {
            bool sparse = k == 1;
            if (sparse == (labelType == rt::DType::kF32))
              continue;
            SCOPED_TRACE(testing::Message()
                         << "kind " << k << " logits " << logits << " ls " << smoothing << " "
                         << RefTensor(shape).shapeString() << " " << rt::dtypeName(labelType));
            int64_t classes = shape.back(), rows = RefTensor(shape).size() / classes;
            RefTensor p = logits ? random(shape, rng, -8.0f, 8.0f) : random(shape, rng, 0.0f, 1.0f);
            if (!logits && k == 2) { // probabilities on and beyond the clip bounds
              p[0] = 0.0f;
              p[1] = 1.0f;
            }
            std::vector<int64_t> labelShape = shape;
            if (sparse)
              labelShape.pop_back();
            RefTensor labels(labelShape);
            LabelBuffer buffer;
            buffer.type = labelType;
            std::uniform_int_distribution<int64_t> cls(0, classes - 1);
            for (int64_t i = 0; i < labels.size(); ++i) {
              labels[i] =
                  sparse ? double(cls(rng)) : double(std::uniform_real_distribution<float>()(rng));
              buffer.f.push_back(float(labels[i]));
              buffer.i32.push_back(int32_t(labels[i]));
              buffer.i64.push_back(int64_t(labels[i]));
            }
            ref::LossOptions refOptions{refKinds[k], logits, double(float(smoothing))};
            LossOptions options{kinds[k], logits, double(float(smoothing))};
            Floats pf = toFloats(p), grad(pf.size());
            double value = 0;
            ASSERT_TRUE(loss(pf.data(), buffer.data(), labelType, rows, classes, options, &value,
                             grad.data())
                            .ok());
            double want = ref::loss(p, labels, refOptions);
            EXPECT_NEAR(value, want, 1e-5 * std::fabs(want));
            EXPECT_TRUE(matches(grad, ref::lossGrad(p, labels, refOptions)));
            Floats gradOnly(pf.size());
            ASSERT_TRUE(lossGrad(pf.data(), buffer.data(), labelType, rows, classes, options,
                                 gradOnly.data())
                            .ok());
            EXPECT_EQ(gradOnly, grad);
          }
  Floats p(6);
  std::vector<int32_t> ids(3);
  double value;
  EXPECT_FALSE(loss(p.data(), ids.data(), rt::DType::kI32, 3, 2,
                    {LossKind::kCategoricalCrossentropy}, &value)
                   .ok());
  EXPECT_FALSE(loss(p.data(), ids.data(), rt::DType::kU8, 3, 2,
                    {LossKind::kSparseCategoricalCrossentropy}, &value)
                   .ok());
  // Ids outside [0, classes) are an error naming the value and the row, on
  // the CPU and in the reference (they used to count as all-zero label rows).
  RefTensor logits = random({3, 5}, rng, -3.0f, 3.0f), idsRef({3}), ids32({3});
  Floats lf = toFloats(logits), grad(15);
  LossOptions options{LossKind::kSparseCategoricalCrossentropy, true, 0.0};
  ref::LossOptions refOptions{ref::LossKind::SparseCategoricalCrossentropy, true, 0.0};
  for (std::vector<int64_t> bad : {std::vector<int64_t>{1, 5, 2}, std::vector<int64_t>{-1, 0, 2}}) {
    rt::Status s = loss(lf.data(), bad.data(), rt::DType::kI64, 3, 5, options, &value, grad.data());
    ASSERT_FALSE(s.ok());
    std::string row = bad[0] < 0 ? "-1 in row 0" : "5 in row 1";
    EXPECT_NE(s.message().find("class id " + row + " is outside [0, 5)"), std::string::npos)
        << s.message();
    idsRef.data.assign(bad.begin(), bad.end());
    EXPECT_EQ(ref::classIdError(logits, idsRef, refOptions),
              "class id " + row + " is outside [0, 5)");
  }
  ids32.data = {0, 4, 2};
  EXPECT_EQ(ref::classIdError(logits, ids32, refOptions), "");
}

TEST(CpuKernelsLoss, AccuracyCounts) {
  // Rows: argmax 2, tie 0/1 (first wins: 0), argmax 1.
  Floats p = {0.1f, 0.2f, 0.7f, 0.4f, 0.4f, 0.2f, 0.3f, 0.5f, 0.2f};
  std::vector<int32_t> ids = {2, 1, 1};
  std::vector<int64_t> ids64 = {2, 0, 2};
  Floats oneHot = {0, 0, 1, 0, 1, 0, 0, 1, 0};
  int64_t correct = -1;
  ASSERT_TRUE(countTop1Correct(p.data(), ids.data(), rt::DType::kI32, 3, 3, true, &correct).ok());
  EXPECT_EQ(correct, 2);
  ASSERT_TRUE(countTop1Correct(p.data(), ids64.data(), rt::DType::kI64, 3, 3, true, &correct).ok());
  EXPECT_EQ(correct, 2);
  ASSERT_TRUE(
      countTop1Correct(p.data(), oneHot.data(), rt::DType::kF32, 3, 3, false, &correct).ok());
  EXPECT_EQ(correct, 2);
  EXPECT_FALSE(countTop1Correct(p.data(), ids.data(), rt::DType::kI32, 3, 3, false, &correct).ok());
  // in_top_k: a tie at the boundary counts (row 1, class 1 with k = 1).
  ASSERT_TRUE(
      countTopKCorrect(p.data(), ids.data(), rt::DType::kI32, 3, 3, true, 1, &correct).ok());
  EXPECT_EQ(correct, 3);
  ASSERT_TRUE(
      countTopKCorrect(p.data(), ids64.data(), rt::DType::kI64, 3, 3, true, 2, &correct).ok());
  EXPECT_EQ(correct, 2); // row 2's class 2 has two larger predictions
  ASSERT_TRUE(
      countTopKCorrect(p.data(), oneHot.data(), rt::DType::kF32, 3, 3, false, 2, &correct).ok());
  EXPECT_EQ(correct, 3);
  EXPECT_FALSE(
      countTopKCorrect(p.data(), ids.data(), rt::DType::kI32, 3, 3, true, 0, &correct).ok());
  Floats probs = {0.2f, 0.5f, 0.9f, 0.51f};
  Floats truth = {0.0f, 0.0f, 1.0f, 0.0f};
  ASSERT_TRUE(countBinaryCorrect(probs.data(), truth.data(), rt::DType::kF32, 4, &correct).ok());
  EXPECT_EQ(correct, 3); // 0.5 is not above the threshold; 0.51 is
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

TEST(CpuKernelsNormalization, BatchNormMatchesReference) {
  std::mt19937 rng(7);
  struct Case {
    std::vector<int64_t> shape;
    int64_t axis;
  };
  for (const Case &c :
       {Case{{32, 8}, -1}, Case{{3, 4, 5}, 1}, Case{{64, 16, 16, 32}, -1}, Case{{5, 7}, 0}})
    for (bool affine : {false, true}) {
      SCOPED_TRACE(RefTensor(c.shape).shapeString() + " axis " + std::to_string(c.axis));
      int64_t channels = RefTensor(c.shape).dim(c.axis);
      RefTensor x = random(c.shape, rng, 2.0f, 4.0f), dy = random(c.shape, rng);
      RefTensor gamma = random({channels}, rng, 0.5f, 1.5f), beta = random({channels}, rng);
      RefTensor mean = random({channels}, rng), var = random({channels}, rng, 0.5f, 2.0f);
      const RefTensor *g = affine ? &gamma : nullptr, *b = affine ? &beta : nullptr;
      Floats xf = toFloats(x), dyF = toFloats(dy), gf = toFloats(gamma), bf = toFloats(beta);
      Floats mf = toFloats(mean), vf = toFloats(var), y(xf.size()), dx(xf.size());
      Floats dgamma(channels), dbeta(channels), bm(channels), bv(channels);
      std::vector<double> scratch(batchNormScratchBytes(channels) / sizeof(double));
      AxisDims d = dimsOf(c.shape, c.axis);
      const float *gp = affine ? gf.data() : nullptr, *bp = affine ? bf.data() : nullptr;
      double eps = 1e-3;

      batchNormInference(xf.data(), gp, bp, mf.data(), vf.data(), d, eps, y.data(), scratch.data());
      EXPECT_TRUE(matches(y, ref::batchNormInference(x, g, b, mean, var, c.axis, eps)));
      RefTensor refMean, refVar;
      batchNormTraining(xf.data(), gp, bp, d, eps, y.data(), bm.data(), bv.data(), scratch.data());
      EXPECT_TRUE(matches(y, ref::batchNormTraining(x, g, b, c.axis, eps, &refMean, &refVar)));
      EXPECT_TRUE(matches(bm, refMean));
      EXPECT_TRUE(matches(bv, refVar));
      batchNormGrad(xf.data(), gp, dyF.data(), d, eps, dx.data(), dgamma.data(), dbeta.data(),
                    scratch.data());
      ref::BatchNormGrads grads = ref::batchNormGrad(x, g, dy, c.axis, eps);
      EXPECT_TRUE(matches(dx, grads.dx));
      EXPECT_TRUE(matches(dgamma, grads.dgamma));
      EXPECT_TRUE(matches(dbeta, grads.dbeta));
      batchNormInferenceGrad(dyF.data(), gp, vf.data(), d, eps, dx.data(), scratch.data());
      EXPECT_TRUE(matches(dx, ref::batchNormInferenceGrad(dy, g, var, c.axis, eps)));
      // The moving-average rule of the evaluator, in place.
      Floats movingMean = mf, movingVar = vf;
      batchNormStatisticsUpdate(xf.data(), d, 0.99, movingMean.data(), movingVar.data(),
                                movingMean.data(), movingVar.data(), scratch.data());
      RefTensor wantMean = mean, wantVar = var;
      for (int64_t i = 0; i < channels; ++i) {
        wantMean[i] = mean[i] * 0.99 + refMean[i] * 0.01;
        wantVar[i] = var[i] * 0.99 + refVar[i] * 0.01;
      }
      EXPECT_TRUE(matches(movingMean, wantMean));
      EXPECT_TRUE(matches(movingVar, wantVar));
    }
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST(CpuKernelsEmbedding, GatherAndScatterAddMatchReference) {
  std::mt19937 rng(8);
  for (std::vector<int64_t> idShape : {std::vector<int64_t>{3, 4}, {128, 20}})
    for (rt::DType type : {rt::DType::kI32, rt::DType::kI64}) {
      const int64_t rows = 50, width = 128;
      RefTensor table = random({rows, width}, rng), ids(idShape);
      std::uniform_int_distribution<int64_t> pick(0, rows - 1); // repeats guaranteed
      std::vector<int32_t> i32;
      std::vector<int64_t> i64;
      for (double &v : ids.data) {
        v = double(pick(rng));
        i32.push_back(int32_t(v));
        i64.push_back(int64_t(v));
      }
      const void *idp =
          type == rt::DType::kI32 ? static_cast<const void *>(i32.data()) : i64.data();
      Floats tf = toFloats(table), out(ids.size() * width);
      ASSERT_TRUE(embedding(idp, type, ids.size(), tf.data(), rows, width, out.data()).ok());
      std::string error;
      EXPECT_TRUE(matches(out, ref::embedding(ids, table, &error), 0.0));
      std::vector<int64_t> dyShape = idShape;
      dyShape.push_back(width);
      RefTensor dy = random(dyShape, rng);
      Floats dyF = toFloats(dy), dtable(rows * width, 7.0f);
      ASSERT_TRUE(
          embeddingGrad(idp, type, ids.size(), dyF.data(), rows, width, dtable.data()).ok());
      EXPECT_TRUE(matches(dtable, ref::embeddingGrad(ids, dy, rows)));
    }
}

TEST(CpuKernelsEmbedding, OutOfRangeIdIsAnError) {
  Floats table(4 * 2), out(3 * 2);
  for (int64_t bad : {int64_t(4), int64_t(-1)}) {
    std::vector<int64_t> ids = {0, bad, 1};
    rt::Status s = embedding(ids.data(), rt::DType::kI64, 3, table.data(), 4, 2, out.data());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), rt::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("id " + std::to_string(bad)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("position 1"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("[0, 4)"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(embedding(table.data(), rt::DType::kF32, 3, table.data(), 4, 2, out.data()).ok());
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

TEST(CpuKernelsRecurrent, LstmForwardAndBackwardMatchReference) {
  std::mt19937 rng(9);
  for (LstmShape s : {LstmShape{2, 3, 4, 5, false}, LstmShape{3, 4, 2, 3, true},
                      LstmShape{17, 6, 8, 16, true}, LstmShape{40, 12, 24, 32, false},
                      LstmShape{1, 1, 3, 2, true}, LstmShape{67, 5, 16, 128, true},
                      LstmShape{64, 4, 8, 128, false}}) // these two split the batch over threads
    for (bool withBias : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << "lstm " << s.batch << "x" << s.steps << "x" << s.features << " units "
                   << s.units << " seq " << s.returnSequences << " bias " << withBias);
      int64_t u4 = 4 * s.units;
      float w = 1.5f / std::sqrt(float(s.features + s.units));
      RefTensor x = random({s.batch, s.steps, s.features}, rng, -2.0f, 2.0f);
      RefTensor kernel = random({s.features, u4}, rng, -w, w);
      RefTensor recurrent = random({s.units, u4}, rng, -w, w), bias = random({u4}, rng);
      std::vector<int64_t> yShape = s.returnSequences
                                        ? std::vector<int64_t>{s.batch, s.steps, s.units}
                                        : std::vector<int64_t>{s.batch, s.units};
      RefTensor dy = random(yShape, rng);
      const RefTensor *b = withBias ? &bias : nullptr;
      Floats xf = toFloats(x), kf = toFloats(kernel), rf = toFloats(recurrent), bf = toFloats(bias);
      Floats dyF = toFloats(dy), y(dy.size());
      Floats workspace(lstmWorkspaceBytes(s) / sizeof(float), NAN);
      Floats scratch(lstmBackwardScratchBytes(s) / sizeof(float), NAN);
      lstmForward(s, xf.data(), kf.data(), rf.data(), withBias ? bf.data() : nullptr, y.data(),
                  workspace.data());
      EXPECT_TRUE(matches(y, ref::lstm(x, kernel, recurrent, b, s.returnSequences)));
      Floats dx(x.size(), NAN), dk(kernel.size(), NAN), dr(recurrent.size(), NAN), db(u4, NAN);
      lstmBackward(s, xf.data(), kf.data(), rf.data(), dyF.data(), workspace.data(), dx.data(),
                   dk.data(), dr.data(), db.data(), scratch.data());
      ref::LstmGrads grads = ref::lstmGrad(x, kernel, recurrent, b, dy, s.returnSequences);
      EXPECT_TRUE(matches(dx, grads.dx));
      EXPECT_TRUE(matches(dk, grads.dkernel));
      EXPECT_TRUE(matches(dr, grads.drecurrent));
      EXPECT_TRUE(matches(db, grads.dbias));
    }
}

/// The text model's layer: batch 128, 20 steps, 128 features, 128 units.
/// Run with --gtest_also_run_disabled_tests to print the time per step.
TEST(CpuKernelsBenchmark, DISABLED_LstmTrainingStep) {
  LstmShape s{128, 20, 128, 128, false};
  std::mt19937 rng(10);
  auto fill = [&](int64_t n, float scale) {
    Floats v(n);
    std::uniform_real_distribution<float> dist(-scale, scale);
    for (float &f : v)
      f = dist(rng);
    return v;
  };
  Floats x = fill(s.batch * s.steps * s.features, 1.0f), k = fill(s.features * 512, 0.1f);
  Floats r = fill(s.units * 512, 0.1f), b = fill(512, 0.1f), dy = fill(s.batch * s.units, 1.0f);
  Floats y(s.batch * s.units), dx(x.size()), dk(k.size()), dr(r.size()), db(512);
  Floats workspace(lstmWorkspaceBytes(s) / 4), scratch(lstmBackwardScratchBytes(s) / 4);
  using Clock = std::chrono::steady_clock;
  double forwardMs = 0, backwardMs = 0;
  const int iterations = 20;
  for (int i = -3; i < iterations; ++i) { // 3 warm-up runs
    auto t0 = Clock::now();
    lstmForward(s, x.data(), k.data(), r.data(), b.data(), y.data(), workspace.data());
    auto t1 = Clock::now();
    lstmBackward(s, x.data(), k.data(), r.data(), dy.data(), workspace.data(), dx.data(), dk.data(),
                 dr.data(), db.data(), scratch.data());
    auto t2 = Clock::now();
    if (i >= 0) {
      forwardMs += std::chrono::duration<double, std::milli>(t1 - t0).count();
      backwardMs += std::chrono::duration<double, std::milli>(t2 - t1).count();
    }
  }
  std::printf("lstm 128x20x128->128: forward %.2f ms, backward %.2f ms, total %.2f ms\n",
              forwardMs / iterations, backwardMs / iterations,
              (forwardMs + backwardMs) / iterations);
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

TEST(CpuKernelsOptimizer, ThreeStepsMatchReference) {
  std::mt19937 rng(11);
  struct Case {
    OptimizerKind kind;
    const char *name;
    float momentum;
    bool nesterov, amsgrad, centered;
  };
  const Case cases[] = {
      {OptimizerKind::kSgd, "sgd", 0, false, false, false},
      {OptimizerKind::kSgd, "sgd", 0.9f, false, false, false},
      {OptimizerKind::kSgd, "sgd", 0.9f, true, false, false},
      {OptimizerKind::kAdam, "adam", 0, false, false, false},
      {OptimizerKind::kAdam, "adam", 0, false, true, false},
      {OptimizerKind::kAdamW, "adamw", 0, false, false, false},
      {OptimizerKind::kAdamW, "adamw", 0, false, true, false},
      {OptimizerKind::kRmsprop, "rmsprop", 0, false, false, false},
      {OptimizerKind::kRmsprop, "rmsprop", 0, false, false, true},
      {OptimizerKind::kRmsprop, "rmsprop", 0.5f, false, false, false},
      {OptimizerKind::kRmsprop, "rmsprop", 0.5f, false, false, true},
  };
  for (const Case &c : cases)
    for (int64_t n : {1000, 300000}) {
      SCOPED_TRACE(testing::Message()
                   << c.name << " momentum " << c.momentum << " nesterov " << c.nesterov
                   << " amsgrad " << c.amsgrad << " centered " << c.centered << " n " << n);
      OptimizerConfig config;
      config.kind = c.kind;
      config.learningRate.initial = 0.01f;
      config.momentum = c.momentum;
      config.nesterov = c.nesterov;
      config.amsgrad = c.amsgrad;
      config.centered = c.centered;
      config.weightDecay = 0.05f;
      config.beta1 = 0.9;
      config.beta2 = 0.999;
      config.epsilon = 1e-7;
      config.rho = 0.9;
      ref::OptimizerConfig refConfig{c.name};
      refConfig.learningRate = config.learningRate.initial;
      refConfig.momentum = config.momentum;
      refConfig.nesterov = c.nesterov;
      refConfig.beta1 = config.beta1;
      refConfig.beta2 = config.beta2;
      refConfig.epsilon = config.epsilon;
      refConfig.amsgrad = c.amsgrad;
      refConfig.weightDecay = config.weightDecay;
      refConfig.rho = config.rho;
      refConfig.centered = c.centered;
      int slotCount = int(rt::optimizerSlots(config).size());
      ASSERT_EQ(size_t(slotCount), ref::optimizerSlots(refConfig).size());
      RefTensor param = random({n}, rng), start = param;
      std::vector<RefTensor> refSlots(slotCount, RefTensor({n}));
      Floats p = toFloats(param);
      std::vector<Floats> slots(slotCount, Floats(n, 0.0f));
      std::vector<float *> slotPtrs;
      for (Floats &s : slots)
        slotPtrs.push_back(s.data());
      for (int64_t step = 0; step < 3; ++step) {
        RefTensor grad = random({n}, rng, -2.0f, 2.0f);
        Floats g = toFloats(grad);
        ref::applyOptimizer(refConfig, step, param, grad, refSlots);
        ASSERT_TRUE(
            applyOptimizer(config, step, p.data(), g.data(), /*lossScale=*/1, /*clipFactor=*/1, slotPtrs.data(), slotCount, n).ok());
      }
      // The change, not the parameter: an error in a small update must show.
      Floats moved(n);
      for (int64_t i = 0; i < n; ++i) {
        moved[i] = p[i] - float(start[i]);
        param[i] -= start[i];
      }
      EXPECT_TRUE(matches(moved, param));
      // Slots are float32 roundings of the reference's, a few ulps after
      // three steps (coefficients such as 1 - beta_2 taken in float32 are
      // 1.3e-5 off).
      for (int k = 0; k < slotCount; ++k)
        EXPECT_TRUE(matches(slots[k], refSlots[k], 2e-6)) << "slot " << k;
      EXPECT_FALSE(
          applyOptimizer(config, 0, p.data(), p.data(), /*lossScale=*/1, /*clipFactor=*/1, slotPtrs.data(), slotCount + 1, n).ok());
    }
}
