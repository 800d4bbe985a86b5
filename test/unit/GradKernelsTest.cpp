//===- GradKernelsTest.cpp - FD checks of conv, pool, dense, activations, LSTM ===//
//
// Seeded random cases for every backward kernel but the losses
// (GradLossesTest.cpp), checked with GradCheck.h's harness.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include <algorithm>

using namespace dlc::ref;
using namespace dlc::ref::test;

namespace {

[[maybe_unused]] ::testing::Environment *const reportEnvironment =
    ::testing::AddGlobalTestEnvironment(new ReportEnvironment);

//===----------------------------------------------------------------------===//
// The harness itself
//===----------------------------------------------------------------------===//

/// Whether the harness accepts |analytic| as the gradient of sum(w * f(x)).
bool accepted(const RefTensor &x, const Forward &f, const RefTensor &w, const RefTensor &analytic) {
  return fdCompare(x, f, w, analytic).maxUsed <= 1.0;
}

RefTensor scaledBy(RefTensor t, double factor) {
  for (double &v : t.data)
    v *= factor;
  return t;
}

TEST(GradCheckHarness, RejectsWrongGradients) {
  Random rng(1);
  // Softmax: the right gradient passes; scaled by 1.01, one element off by
  // 1e-5 of its size, or two elements swapped, it fails.
  RefTensor x = rng.tensor({2, 5, 4}, -2, 2), w = rng.tensor({2, 5, 4});
  Forward f = [](const RefTensor &v) { return softmax(v, 1); };
  RefTensor good = softmaxGrad(softmax(x, 1), w, 1);
  EXPECT_TRUE(accepted(x, f, w, good));
  EXPECT_FALSE(accepted(x, f, w, scaledBy(good, 1.01)));
  EXPECT_GT(fdCompare(x, f, w, scaledBy(good, 1.01)).maxError, 1e3 * kTol);
  RefTensor nudged = good;
  nudged[7] += 1e-5 * std::max(std::abs(nudged[7]), kFloor);
  EXPECT_FALSE(accepted(x, f, w, nudged));
  RefTensor swapped = good;
  std::swap(swapped[3], swapped[11]);
  EXPECT_FALSE(accepted(x, f, w, swapped));

  // Scaled by 1.01 is rejected for the ops with the loosest rounding
  // allowance too (every output moves): batch norm, the LSTM, a loss.
  RefTensor bx = rng.tensor({4, 3, 2}, -2, 2), bw = rng.tensor(bx.shape);
  Forward bn = [](const RefTensor &v) {
    return batchNormTraining(v, nullptr, nullptr, 1, 1e-3, nullptr, nullptr);
  };
  RefTensor bgood = batchNormGrad(bx, nullptr, bw, 1, 1e-3).dx;
  EXPECT_TRUE(accepted(bx, bn, bw, bgood));
  EXPECT_FALSE(accepted(bx, bn, bw, scaledBy(bgood, 1.01)));

  RefTensor lx = rng.tensor({2, 4, 3}), lk = rng.tensor({3, 8}), lr = rng.tensor({2, 8});
  RefTensor lw = rng.tensor({2, 4, 2});
  Forward rnn = [&](const RefTensor &v) { return lstm(v, lk, lr, nullptr, true); };
  RefTensor lgood = lstmGrad(lx, lk, lr, nullptr, lw, true).dx;
  EXPECT_TRUE(accepted(lx, rnn, lw, lgood));
  EXPECT_FALSE(accepted(lx, rnn, lw, scaledBy(lgood, 1.01)));

  RefTensor z = rng.tensor({3, 4}, -3, 3), ids({3});
  ids.data = {0, 3, 1};
  LossOptions sparse{LossKind::SparseCategoricalCrossentropy, true, 0.1};
  Forward lossOf = [&](const RefTensor &v) { return RefTensor({1}, loss(v, ids, sparse)); };
  RefTensor zgood = lossGrad(z, ids, sparse);
  EXPECT_TRUE(accepted(z, lossOf, RefTensor({1}, 1.0), zgood));
  EXPECT_FALSE(accepted(z, lossOf, RefTensor({1}, 1.0), scaledBy(zgood, 1.01)));

  // A conv gradient that forgets the dilation is caught.
  RefTensor img = rng.tensor({1, 7, 7, 2}), k = rng.tensor({3, 3, 2, 2});
  RefTensor wy = rng.tensor(conv2d(img, k, nullptr, {1, 1}, true, {2, 2}).shape);
  Forward conv = [&](const RefTensor &v) { return conv2d(v, k, nullptr, {1, 1}, true, {2, 2}); };
  EXPECT_TRUE(accepted(img, conv, wy, conv2dGradInput(wy, k, {7, 7}, {1, 1}, true, {2, 2})));
  EXPECT_FALSE(accepted(img, conv, wy, conv2dGradInput(wy, k, {7, 7}, {1, 1}, true, {1, 1})));
}

//===----------------------------------------------------------------------===//
// Convolution, dense, bias
//===----------------------------------------------------------------------===//

TEST(GradKernels, Conv2d) {
  Random rng(2);
  for (int c = 0; c < kCases; ++c) {
    bool same = c % 2;
    Pair strides{1 + c % 3, rng.integer(1, 3)}, dilation{1 + (c / 2) % 2, rng.integer(1, 2)};
    Pair ks{rng.integer(1, 4), rng.integer(1, 3)};
    int64_t n = rng.integer(1, 2), ch = rng.integer(1, 3), f = rng.integer(1, 3);
    Pair size;
    for (int a = 0; a < 2; ++a) // valid needs the dilated window to fit
      size[a] = (same ? 1 : dilation[a] * (ks[a] - 1) + 1) + rng.integer(0, 6);
    RefTensor x = rng.tensor({n, size[0], size[1], ch}), k = rng.tensor({ks[0], ks[1], ch, f});
    RefTensor bias = rng.tensor({f});
    RefTensor w = rng.tensor(conv2d(x, k, &bias, strides, same, dilation).shape);
    std::string what = describe("n h w c f kh kw sy sx dy dx same",
                                {n, size[0], size[1], ch, f, ks[0], ks[1], strides[0], strides[1],
                                 dilation[0], dilation[1], same});
    expectGrad("conv2dGradInput",
               fdCompare(x, [&](const RefTensor &v) { return conv2d(v, k, &bias, strides, same, dilation); },
                         w, conv2dGradInput(w, k, size, strides, same, dilation)),
               what);
    expectGrad("conv2dGradKernel",
               fdCompare(k, [&](const RefTensor &v) { return conv2d(x, v, &bias, strides, same, dilation); },
                         w, conv2dGradKernel(x, w, ks, strides, same, dilation)),
               what);
    expectGrad("biasGrad",
               fdCompare(bias, [&](const RefTensor &v) { return conv2d(x, k, &v, strides, same, dilation); },
                         w, biasGrad(w)),
               what);
  }
}

TEST(GradKernels, Dense) {
  Random rng(3);
  for (int c = 0; c < kCases; ++c) {
    std::vector<int64_t> shape = rng.shape(1, 3, 4);
    int64_t in = rng.integer(1, 5), units = rng.integer(1, 5);
    shape.push_back(in);
    RefTensor x = rng.tensor(shape), k = rng.tensor({in, units}), bias = rng.tensor({units});
    RefTensor w = rng.tensor(dense(x, k, &bias).shape);
    std::string what = "x " + x.shapeString() + " units " + std::to_string(units);
    expectGrad("denseGradInput",
               fdCompare(x, [&](const RefTensor &v) { return dense(v, k, &bias); }, w,
                         denseGradInput(w, k)),
               what);
    expectGrad("denseGradKernel",
               fdCompare(k, [&](const RefTensor &v) { return dense(x, v, &bias); }, w,
                         denseGradKernel(x, w)),
               what);
    expectGrad("biasGrad",
               fdCompare(bias, [&](const RefTensor &v) { return dense(x, k, &v); }, w, biasGrad(w)),
               what);
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(GradKernels, Pool2d) {
  Random rng(4);
  for (int c = 0; c < kCases; ++c) {
    bool same = c % 2;
    Pair window{rng.integer(1, 4), rng.integer(1, 3)};
    // Cases alternate overlapping (stride < window) and disjoint windows.
    Pair strides = (c / 2) % 2 ? Pair{window[0] + rng.integer(0, 1), window[1]}
                               : Pair{rng.integer(1, 3), rng.integer(1, 3)};
    Pair size{(same ? 1 : window[0]) + rng.integer(0, 6), (same ? 1 : window[1]) + rng.integer(0, 6)};
    int64_t n = rng.integer(1, 2), ch = rng.integer(1, 3);
    RefTensor x = rng.distinct({n, size[0], size[1], ch});
    RefTensor w = rng.tensor(maxPool2d(x, window, strides, same).shape);
    std::string what = describe("n h w c kh kw sy sx same", {n, size[0], size[1], ch, window[0],
                                                             window[1], strides[0], strides[1], same});
    expectGrad("maxPool2dGrad",
               fdCompare(x, [&](const RefTensor &v) { return maxPool2d(v, window, strides, same); }, w,
                         maxPool2dGrad(x, w, window, strides, same)),
               what);
    expectGrad("avgPool2dGrad",
               fdCompare(x, [&](const RefTensor &v) { return avgPool2d(v, window, strides, same); }, w,
                         avgPool2dGrad(w, size, window, strides, same)),
               what);
    RefTensor wg = rng.tensor({n, ch});
    expectGrad("globalMaxPool2dGrad",
               fdCompare(x, globalMaxPool2d, wg, globalMaxPool2dGrad(x, wg)), what);
    expectGrad("globalAvgPool2dGrad",
               fdCompare(x, globalAvgPool2d, wg, globalAvgPool2dGrad(wg, size)), what);
  }
}

TEST(GradKernels, MaxPoolTiesGoToTheFirstMaximum) {
  // One 2x2 window of equal values: TF routes everything to the first.
  RefTensor x({1, 2, 2, 1}, 3.0), dy({1, 1, 1, 1}, 5.0);
  EXPECT_EQ(maxPool2dGrad(x, dy, {2, 2}, {2, 2}, false).data, (std::vector<double>{5, 0, 0, 0}));
  EXPECT_EQ(globalMaxPool2dGrad(x, RefTensor({1, 1}, 2.0)).data,
            (std::vector<double>{2, 0, 0, 0}));
}

//===----------------------------------------------------------------------===//
// Activations, softmax, batch norm, embedding, slice
//===----------------------------------------------------------------------===//

TEST(GradKernels, Unary) {
  Random rng(5);
  const std::pair<Unary, const char *> kinds[] = {
      {Unary::Relu, "relu"}, {Unary::Sigmoid, "sigmoid"}, {Unary::Tanh, "tanh"},
      {Unary::Gelu, "gelu"}, {Unary::GeluTanh, "gelu_tanh"}, {Unary::LeakyRelu, "leaky_relu"}};
  for (auto [kind, name] : kinds)
    for (int c = 0; c < kCases; ++c) {
      double slope = rng.uniform(0.01, 0.5);
      RefTensor x = rng.awayFromZero(rng.shape(1, 4, 5), 4.0), w = rng.tensor(x.shape);
      bool savesOutput = kind == Unary::Sigmoid || kind == Unary::Tanh;
      RefTensor saved = savesOutput ? unary(x, kind, slope) : x;
      expectGrad(std::string("unaryGrad/") + name,
                 fdCompare(x, [&](const RefTensor &v) { return unary(v, kind, slope); }, w,
                           unaryGrad(saved, w, kind, slope)),
                 x.shapeString());
    }
}

TEST(GradKernels, Softmax) {
  Random rng(6);
  for (int c = 0; c < kCases; ++c) {
    RefTensor x = rng.tensor(rng.shape(1, 4, 5), -3, 3), w = rng.tensor(x.shape);
    int64_t axis = rng.integer(-x.rank(), x.rank() - 1);
    expectGrad("softmaxGrad",
               fdCompare(x, [&](const RefTensor &v) { return softmax(v, axis); }, w,
                         softmaxGrad(softmax(x, axis), w, axis)),
               x.shapeString() + " axis " + std::to_string(axis));
  }
}

TEST(GradKernels, BatchNormAxisLastAndAxis1) {
  Random rng(7);
  for (int c = 0; c < kCases; ++c) {
    int64_t axis = c % 2 ? -1 : 1;
    bool withGamma = (c / 2) % 2 == 0;
    double epsilon = c % 3 ? 1e-3 : 1e-5;
    RefTensor x = rng.tensor(rng.shape(2, 4, 4), -2, 2);
    x.shape[0] = 2 + c % 3; // at least two samples: a non-degenerate variance
    x.data.resize(numElements(x.shape));
    for (double &v : x.data)
      v = rng.uniform(-2, 2);
    int64_t channels = x.dim(axis);
    RefTensor gamma = rng.tensor({channels}, 0.5, 1.5), beta = rng.tensor({channels});
    const RefTensor *g = withGamma ? &gamma : nullptr;
    RefTensor w = rng.tensor(x.shape);
    BatchNormGrads grads = batchNormGrad(x, g, w, axis, epsilon);
    std::string what = x.shapeString() + " axis " + std::to_string(axis);
    auto bn = [&](const RefTensor &xv, const RefTensor *gv, const RefTensor &bv) {
      return batchNormTraining(xv, gv, &bv, axis, epsilon, nullptr, nullptr);
    };
    expectGrad("batchNormGrad/dx",
               fdCompare(x, [&](const RefTensor &v) { return bn(v, g, beta); }, w, grads.dx), what);
    expectGrad("batchNormGrad/dgamma",
               fdCompare(gamma, [&](const RefTensor &v) { return bn(x, &v, beta); }, w, grads.dgamma),
               what);
    expectGrad("batchNormGrad/dbeta",
               fdCompare(beta, [&](const RefTensor &v) { return bn(x, g, v); }, w, grads.dbeta), what);
  }
}

TEST(GradKernels, BatchNormInferenceMode) {
  Random rng(8);
  for (int c = 0; c < kCases; ++c) {
    int64_t axis = c % 2 ? -1 : 1;
    bool withGamma = (c / 2) % 2 == 0;
    RefTensor x = rng.tensor(rng.shape(2, 4, 4), -2, 2);
    int64_t channels = x.dim(axis);
    RefTensor gamma = rng.tensor({channels}, 0.5, 1.5), beta = rng.tensor({channels});
    RefTensor mean = rng.tensor({channels}), variance = rng.tensor({channels}, 0.2, 2.0);
    const RefTensor *g = withGamma ? &gamma : nullptr;
    RefTensor w = rng.tensor(x.shape);
    RefTensor dx = batchNormInferenceGrad(w, g, variance, axis, 1e-3);
    expectGrad("batchNormInferenceGrad",
               fdCompare(x,
                         [&](const RefTensor &v) {
                           return batchNormInference(v, g, &beta, mean, variance, axis, 1e-3);
                         },
                         w, dx),
               x.shapeString() + " axis " + std::to_string(axis));
  }
}

TEST(GradKernels, Embedding) {
  Random rng(8);
  for (int c = 0; c < kCases; ++c) {
    int64_t rows = rng.integer(1, 6), width = rng.integer(1, 4);
    RefTensor ids(rng.shape(1, 2, 5));
    ids.integer = true;
    for (double &id : ids.data)
      id = double(rng.integer(0, rows - 1)); // repeats are likely: scatter-add
    RefTensor table = rng.tensor({rows, width});
    RefTensor w = rng.tensor(embedding(ids, table, nullptr).shape);
    expectGrad("embeddingGrad",
               fdCompare(table, [&](const RefTensor &v) { return embedding(ids, v, nullptr); }, w,
                         embeddingGrad(ids, w, rows)),
               ids.shapeString());
  }
}

TEST(GradKernels, SliceIsTheGradientOfConcat) {
  Random rng(9);
  for (int c = 0; c < kCases; ++c) {
    std::vector<int64_t> shape = rng.shape(1, 4, 4);
    int64_t axis = rng.integer(-int64_t(shape.size()), int64_t(shape.size()) - 1);
    int64_t normalized = axis < 0 ? axis + int64_t(shape.size()) : axis;
    std::vector<RefTensor> parts(rng.integer(1, 3));
    for (RefTensor &part : parts) {
      shape[normalized] = rng.integer(1, 3);
      part = rng.tensor(shape);
    }
    auto joined = [&](size_t which, const RefTensor &v) {
      std::vector<const RefTensor *> inputs;
      for (size_t p = 0; p < parts.size(); ++p)
        inputs.push_back(p == which ? &v : &parts[p]);
      return concat(inputs, axis);
    };
    RefTensor w = rng.tensor(joined(0, parts[0]).shape);
    int64_t start = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      int64_t size = parts[p].shape[normalized];
      expectGrad("slice",
                 fdCompare(parts[p], [&](const RefTensor &v) { return joined(p, v); }, w,
                           slice(w, axis, start, size)),
                 "axis " + std::to_string(axis));
      start += size;
    }
  }
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

TEST(GradKernels, LstmWithAndWithoutSequencesAndBias) {
  Random rng(10);
  for (int c = 0; c < kCases; ++c) {
    bool sequences = c % 2, withBias = (c / 2) % 2 == 0;
    int64_t n = rng.integer(1, 3), steps = rng.integer(1, 5), features = rng.integer(1, 4),
            units = rng.integer(1, 4);
    RefTensor x = rng.tensor({n, steps, features}), kernel = rng.tensor({features, 4 * units});
    RefTensor recurrent = rng.tensor({units, 4 * units}), bias = rng.tensor({4 * units});
    const RefTensor *b = withBias ? &bias : nullptr;
    RefTensor w = rng.tensor(lstm(x, kernel, recurrent, b, sequences).shape);
    LstmGrads grads = lstmGrad(x, kernel, recurrent, b, w, sequences);
    std::string what = describe("n steps features units sequences bias",
                                {n, steps, features, units, sequences, withBias});
    expectGrad("lstmGrad/dx",
               fdCompare(x, [&](const RefTensor &v) { return lstm(v, kernel, recurrent, b, sequences); },
                         w, grads.dx),
               what);
    expectGrad("lstmGrad/dkernel",
               fdCompare(kernel, [&](const RefTensor &v) { return lstm(x, v, recurrent, b, sequences); },
                         w, grads.dkernel),
               what);
    expectGrad("lstmGrad/drecurrent",
               fdCompare(recurrent, [&](const RefTensor &v) { return lstm(x, kernel, v, b, sequences); },
                         w, grads.drecurrent),
               what);
    // Without a bias, dbias is the gradient of a zero bias.
    expectGrad("lstmGrad/dbias",
               fdCompare(bias, [&](const RefTensor &v) { return lstm(x, kernel, recurrent, &v, sequences); },
                         w, withBias ? grads.dbias : lstmGrad(x, kernel, recurrent, &bias, w, sequences).dbias),
               what);
    if (!withBias) {
      RefTensor zero({4 * units});
      expectGrad("lstmGrad/dbias",
                 fdCompare(zero, [&](const RefTensor &v) { return lstm(x, kernel, recurrent, &v, sequences); },
                           w, grads.dbias),
                 what + " (zero bias)");
    }
  }
}

} // namespace
