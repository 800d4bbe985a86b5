//===- ReferenceKernelsTest.cpp - Hand-computed checks of the oracle ------===//
//
// The reference kernels are what every backend is compared with, so their
// own expected values here are worked out by hand (the arithmetic is in the
// comments), on inputs chosen so that a plausible mistake -- padding on the
// wrong side, pads counted in an average, LSTM gates in another order, a
// middle-axis concat interleaving wrongly -- changes the numbers.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Evaluator.h"
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/RoundingProbe.h"
#include "dialects/DL/DLDialect.h"
#include "test/unit/DiagnosticCapture.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

using namespace dlc::ref;

namespace {

RefTensor tensor(std::vector<int64_t> shape, std::vector<double> data) {
  RefTensor t(std::move(shape));
  EXPECT_EQ(t.size(), int64_t(data.size())) << "test data does not fill " << t.shapeString();
  t.data = std::move(data);
  return t;
}

/// 1, 2, ..., n in a tensor of |shape|.
RefTensor iota(std::vector<int64_t> shape) {
  RefTensor t(std::move(shape));
  std::iota(t.data.begin(), t.data.end(), 1.0);
  return t;
}

void expectTensor(const RefTensor &got, const std::vector<int64_t> &shape,
                  const std::vector<double> &want, double tolerance = 1e-12) {
  ASSERT_EQ(got.shapeString(), RefTensor(shape).shapeString());
  ASSERT_EQ(got.size(), int64_t(want.size()));
  for (int64_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tolerance) << "element " << i;
}

/// Parses and evaluates a func.func @main of dl ops, recording diagnostics.
struct DlRun {
  mlir::MLIRContext context;
  dlc::unittest::DiagnosticCapture diags{&context};

  DlRun() { context.loadDialect<dlc::dl::DLDialect, mlir::func::FuncDialect>(); }

