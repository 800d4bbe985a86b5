//===- GradLossesTest.cpp - FD checks and Keras values of the losses ------===//
//
// lossGrad against central differences of loss() for every kind x fromLogits
// x label smoothing, with probabilities kept away from the clip bounds; then
// the clipped case (gradient 0 through the clip), values from Keras'
// documentation, and consistency between the logits and probability forms.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

using namespace dlc::ref;
using namespace dlc::ref::test;

namespace {

const char *kindName(LossKind kind) {
  switch (kind) {
  case LossKind::CategoricalCrossentropy: return "categorical";
  case LossKind::SparseCategoricalCrossentropy: return "sparse";
  case LossKind::BinaryCrossentropy: return "binary";
  case LossKind::MeanSquaredError: return "mse";
  }
  return "?";
}

RefTensor scalar(double v) { return RefTensor({1}, v); }

/// FD of the scalar loss with respect to the prediction.
FdResult checkLoss(const RefTensor &prediction, const RefTensor &labels, const LossOptions &options,
                   double eps = kEps, const std::function<bool(int64_t)> &check = nullptr) {
  return fdCompare(prediction, [&](const RefTensor &p) { return scalar(loss(p, labels, options)); },
                   scalar(1.0), lossGrad(prediction, labels, options), eps, check);
}

/// Predictions and labels of |kind|: probabilities in (0.05, 1) (not
/// normalised, so the renormalisation is exercised) or (0.02, 0.98) for the
/// binary loss, far from the clip bounds; logits in (-4, 4).
std::pair<RefTensor, RefTensor> lossCase(Random &rng, LossKind kind, bool fromLogits, int c) {
  std::vector<int64_t> shape = rng.shape(1, 2, 4);
  int64_t classes = rng.integer(2, 6);
  shape.push_back(classes);
  RefTensor p = fromLogits ? rng.tensor(shape, -4, 4)
                : kind == LossKind::BinaryCrossentropy ? rng.tensor(shape, 0.02, 0.98)
                : kind == LossKind::MeanSquaredError   ? rng.tensor(shape, -2, 2)
                                                       : rng.tensor(shape, 0.05, 1.0);
  int64_t rows = p.size() / classes;
  RefTensor labels(shape);
  switch (kind) {
  case LossKind::SparseCategoricalCrossentropy:
    labels = RefTensor(std::vector<int64_t>(shape.begin(), shape.end() - 1));
    labels.integer = true;
    for (double &id : labels.data)
      id = double(rng.integer(0, classes - 1));
    break;
  case LossKind::CategoricalCrossentropy: // one-hot or soft rows
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (int64_t j = 0; j < classes; ++j)
        sum += labels[r * classes + j] = c % 2 ? rng.uniform(0, 1) : 0.0;
      if (c % 2 == 0)
        labels[r * classes + rng.integer(0, classes - 1)] = 1.0;
      else
        for (int64_t j = 0; j < classes; ++j)
          labels[r * classes + j] /= sum;
    }
    break;
  case LossKind::BinaryCrossentropy:
    for (double &y : labels.data)
      y = c % 2 ? rng.uniform(0, 1) : double(rng.integer(0, 1));
    break;
  case LossKind::MeanSquaredError: labels = rng.tensor(shape, -2, 2); break;
  }
  return {p, labels};
}

TEST(GradLosses, EveryKindLogitsAndLabelSmoothing) {
  Random rng(11);
  for (LossKind kind : {LossKind::CategoricalCrossentropy, LossKind::SparseCategoricalCrossentropy,
                        LossKind::BinaryCrossentropy, LossKind::MeanSquaredError})
    for (bool fromLogits : {false, true})
      for (double smoothing : {0.0, 0.1, 0.3})
        for (int c = 0; c < 8; ++c) {
          auto [p, labels] = lossCase(rng, kind, fromLogits, c);
          LossOptions options{kind, fromLogits, smoothing};
          std::string name = std::string("lossGrad/") + kindName(kind) +
                             (fromLogits && kind != LossKind::MeanSquaredError ? "/logits" : "");
          expectGrad(name, checkLoss(p, labels, options),
                     p.shapeString() + " smoothing " + std::to_string(smoothing));
        }
}

