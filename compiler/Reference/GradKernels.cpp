//===- GradKernels.cpp - Backward of activations, normalization, losses ---===//
//
// Losses follow Keras 3 (keras/src/losses/losses.py for label smoothing and
// reduction, keras/src/backend/tensorflow/nn.py for the cross-entropies):
//
//   categorical, probabilities: p / sum(p) along the last axis, clipped to
//     [1e-7, 1 - 1e-7], then -sum(y * log(.)).
//   categorical, logits: -sum(y * log_softmax(z)).
//   sparse, probabilities: clip(p) then softmax cross-entropy of log(clip(p)),
//     i.e. -log(q_t / sum(q)) with q = clip(p): the clipped values are
//     renormalised, not p itself (tf.nn.sparse_softmax_cross_entropy_with_logits
//     on log(q)).
//   sparse, logits: -log_softmax(z)[t].
//   binary, probabilities: q = clip(p), -(y log q + (1 - y) log(1 - q)).
//   binary, logits: max(z, 0) - z y + log(1 + exp(-|z|)).
//   mse: (p - y)^2.
//
// Label smoothing: y (1 - ls) + ls / C for the categorical losses and
// y (1 - ls) + ls / 2 for the binary one. Keras' sparse loss takes no label
// smoothing; here it smooths the one-hot of the class ids like the
// categorical loss, which reduces to Keras at ls = 0. mse ignores both
// fromLogits and labelSmoothing. The reduction is the mean of every
// per-example loss ([N, ...] without the class axis for the categorical
// losses); binary cross-entropy and mse average over the last axis first,
// which for equal-sized rows is the mean over every element.
//
// Clipping has TF's gradient: it passes inside [lo, hi] (bounds included) and
// is 0 outside. The renormalisation of the categorical loss is differentiated
// too, so a clipped element still gets the gradient of its share of the sum.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/GradKernels.h"
#include "compiler/Reference/RoundingProbe.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace dlc::ref {

namespace {
constexpr double kEpsilon = 1e-7; // keras.backend.epsilon()


double sigmoid(double v) {
  // Stable for large |v|: exp never overflows.
  if (v >= 0)
    return 1.0 / (1.0 + std::exp(-v));
  double e = std::exp(v);
  return e / (1.0 + e);
}
} // namespace

RefTensor unaryGrad(const RefTensor &saved, const RefTensor &dy, Unary kind, double slope) {
  RefTensor dx(saved.shape);
  for (int64_t i = 0; i < saved.size(); ++i) {
    double v = saved[i], d = 0;
    switch (kind) {
    case Unary::Relu: d = v > 0 ? 1.0 : 0.0; break;
    case Unary::Sigmoid: d = v * (1.0 - v); break;
    case Unary::Tanh: d = 1.0 - v * v; break;
    case Unary::Gelu: {
      double pdf = std::exp(-0.5 * v * v) / std::sqrt(2.0 * M_PI);
      d = approximated(0.5 * (1.0 + std::erf(v / std::sqrt(2.0))) + v * pdf);
      break;
    }
    case Unary::GeluTanh: {
      double k = std::sqrt(2.0 / M_PI);
      double t = std::tanh(k * (v + 0.044715 * v * v * v));
      d = approximated(0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * v * v));
      break;
    }
    case Unary::LeakyRelu: d = v > 0 ? 1.0 : slope; break;
    }
    dx[i] = dy[i] * d;
  }
  return dx;
}

RefTensor softmaxGrad(const RefTensor &y, const RefTensor &dy, int64_t axis) {
  AxisSplit split(y, axis);
  RefTensor dx(y.shape);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t i = 0; i < split.inner; ++i) {
      double dot = 0;
      for (int64_t c = 0; c < split.channels; ++c)
        accumulate(dot, dy[split.index(o, c, i)] * y[split.index(o, c, i)]);
      for (int64_t c = 0; c < split.channels; ++c) {
        int64_t at = split.index(o, c, i);
        dx[at] = y[at] * (dy[at] - dot);
      }
    }
  return dx;
}