  mlir::FailureOr<std::vector<RefTensor>> evaluate(const char *text,
                                                   std::vector<RefTensor> arguments) {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    if (!module)
      return mlir::failure();
    auto function = module->lookupSymbol<mlir::func::FuncOp>("main");
    if (!function)
      return mlir::failure();
    return dlc::ref::evaluate(function, arguments, ParamMap());
  }
};

// The 4x4 image 1..16 (row-major) and the 3x3 kernel 1..9 used below:
//
//    1  2  3  4        1 2 3
//    5  6  7  8        4 5 6
//    9 10 11 12        7 8 9
//   13 14 15 16
RefTensor image4x4() { return iota({1, 4, 4, 1}); }
RefTensor kernel3x3() { return iota({3, 3, 1, 1}); }

//===----------------------------------------------------------------------===//
// Windows and convolution
//===----------------------------------------------------------------------===//

TEST(ReferenceWindow, SamePaddingPutsTheOddElementAfter) {
  // 4 wide, window 3, stride 2: out = ceil(4/2) = 2, total pad
  // (2-1)*2 + 3 - 4 = 1, so 0 before and 1 after.
  WindowAxis a = windowAxis(4, 3, 2, 1, true);
  EXPECT_EQ(a.out, 2);
  EXPECT_EQ(a.padBefore, 0);
  // 5 wide, window 3, stride 2: out 3, total (3-1)*2 + 3 - 5 = 2: 1 before.
  WindowAxis b = windowAxis(5, 3, 2, 1, true);
  EXPECT_EQ(b.out, 3);
  EXPECT_EQ(b.padBefore, 1);
  // Window 3 dilated by 2 spans 5: on 4 wide, stride 1: total 4, 2 before.
  WindowAxis c = windowAxis(4, 3, 1, 2, true);
  EXPECT_EQ(c.out, 4);
  EXPECT_EQ(c.padBefore, 2);
  // Stride larger than the window: total max(2*4 + 1 - 9, 0) = 0.
  WindowAxis d = windowAxis(9, 1, 4, 1, true);
  EXPECT_EQ(d.out, 3);
  EXPECT_EQ(d.padBefore, 0);
  // Valid: floor((in - span) / stride) + 1, never padded.
  WindowAxis e = windowAxis(5, 3, 1, 2, false);
  EXPECT_EQ(e.out, 1);
  EXPECT_EQ(e.padBefore, 0);
  WindowAxis f = windowAxis(7, 3, 2, 1, false);
  EXPECT_EQ(f.out, 3);
  EXPECT_EQ(f.padBefore, 0);
}

TEST(ReferenceConv2D, Valid3x3On4x4) {
  // y(0,0) = 1*1 + 2*2 + 3*3 + 5*4 + 6*5 + 7*6 + 9*7 + 10*8 + 11*9 = 348.
  // One column right adds sum(kernel) = 45 to every tap: 393; one row down
  // adds 4*45 = 180: 528 and 573.
  RefTensor y = conv2d(image4x4(), kernel3x3(), nullptr, {1, 1}, false, {1, 1});
  expectTensor(y, {1, 2, 2, 1}, {348, 393, 528, 573});
}

TEST(ReferenceConv2D, SameStride2PadsBottomRight) {
  // out = ceil(4/2) = 2 per axis, one padded row/column, after the image.
  // y(0,0): rows 0-2, cols 0-2, no padding: 348 as above.
  // y(0,1): cols 2-4, col 4 padded: taps kx = 0, 1 at cols 2, 3:
  //   3*1 + 4*2 + 7*4 + 8*5 + 11*7 + 12*8 = 252.
  // y(1,0): rows 2-4, row 4 padded: 9*1 + 10*2 + 11*3 + 13*4 + 14*5 + 15*6 = 274.
  // y(1,1): rows 2-3, cols 2-3: 11*1 + 12*2 + 15*4 + 16*5 = 175.
  // With the pad before (top-left), y(0,0) would be 1*5 + 2*6 + 5*8 + 6*9 = 111.
  RefTensor y = conv2d(image4x4(), kernel3x3(), nullptr, {2, 2}, true, {1, 1});
  expectTensor(y, {1, 2, 2, 1}, {348, 252, 274, 175});
}

TEST(ReferenceConv2D, Dilation2) {
  // 5x5 image 1..25 (x(r,c) = 5r + c + 1), kernel 1..9 dilated by 2 spans 5:
  // one valid output over taps at rows/cols 0, 2, 4:
  //   1*1 + 2*3 + 3*5 + 4*11 + 5*13 + 6*15 + 7*21 + 8*23 + 9*25 = 777.
  RefTensor valid = conv2d(iota({1, 5, 5, 1}), kernel3x3(), nullptr, {1, 1}, false, {2, 2});
  expectTensor(valid, {1, 1, 1, 1}, {777});

  // Same padding on the 4x4 image: 2 padded before. y(0,0) taps rows/cols
  // -2, 0, 2: the real ones are (0,0), (0,2), (2,0), (2,2) with kernel
  // entries 5, 6, 8, 9: 1*5 + 3*6 + 9*8 + 11*9 = 194. y(1,1) taps rows/cols
  // -1, 1, 3: 6*5 + 8*6 + 14*8 + 16*9 = 334. y(3,3) taps 1, 3, 5: entries
  // 1, 2, 4, 5: 6*1 + 8*2 + 14*4 + 16*5 = 158.
  RefTensor same = conv2d(image4x4(), kernel3x3(), nullptr, {1, 1}, true, {2, 2});
  ASSERT_EQ(same.shapeString(), "[1, 4, 4, 1]");
  EXPECT_EQ(same[0], 194);
  EXPECT_EQ(same[1 * 4 + 1], 334);
  EXPECT_EQ(same[3 * 4 + 3], 158);
}

TEST(ReferenceConv2D, BiasPerFilter) {
  // Filter 0 is the 1..9 kernel, filter 1 its negation; bias [0.5, -1].
  RefTensor kernel({3, 3, 1, 2});
  for (int64_t tap = 0; tap < 9; ++tap) {
    kernel[tap * 2 + 0] = double(tap + 1);
    kernel[tap * 2 + 1] = -double(tap + 1);
  }
  RefTensor bias = tensor({2}, {0.5, -1.0});
  RefTensor y = conv2d(image4x4(), kernel, &bias, {1, 1}, false, {1, 1});
  expectTensor(y, {1, 2, 2, 2},
               {348.5, -349, 393.5, -394, 528.5, -529, 573.5, -574});
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(ReferencePool, MaxSamePaddingIgnoresPads) {
  // All negative, so a pad counted as 0 would win its window:
  //   -5 -1 -7
  //   -3 -9 -2
  //   -8 -4 -6
  // 2x2 windows, stride 1, same: 1 padded row/column after. Edge windows hold
  // 2 (or 1) real elements: y(0,2) = max(-7, -2), y(2,2) = -6 alone.
  // With the pad before instead, y(0,0) would be -5 alone.
  RefTensor x = tensor({1, 3, 3, 1}, {-5, -1, -7, -3, -9, -2, -8, -4, -6});
  RefTensor y = maxPool2d(x, {2, 2}, {1, 1}, true);
  expectTensor(y, {1, 3, 3, 1}, {-1, -1, -2, -3, -2, -2, -4, -4, -6});
}

TEST(ReferencePool, AvgSamePaddingAveragesRealElementsOnly) {
  // x = 1..9 in channel 0 and its negation in channel 1:
  //   1 2 3
  //   4 5 6
  //   7 8 9
  // 2x2, stride 1, same (1 padded row/column after):
  //   y(0,0) = (1+2+4+5)/4 = 3, y(0,2) = (3+6)/2 = 4.5, y(2,2) = 9/1
  //   (a pad-counting average would give 9/4 = 2.25).
  RefTensor x({1, 3, 3, 2});
  for (int64_t i = 0; i < 9; ++i) {
    x[2 * i] = double(i + 1);
    x[2 * i + 1] = -double(i + 1);
  }
  RefTensor y = avgPool2d(x, {2, 2}, {1, 1}, true);
  std::vector<double> channel0{3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9}, want;
  for (double v : channel0) {
    want.push_back(v);
    want.push_back(-v);
  }
  expectTensor(y, {1, 3, 3, 2}, want);

  // 3x3, stride 2, same on the 4x4 image: out 2, total pad 1, after.
  //   y(0,0) = (1+2+3+5+6+7+9+10+11)/9 = 6      y(0,1) = (3+4+7+8+11+12)/6 = 7.5
  //   y(1,0) = (9+10+11+13+14+15)/6 = 12        y(1,1) = (11+12+15+16)/4 = 13.5
  expectTensor(avgPool2d(image4x4(), {3, 3}, {2, 2}, true), {1, 2, 2, 1}, {6, 7.5, 12, 13.5});
  // Valid 3x3 stride 2 keeps only the first window.
  expectTensor(avgPool2d(image4x4(), {3, 3}, {2, 2}, false), {1, 1, 1, 1}, {6});
}

//===----------------------------------------------------------------------===//
// Dense, normalization, embedding
//===----------------------------------------------------------------------===//

TEST(ReferenceDense, Rank3InputUsesTheLastAxis) {
  // x [2, 2, 3] = rows [1 2 3], [4 5 6], [7 8 9], [10 11 12];
  // kernel [[1, 0], [0, 1], [1, 1]]: (a + c, b + c); bias [10, 20].
  RefTensor kernel = tensor({3, 2}, {1, 0, 0, 1, 1, 1});
  RefTensor bias = tensor({2}, {10, 20});
  RefTensor y = dense(iota({2, 2, 3}), kernel, &bias);
  expectTensor(y, {2, 2, 2}, {14, 25, 20, 31, 26, 37, 32, 43});
  expectTensor(dense(iota({2, 2, 3}), kernel, nullptr), {2, 2, 2}, {4, 5, 10, 11, 16, 17, 22, 23});
}

TEST(ReferenceBatchNorm, TrainingUsesBiasedBatchStatistics) {
  // x [4, 2], channels last. Channel 0: 1, 2, 3, 6: mean 3, squared
  // deviations 4 + 1 + 0 + 9 = 14, biased variance 14/4 = 3.5 (not 14/3).
  // Channel 1: constant 10: mean 10, variance 0.
  RefTensor x = tensor({4, 2}, {1, 10, 2, 10, 3, 10, 6, 10});
  RefTensor gamma = tensor({2}, {2, 1}), beta = tensor({2}, {0, 5});
  RefTensor mean, variance;
  RefTensor y = batchNormTraining(x, &gamma, &beta, -1, 0.001, &mean, &variance);
  expectTensor(mean, {2}, {3, 10});
  expectTensor(variance, {2}, {3.5, 0});
  // Channel 0: 2 * (x - 3) / sqrt(3.5 + 0.001); channel 1: (0 / ...) + 5.
  double s = 2 / std::sqrt(3.501);
  expectTensor(y, {4, 2}, {-2 * s, 5, -1 * s, 5, 0, 5, 3 * s, 5});

  // A middle axis: x [2, 2, 2] normalized along axis 1 gathers x[o, c, i]
  // over o and i: channel 0 = 1, 2, 3, 4 (mean 2.5, variance
  // (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25), channel 1 = 10, 20, 30, 40
  // (mean 25, variance 125).
  RefTensor z = tensor({2, 2, 2}, {1, 2, 10, 20, 3, 4, 30, 40});
  batchNormTraining(z, nullptr, nullptr, 1, 0.001, &mean, &variance);
  expectTensor(mean, {2}, {2.5, 25});
  expectTensor(variance, {2}, {1.25, 125});
}

TEST(ReferenceEmbedding, LooksUpRowsAndReportsOutOfRangeIds) {
  RefTensor table = tensor({3, 2}, {0, 1, 10, 11, 20, 21});
  RefTensor ids = tensor({1, 2}, {2, 0});
  ids.integer = true;
  std::string error;
  expectTensor(embedding(ids, table, &error), {1, 2, 2}, {20, 21, 0, 1});
  EXPECT_EQ(error, "");

  ids = tensor({1, 2}, {0, 3});
  embedding(ids, table, &error);
  EXPECT_EQ(error, "embedding id 3 at position 1 is outside [0, 3)");
  ids = tensor({2, 1}, {1, -1});
  embedding(ids, table, &error);
  EXPECT_EQ(error, "embedding id -1 at position 1 is outside [0, 3)");
}

TEST(ReferenceEmbedding, EvaluatorReportsOutOfRangeIdAtTheOp) {
  const char *text = R"(
func.func @main(%ids: tensor<1x2xi64>, %table: tensor<3x2xf32>) -> tensor<1x2x2xf32> {
  %y = dl.embedding %ids, %table : (tensor<1x2xi64>, tensor<3x2xf32>) -> tensor<1x2x2xf32>
  return %y : tensor<1x2x2xf32>
})";
  RefTensor ids = tensor({1, 2}, {1, 7});
  ids.integer = true;
  RefTensor table = tensor({3, 2}, {0, 1, 10, 11, 20, 21});
  DlRun run;
  EXPECT_TRUE(mlir::failed(run.evaluate(text, {ids, table})));
  ASSERT_EQ(run.diags.size(), 1u);
  EXPECT_DIAG(run.diags.first(), "embedding id 7 at position 1 is outside [0, 3)", 3, 8);
}

//===----------------------------------------------------------------------===//
// Empty tensors
//===----------------------------------------------------------------------===//

TEST(ReferenceEmptyTensors, FlattenOfAnEmptyBatchKeepsTheRowWidth) {
  const char *text = R"(
func.func @main(%x: tensor<0x3x4xf32>) -> tensor<0x12xf32> {
  %y = dl.flatten %x : (tensor<0x3x4xf32>) -> tensor<0x12xf32>
  return %y : tensor<0x12xf32>
})";
  DlRun run;
  auto results = run.evaluate(text, {RefTensor({0, 3, 4})});
  ASSERT_TRUE(mlir::succeeded(results)) << run.diags.first().message;
  EXPECT_EQ((*results)[0].shapeString(), "[0, 12]");
}