TEST(GradLosses, ClippedProbabilitiesHaveNoGradientThroughTheClip) {
  // Binary: 0, 1 and 1e-9 are clipped; the others are not.
  RefTensor p({2, 3}), y({2, 3});
  p.data = {0.0, 0.3, 1.0, 1e-9, 0.8, 0.55};
  y.data = {1.0, 0.0, 0.0, 1.0, 1.0, 0.4};
  LossOptions binary{LossKind::BinaryCrossentropy};
  RefTensor g = lossGrad(p, y, binary);
  auto clipped = [&](int64_t i) { return p[i] < 1e-7 || p[i] > 1 - 1e-7; };
  for (int64_t i = 0; i < p.size(); ++i)
    if (clipped(i))
      EXPECT_EQ(g[i], 0.0) << i;
    else
      EXPECT_NE(g[i], 0.0) << i;
  // eps = 1e-8 keeps x +- eps on the clipped side: FD is exactly 0 there.
  EXPECT_EQ(checkLoss(p, y, binary, 1e-8, clipped).maxError, 0.0);
  expectGrad("lossGrad/binary", checkLoss(p, y, binary, kEps, [&](int64_t i) { return !clipped(i); }),
             "clipped case");

  // Sparse: q = clip(p) is renormalised, yet the clipped 0 gets nothing.
  RefTensor probs({2, 3}), ids({2});
  probs.data = {0.0, 0.7, 0.3, 0.2, 0.5, 0.3};
  ids.data = {1, 2};
  LossOptions sparse{LossKind::SparseCategoricalCrossentropy};
  RefTensor gs = lossGrad(probs, ids, sparse);
  EXPECT_EQ(gs[0], 0.0);
  EXPECT_LE(checkLoss(probs, ids, sparse, 1e-9, [](int64_t i) { return i == 0; }).maxError, 0.0);
  expectGrad("lossGrad/sparse", checkLoss(probs, ids, sparse, kEps, [](int64_t i) { return i != 0; }),
             "clipped case");

  // Categorical: p / sum(p) is clipped, but p still moves the sum, so the
  // clipped element's gradient is the renormalisation's alone: 1 / sum(p)
  // per row for one-hot labels (over 2 rows), where FD agrees.
  RefTensor onehot({2, 3});
  onehot.data = {0, 1, 0, 0, 0, 1};
  LossOptions categorical{LossKind::CategoricalCrossentropy};
  RefTensor gc = lossGrad(probs, onehot, categorical);
  EXPECT_NEAR(gc[0], 1.0 / 1.0 / 2.0, 1e-15);
  EXPECT_LE(checkLoss(probs, onehot, categorical, 1e-9, [](int64_t i) { return i == 0; }).maxError,
            1e-5);
  expectGrad("lossGrad/categorical", checkLoss(probs, onehot, categorical), "clipped case");
}

TEST(GradLosses, KerasDocumentedValues) {
  // keras.losses.categorical_crossentropy docstring: [0.10536 0.11653 0.06188].
  RefTensor eye({3, 3}), b({3, 3});
  eye.data = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  b.data = {.9, .05, .05, .05, .89, .06, .05, .01, .94};
  EXPECT_NEAR(loss(b, eye, {LossKind::CategoricalCrossentropy}), (0.10536 + 0.11653 + 0.06188) / 3,
              1e-5);
  EXPECT_NEAR(loss(eye, eye, {LossKind::CategoricalCrossentropy}), -std::log(1 - 1e-7), 1e-12);
  // keras.losses.binary_crossentropy: [[0, 1], [0, 0]] vs [[.6, .4], [.4, .6]]
  // gives [0.916, 0.714].
  RefTensor y({2, 2}), p({2, 2});
  y.data = {0, 1, 0, 0};
  p.data = {.6, .4, .4, .6};
  EXPECT_NEAR(loss(p, y, {LossKind::BinaryCrossentropy}), (0.91629 + 0.71356) / 2, 1e-5);
  // BinaryCrossentropy(from_logits=True): 0.865.
  RefTensor y4({4}), z4({4});
  y4.data = {0, 1, 0, 0};
  z4.data = {-18.6, 0.51, 2.94, -12.8};
  EXPECT_NEAR(loss(z4, y4, {LossKind::BinaryCrossentropy, true}), 0.865, 1e-3);
  // sparse_categorical_crossentropy: [1, 2] vs [[.05, .95, 0], [.1, .8, .1]]
  // gives [0.0513, 2.303].
  RefTensor ids({2}), q({2, 3});
  ids.data = {1, 2};
  q.data = {.05, .95, 0, .1, .8, .1};
  EXPECT_NEAR(loss(q, ids, {LossKind::SparseCategoricalCrossentropy}), (0.0513 + 2.3026) / 2, 1e-4);
  // mean_squared_error: [[0, 1], [0, 0]] vs [[1, 1], [1, 0]] gives [0.5, 0.5].
  RefTensor m({2, 2});
  m.data = {1, 1, 1, 0};
  EXPECT_DOUBLE_EQ(loss(m, y, {LossKind::MeanSquaredError}), 0.5);
}