/// With x̂ = (x - mean) / sqrt(var + eps) over the count m elements of a
/// channel: dbeta = sum(dy), dgamma = sum(dy x̂) and
/// dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x̂ mean(dy x̂)).
/// dgamma is returned even without gamma (the gradient of a unit scale).
BatchNormGrads batchNormGrad(const RefTensor &x, const RefTensor *gamma, const RefTensor &dy,
                             int64_t axis, double epsilon) {
  AxisSplit split(x, axis);
  double count = double(split.outer * split.inner);
  BatchNormGrads grads{RefTensor(x.shape), RefTensor({split.channels}),
                       RefTensor({split.channels})};
  for (int64_t c = 0; c < split.channels; ++c) {
    double mean = 0, variance = 0;
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i)
        accumulate(mean, x[split.index(o, c, i)]);
    mean /= count;
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i) {
        double d = x[split.index(o, c, i)] - mean;
        accumulate(variance, d * d);
      }
    variance /= count;
    double invStd = 1.0 / std::sqrt(variance + epsilon);
    double sumDy = 0, sumDyXhat = 0;
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i) {
        int64_t at = split.index(o, c, i);
        accumulate(sumDy, dy[at]);
        accumulate(sumDyXhat, dy[at] * (x[at] - mean) * invStd);
      }
    grads.dbeta[c] = sumDy;
    grads.dgamma[c] = sumDyXhat;
    double scale = (gamma ? (*gamma)[c] : 1.0) * invStd;
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i) {
        int64_t at = split.index(o, c, i);
        double xhat = (x[at] - mean) * invStd;
        grads.dx[at] = scale * (dy[at] - sumDy / count - xhat * sumDyXhat / count);
      }
  }
  return grads;
}

RefTensor batchNormInferenceGrad(const RefTensor &dy, const RefTensor *gamma,
                                 const RefTensor &variance, int64_t axis, double epsilon) {
  AxisSplit split(dy, axis);
  RefTensor dx(dy.shape);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t c = 0; c < split.channels; ++c) {
      double scale = (gamma ? (*gamma)[c] : 1.0) / std::sqrt(variance[c] + epsilon);
      for (int64_t i = 0; i < split.inner; ++i)
        dx[split.index(o, c, i)] = dy[split.index(o, c, i)] * scale;
    }
  return dx;
}

RefTensor embeddingGrad(const RefTensor &ids, const RefTensor &dy, int64_t rows) {
  int64_t width = dy.dim(-1);
  RefTensor dtable({rows, width});
  for (int64_t i = 0; i < ids.size(); ++i) {
    int64_t id = int64_t(ids[i]);
    if (id < 0 || id >= rows)
      continue; // the forward kernel rejects it
    for (int64_t k = 0; k < width; ++k)
      accumulate(dtable[id * width + k], dy[i * width + k]);
  }
  return dtable;
}