TEST(ReferenceEmptyTensors, ReshapeOfAnEmptyBatchInfersMinusOne) {
  const char *text = R"(
func.func @main(%x: tensor<0x3x4xf32>) -> tensor<0x2x6xf32> {
  %y = dl.reshape %x {shape = array<i64: 2, -1>} : (tensor<0x3x4xf32>) -> tensor<0x2x6xf32>
  return %y : tensor<0x2x6xf32>
})";
  DlRun run;
  auto results = run.evaluate(text, {RefTensor({0, 3, 4})});
  ASSERT_TRUE(mlir::succeeded(results)) << run.diags.first().message;
  EXPECT_EQ((*results)[0].shapeString(), "[0, 2, 6]");
}

TEST(ReferenceEmptyTensors, DenseWithZeroInputFeaturesIsTheBias) {
  RefTensor bias = tensor({3}, {1, 2, 3});
  expectTensor(dense(RefTensor({2, 0}), RefTensor({0, 3}), &bias), {2, 3}, {1, 2, 3, 1, 2, 3});
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

// units = 1, one feature: kernel [1, 4] and bias [4] in Keras' gate order
// i, f, c, o, every gate different so that any other order changes h.
RefTensor lstmKernel() { return tensor({1, 4}, {0.5, 1.5, -0.75, 2.0}); }
RefTensor lstmRecurrent() { return tensor({1, 4}, {0.3, -0.6, 0.9, -1.2}); }
RefTensor lstmBias() { return tensor({4}, {0.1, -0.2, 0.3, -0.4}); }

TEST(ReferenceLSTM, OneStepUnits1) {
  // x = 1, h0 = c0 = 0: z = kernel + bias = (0.6, 1.3, -0.45, 1.6).
  //   i = sigmoid(0.6) = 0.645656, candidate = tanh(-0.45) = -0.421899,
  //   c1 = f * 0 + i * candidate = -0.272402,
  //   o = sigmoid(1.6) = 0.832018, h1 = o * tanh(c1) = 0.832018 * -0.265858
  //     = -0.221199.
  // (Each of the 23 other gate orders gives another h1, the nearest -0.217771.)
  RefTensor bias = lstmBias();
  RefTensor y = lstm(tensor({1, 1, 1}, {1.0}), lstmKernel(), lstmRecurrent(), &bias, false);
  expectTensor(y, {1, 1}, {-0.22119895451084665}, 1e-15);
  double c1 = sigmoid(0.6) * std::tanh(-0.45);
  EXPECT_NEAR(y[0], sigmoid(1.6) * std::tanh(c1), 1e-15);
}

TEST(ReferenceLSTM, TwoStepsUseForgetGateAndRecurrentKernel) {
  // Step 1 as above (h1 = -0.221199, c1 = -0.272402). Step 2, x = -2:
  //   z = -2 * kernel + h1 * recurrent + bias, then
  //   c2 = sigmoid(z_f) * c1 + sigmoid(z_i) * tanh(z_c), h2 = sigmoid(z_o) * tanh(c2).
  double k[4] = {0.5, 1.5, -0.75, 2.0}, r[4] = {0.3, -0.6, 0.9, -1.2}, b[4] = {0.1, -0.2, 0.3, -0.4};
  double h1 = -0.22119895451084665, c1 = -0.27240175333005756, z[4];
  for (int g = 0; g < 4; ++g)
    z[g] = -2 * k[g] + h1 * r[g] + b[g];
  double c2 = sigmoid(z[1]) * c1 + sigmoid(z[0]) * std::tanh(z[2]);
  double h2 = sigmoid(z[3]) * std::tanh(c2);
  EXPECT_NEAR(h2, 0.003739673017068555, 1e-15); // the same formula, evaluated independently

  RefTensor bias = lstmBias();
  RefTensor x = tensor({1, 2, 1}, {1.0, -2.0});
  expectTensor(lstm(x, lstmKernel(), lstmRecurrent(), &bias, true), {1, 2, 1}, {h1, h2}, 1e-15);
  expectTensor(lstm(x, lstmKernel(), lstmRecurrent(), &bias, false), {1, 1}, {h2}, 1e-15);
}

//===----------------------------------------------------------------------===//
// Softmax, concat, dropout
//===----------------------------------------------------------------------===//

TEST(ReferenceSoftmax, StableForLargeLogits) {
  // exp(1000) overflows a double: the kernels must shift by the maximum.
  // (Softmax is exp(x - (max + log sum)): the rounding of max + log sum costs
  // about |max| * 2^-53 = 1e-13 absolute in the exponent, hence 1e-12.)
  RefTensor x = tensor({2, 3}, {1000, -1000, 1000, 1000, 999, -1000});
  double ln2 = std::log(2.0);
  // Row 1: softmax(1000, 999) = (sigmoid(1), sigmoid(-1)),
  //        log-softmax = (-log(1 + e^-1), -1 - log(1 + e^-1)).
  double lse = std::log1p(std::exp(-1.0));
  expectTensor(softmax(x, -1), {2, 3},
               {0.5, 0, 0.5, sigmoid(1.0), sigmoid(-1.0), 0}, 1e-12);
  expectTensor(logSoftmax(x, 1), {2, 3},
               {-ln2, -2000 - ln2, -ln2, -lse, -1 - lse, -2000 - lse}, 1e-12);
  // Along axis 0: each column of (1000, 1000), (-1000, 999), (1000, -1000).
  expectTensor(softmax(x, 0), {2, 3}, {0.5, 0, 1, 0.5, 1, 0}, 1e-12);
}

TEST(ReferenceConcat, MiddleAxis) {
  // a [2, 1, 2], b [2, 2, 2] along axis 1 -> [2, 3, 2]: each batch row gets
  // a's row, then b's two rows.
  RefTensor a = tensor({2, 1, 2}, {1, 2, 3, 4});
  RefTensor b = tensor({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  std::vector<double> want{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12};
  expectTensor(concat({&a, &b}, 1), {2, 3, 2}, want);
  expectTensor(concat({&a, &b}, -2), {2, 3, 2}, want);
  // b before a.
  expectTensor(concat({&b, &a}, 1), {2, 3, 2}, {5, 6, 7, 8, 1, 2, 9, 10, 11, 12, 3, 4});
}

TEST(ReferenceDropout, RateZeroKeepsEverything) {
  RefTensor x = iota({100, 100});
  RefTensor y = dropout(x, 0.0, 42, 7);
  EXPECT_EQ(y.shape, x.shape);
  EXPECT_EQ(y.data, x.data);
}

TEST(ReferenceDropout, HalfRateKeepsAboutHalfScaledByTwo) {
  RefTensor ones({100, 100}, 1.0);
  RefTensor y = dropout(ones, 0.5, 42, 7);
  int64_t kept = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    EXPECT_TRUE(y[i] == 0.0 || y[i] == 2.0) << "element " << i << " is " << y[i];
    kept += y[i] != 0.0;
  }
  EXPECT_GE(kept, 4000);
  EXPECT_LE(kept, 6000);

  // A pure function of (seed, stream, index): the same draw repeats, another
  // stream (training step) or seed draws another mask.
  EXPECT_EQ(dropout(ones, 0.5, 42, 7).data, y.data);
  RefTensor otherStream = dropout(ones, 0.5, 42, 8);
  RefTensor otherSeed = dropout(ones, 0.5, 43, 7);
  int64_t streamDiffers = 0, seedDiffers = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    streamDiffers += otherStream[i] != y[i];
    seedDiffers += otherSeed[i] != y[i];
  }
  // Independent masks differ in about half the positions.
  EXPECT_GE(streamDiffers, 4000);
  EXPECT_GE(seedDiffers, 4000);
}

TEST(ReferenceRoundingProbe, MovesRunningSumsByTheirOwnRounding) {
  // 1 - 1 + 1e-3: the running sums are of size 1, so a float32 backend's
  // result can be off by about 2^-24 of 1, not of 1e-3. The probe moves it
  // so much, only under a probe, and the same way for the same seed.
  RefTensor x = tensor({1, 3}, {1, -1, 1e-3}), ones = tensor({3, 1}, {1, 1, 1});
  EXPECT_EQ(dense(x, ones, nullptr)[0], 1e-3);
  double first, again;
  {
    RoundingProbe probe(7);
    first = dense(x, ones, nullptr)[0];
    {
      RoundingProbe inner(8);
      EXPECT_NE(stored(1.0), 1.0);
    }
    EXPECT_NE(stored(1.0), 1.0);
  }
  EXPECT_EQ(stored(1.0), 1.0);
  {
    RoundingProbe probe(7);
    again = dense(x, ones, nullptr)[0];
  }
  EXPECT_EQ(first, again);
  EXPECT_GT(std::fabs(first - 1e-3), 1e-3 * 0x1p-24 * 4);
  EXPECT_LE(std::fabs(first - 1e-3), 3 * 0x1p-24);
}

} // namespace