TEST(GradLosses, LogitsAgreeWithProbabilitiesAndSmoothingWithSmoothedLabels) {
  Random rng(12);
  for (int c = 0; c < kCases; ++c) {
    RefTensor z = rng.tensor({3, 4}, -3, 3), onehot({3, 4}), ids({3});
    for (int64_t r = 0; r < 3; ++r) {
      ids[r] = double(rng.integer(0, 3));
      onehot[r * 4 + int64_t(ids[r])] = 1.0;
    }
    double ls = rng.uniform(0, 0.5);
    RefTensor probs = softmax(z, -1), sig = unary(z, Unary::Sigmoid);
    auto smoothed = [&](double floor) {
      RefTensor s = onehot;
      for (double &v : s.data)
        v = v * (1 - ls) + floor;
      return s;
    };
    using K = LossKind;
    EXPECT_NEAR(loss(z, onehot, {K::CategoricalCrossentropy, true, ls}),
                loss(probs, onehot, {K::CategoricalCrossentropy, false, ls}), 1e-12);
    EXPECT_NEAR(loss(z, ids, {K::SparseCategoricalCrossentropy, true, ls}),
                loss(z, onehot, {K::CategoricalCrossentropy, true, ls}), 1e-12);
    EXPECT_NEAR(loss(probs, ids, {K::SparseCategoricalCrossentropy}),
                loss(probs, onehot, {K::CategoricalCrossentropy}), 1e-12);
    EXPECT_NEAR(loss(z, onehot, {K::BinaryCrossentropy, true, ls}),
                loss(sig, onehot, {K::BinaryCrossentropy, false, ls}), 1e-12);
    EXPECT_NEAR(loss(z, onehot, {K::CategoricalCrossentropy, true, ls}),
                loss(z, smoothed(ls / 4), {K::CategoricalCrossentropy, true}), 1e-12);
    EXPECT_NEAR(loss(z, onehot, {K::BinaryCrossentropy, true, ls}),
                loss(z, smoothed(ls / 2), {K::BinaryCrossentropy, true}), 1e-12);
    EXPECT_EQ(loss(z, onehot, {K::MeanSquaredError, true, ls}),
              loss(z, onehot, {K::MeanSquaredError}));
  }
}

TEST(GradLosses, LogitsNeverOverflow) {
  RefTensor z({1, 3}), onehot({1, 3});
  z.data = {1000.0, -1000.0, 0.0};
  onehot.data = {0, 1, 0};
  for (LossKind kind : {LossKind::CategoricalCrossentropy, LossKind::BinaryCrossentropy}) {
    LossOptions options{kind, true};
    double value = loss(z, onehot, options);
    EXPECT_TRUE(std::isfinite(value)) << kindName(kind);
    for (double g : lossGrad(z, onehot, options).data)
      EXPECT_TRUE(std::isfinite(g)) << kindName(kind);
  }
  EXPECT_NEAR(loss(z, onehot, {LossKind::CategoricalCrossentropy, true}), 2000.0, 1e-9);
}

} // namespace