RefTensor slice(const RefTensor &dy, int64_t axis, int64_t start, int64_t size) {
  int64_t normalized = axis < 0 ? axis + dy.rank() : axis;
  std::vector<int64_t> shape = dy.shape;
  shape[normalized] = size;
  RefTensor part(shape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < normalized; ++i)
    outer *= shape[i];
  for (int64_t i = normalized + 1; i < dy.rank(); ++i)
    inner *= shape[i];
  int64_t whole = dy.shape[normalized];
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(dy.data.begin() + (o * whole + start) * inner, size * inner,
                part.data.begin() + o * size * inner);
  return part;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

namespace {
/// The labels of one row of C classes after label smoothing; sparse ids
/// become one-hot rows first.
void rowLabels(const RefTensor &labels, const LossOptions &options, int64_t row, int64_t classes,
               std::vector<double> &y) {
  y.assign(classes, 0.0);
  if (options.kind == LossKind::SparseCategoricalCrossentropy) {
    int64_t id = int64_t(labels[row]);
    if (id >= 0 && id < classes)
      y[id] = 1.0;
  } else {
    std::copy_n(labels.data.begin() + row * classes, classes, y.begin());
  }
  double ls = options.labelSmoothing;
  if (ls == 0.0 || options.kind == LossKind::MeanSquaredError)
    return;
  double floor = options.kind == LossKind::BinaryCrossentropy ? 0.5 * ls : ls / double(classes);
  for (double &v : y)
    v = v * (1.0 - ls) + floor;
}

double clip(double v) { return std::min(std::max(v, kEpsilon), 1.0 - kEpsilon); }
bool insideClip(double v) { return v >= kEpsilon && v <= 1.0 - kEpsilon; }

/// Loss of one row (|p| and |y| of C entries) and, when |grad| is non-null,
/// its gradient with respect to |p|.
double rowLoss(const double *p, const std::vector<double> &y, const LossOptions &options,
               double *grad) {
  int64_t classes = int64_t(y.size());
  double total = 0;
  switch (options.kind) {
  case LossKind::MeanSquaredError:
    for (int64_t j = 0; j < classes; ++j) {
      double d = p[j] - y[j];
      accumulate(total, d * d / double(classes));
      if (grad)
        grad[j] = 2.0 * d / double(classes);
    }
    return total;
  case LossKind::BinaryCrossentropy:
    for (int64_t j = 0; j < classes; ++j) {
      double z = p[j], t = y[j];
      if (options.fromLogits) {
        accumulate(total, std::max(z, 0.0) - z * t + approximated(std::log1p(std::exp(-std::abs(z)))));
        if (grad)
          grad[j] = (approximated(sigmoid(z)) - t) / double(classes);
      } else {
        double q = clip(z);
        accumulate(total, -(t * approximated(std::log(q)) + (1.0 - t) * approximated(std::log(1.0 - q))));
        if (grad)
          grad[j] = insideClip(z) ? (-t / q + (1.0 - t) / (1.0 - q)) / double(classes) : 0.0;
      }
    }
    return total / double(classes);
  case LossKind::CategoricalCrossentropy:
  case LossKind::SparseCategoricalCrossentropy:
    break;
  }
  double ySum = 0;
  for (double v : y)
    accumulate(ySum, v);
  bool sparse = options.kind == LossKind::SparseCategoricalCrossentropy;
  if (options.fromLogits || sparse) {
    // Softmax cross-entropy of logits l: -sum(y * (l - logsumexp(l))), whose
    // gradient is softmax(l) * sum(y) - y. Sparse probabilities use l = log(q).
    std::vector<double> logits(classes);
    for (int64_t j = 0; j < classes; ++j)
      logits[j] = options.fromLogits ? p[j] : approximated(std::log(clip(p[j])));
    double top = *std::max_element(logits.begin(), logits.end()), sum = 0;
    for (double l : logits)
      accumulate(sum, approximated(std::exp(l - top)));
    double logSum = top + approximated(std::log(sum));
    for (int64_t j = 0; j < classes; ++j) {
      total -= y[j] * (logits[j] - logSum);
      if (!grad)
        continue;
      double dLogit = approximated(std::exp(logits[j] - logSum)) * ySum - y[j];
      // d(log q)/dp = 1 / q inside the clip range, 0 outside.
      grad[j] = options.fromLogits ? dLogit
                                   : (insideClip(p[j]) ? dLogit / clip(p[j]) : 0.0);
    }
    return total;
  }
  // Categorical on probabilities: r = p / s, q = clip(r), L = -sum(y log q).
  // dL/dr_j = -y_j / q_j inside the clip range, and through the sum
  // dL/dp_k = (dL/dr_k - sum_j dL/dr_j r_j) / s.
  double s = 0;
  for (int64_t j = 0; j < classes; ++j)
    accumulate(s, p[j]);
  double dot = 0;
  std::vector<double> dr(classes);
  for (int64_t j = 0; j < classes; ++j) {
    double r = p[j] / s;
    total -= y[j] * approximated(std::log(clip(r)));
    dr[j] = insideClip(r) ? -y[j] / clip(r) : 0.0;
    accumulate(dot, dr[j] * r);
  }
  if (grad)
    for (int64_t j = 0; j < classes; ++j)
      grad[j] = (dr[j] - dot) / s;
  return total;
}

/// Evaluates the mean loss and, when |grad| is non-null, fills it.
double evaluateLoss(const RefTensor &prediction, const RefTensor &labels,
                    const LossOptions &options, RefTensor *grad) {
  int64_t classes = prediction.dim(-1), rows = prediction.size() / classes;
  if (grad)
    *grad = RefTensor(prediction.shape);
  std::vector<double> y;
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    rowLabels(labels, options, r, classes, y);
    accumulate(total, rowLoss(prediction.data.data() + r * classes, y, options,
                     grad ? grad->data.data() + r * classes : nullptr));
  }
  // Every row contributes one per-example loss (the binary and mse losses
  // already averaged theirs over the last axis).
  if (grad)
    for (double &g : grad->data)
      g /= double(rows);
  return total / double(rows);
}
} // namespace

std::string classIdError(const RefTensor &prediction, const RefTensor &labels,
                         const LossOptions &options) {
  if (options.kind != LossKind::SparseCategoricalCrossentropy)
    return "";
  int64_t classes = prediction.dim(-1);
  for (int64_t r = 0; r < labels.size(); ++r) {
    double id = labels[r];
    if (!(id >= 0 && id < double(classes) && id == std::floor(id)))
      return "class id " + std::to_string(int64_t(id)) + " in row " + std::to_string(r) +
             " is outside [0, " + std::to_string(classes) + ")";
  }
  return "";
}

double loss(const RefTensor &prediction, const RefTensor &labels, const LossOptions &options) {
  return evaluateLoss(prediction, labels, options, nullptr);
}

namespace {
/// The mean over each example's positions of |rowValue|(row), for
/// predictions [N, positions..., classes] (one row per position).
RefTensor meanPerExample(const RefTensor &prediction, const std::function<double(int64_t)> &rowValue) {
  int64_t examples = prediction.dim(0), classes = prediction.dim(-1);
  int64_t positions = examples && classes ? prediction.size() / classes / examples : 0;
  RefTensor out(std::vector<int64_t>{examples});
  for (int64_t e = 0; e < examples; ++e) {
    double sum = 0;
    for (int64_t r = e * positions; r < (e + 1) * positions; ++r)
      accumulate(sum, rowValue(r));
    out[e] = sum / double(positions);
  }
  return out;
}
} // namespace

RefTensor exampleLosses(const RefTensor &prediction, const RefTensor &labels,
                        const LossOptions &options) {
  int64_t classes = prediction.dim(-1);
  std::vector<double> y;
  return meanPerExample(prediction, [&](int64_t r) {
    rowLabels(labels, options, r, classes, y);
    return rowLoss(prediction.data.data() + r * classes, y, options, nullptr);
  });
}

RefTensor metricScores(const RefTensor &prediction, const RefTensor &labels, const std::string &rule,
                       int64_t k, double threshold) {
  int64_t classes = prediction.dim(-1);
  return meanPerExample(prediction, [&](int64_t r) -> double {
    const double *p = prediction.data.data() + r * classes;
    if (rule == "binary") {
      double right = 0;
      for (int64_t j = 0; j < classes; ++j)
        right += double(p[j] > threshold) == labels[r * classes + j] ? 1 : 0;
      return right / double(classes);
    }
    // The label's class: the id, or the first maximum of a one-hot row.
    int64_t label = 0;
    if (labels.integer) {
      label = int64_t(labels[r]);
    } else {
      for (int64_t j = 1; j < classes; ++j)
        if (labels[r * classes + j] > labels[r * classes + label])
          label = j;
    }
    if (label < 0 || label >= classes || !std::isfinite(p[label]))
      return 0;
    // tf.math.in_top_k: fewer than k predictions strictly greater; k = 1
    // is Keras' accuracy, whose argmax takes the first of equal maxima.
    int64_t greater = 0;
    for (int64_t j = 0; j < classes; ++j)
      greater += p[j] > p[label] || (k == 1 && j < label && p[j] == p[label]);
    return greater < k ? 1 : 0;
  });
}

RefTensor lossGrad(const RefTensor &prediction, const RefTensor &labels,
                   const LossOptions &options) {
  RefTensor grad;
  evaluateLoss(prediction, labels, options, &grad);
  return grad;
}

} // namespace dlc::ref
