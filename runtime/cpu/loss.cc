//===- loss.cc - Keras losses and the trainer's accuracy counts -----------===//
//
// Each row's loss is a sum of per-class terms; the terms are formed so that
// float32 loses no precision where the reference's float64 would not: on
// logits, logsumexp - l_j is computed as (top - l_j) + log(sum), never as the
// difference of two large numbers.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/loss.h"

#include "runtime/class_ids.h"
#include "runtime/cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace dlc::rt::cpu {

namespace {
constexpr float kClipLow = 1e-7f, kClipHigh = 1.0f - 1e-7f; // keras.backend.epsilon()

float clip(float v) { return std::min(std::max(v, kClipLow), kClipHigh); }
/// The loss terms clip in double to the reference's bounds: 1 - 1e-7 is not a
/// float, and log(1 - q) at a saturated q is where the difference shows.
double clipDouble(double v) { return std::min(std::max(v, 1e-7), 1.0 - 1e-7); }
bool insideClip(float v) { return v >= kClipLow && v <= kClipHigh; }

/// Class id of row |r| of sparse labels (truncated like the reference).
int64_t labelId(const void *labels, DType type, int64_t r) {
  switch (type) {
  case DType::kI32: return static_cast<const int32_t *>(labels)[r];
  case DType::kI64: return static_cast<const int64_t *>(labels)[r];
  case DType::kF32: return int64_t(static_cast<const float *>(labels)[r]);
  default: return -1; // rejected by checkLabels
  }
}

/// Class ids may be i32, i64 or f32; every other label is f32.
Status checkLabels(DType type, bool ids, const char *what) {
  if (type == DType::kF32 || (ids && (type == DType::kI32 || type == DType::kI64)))
    return okStatus();
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         std::string(what) + (ids ? " must be i32, i64 or f32, got "
                                                  : " must be f32, got ") +
                             dtypeName(type));
}

/// The label row after smoothing: one-hot of a sparse id or a row of dense
/// labels, times (1 - ls), plus |floor|.
struct RowLabels {
  const float *dense = nullptr; // null: sparse
  int64_t id = -1;
  float keep = 1.0f, floor = 0.0f;

  float operator()(int64_t j) const {
    float raw = dense ? dense[j] : (j == id ? 1.0f : 0.0f);
    return raw * keep + floor;
  }
};

/// Softmax cross-entropy of logits: -sum(y * log_softmax(l)); its gradient
/// softmax(l) * sum(y) - y goes to |grad| (scaled), which first holds the
/// exponentials.
double logitsCrossEntropy(const float *l, int64_t c, const RowLabels &y, double ySum, bool sparse,
                          float *grad, float scale) {
  float top = l[0];
#pragma omp simd reduction(max : top)
  for (int64_t j = 0; j < c; ++j)
    top = std::max(top, l[j]);
  float sum = 0.0f;
  if (grad) {
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j) {
      grad[j] = expApprox(l[j] - top);
      sum += grad[j];
    }
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j)
      sum += expApprox(l[j] - top);
  }
  double logSum = std::log(double(sum));
  double total = 0.0;
  if (sparse && y.floor == 0.0f) {
    if (y.id >= 0 && y.id < c)
      total = double(top - l[y.id]) + logSum;
  } else {
    for (int64_t j = 0; j < c; ++j) {
      float t = y(j);
      if (t != 0.0f)
        total += double(t) * (double(top - l[j]) + logSum);
    }
  }
  if (grad) {
    float share = float(ySum) / sum;
    for (int64_t j = 0; j < c; ++j)
      grad[j] = (grad[j] * share - y(j)) * scale;
  }
  return total;
}

/// Sparse loss on probabilities: softmax cross-entropy of log(q), q = clip(p),
/// i.e. -sum(y * log(q / sum(q))), whose gradient is sum(y) / sum(q) - y / q
/// inside the clip range and 0 outside.
double sparseProbabilityCrossEntropy(const float *p, int64_t c, const RowLabels &y, double ySum,
                                     float *grad, float scale) {
  float qSum = 0.0f;
#pragma omp simd reduction(+ : qSum)
  for (int64_t j = 0; j < c; ++j)
    qSum += clip(p[j]);
  double logSum = std::log(double(qSum)), total = 0.0;
  for (int64_t j = 0; j < c; ++j) {
    float t = y(j);
    if (t != 0.0f)
      total += double(t) * (logSum - std::log(clipDouble(p[j])));
  }
  if (grad) {
    float share = float(ySum / double(qSum));
    for (int64_t j = 0; j < c; ++j)
      grad[j] = insideClip(p[j]) ? (share - y(j) / clip(p[j])) * scale : 0.0f;
  }
  return total;
}

/// Categorical on probabilities: r = p / sum(p), L = -sum(y log clip(r)).
/// With dr_j = -y_j / clip(r_j) inside the clip range (0 outside), the
/// renormalisation gives dL/dp_k = (dr_k - sum_j dr_j r_j) / sum(p).
double probabilityCrossEntropy(const float *p, int64_t c, const RowLabels &y, float *grad,
                               float scale) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < c; ++j)
    s += p[j];
  float invS = 1.0f / s;
  double total = 0.0, dot = 0.0;
  for (int64_t j = 0; j < c; ++j) {
    float t = y(j), r = p[j] * invS;
    if (t != 0.0f)
      total -= double(t) * std::log(clipDouble(r));
    float dr = insideClip(r) ? -t / clip(r) : 0.0f;
    dot += double(dr) * double(r);
    if (grad)
      grad[j] = dr;
  }
  if (grad) {
    float d = float(dot);
    for (int64_t j = 0; j < c; ++j)
      grad[j] = (grad[j] - d) * invS * scale;
  }
  return total;
}

/// Binary cross-entropy of a row, averaged over its |c| entries.
double binaryCrossEntropy(const float *p, int64_t c, const RowLabels &y, bool fromLogits,
                          float *grad, float scale) {
  double total = 0.0;
  float gradScale = scale / float(c);
  for (int64_t j = 0; j < c; ++j) {
    float z = p[j], t = y(j);
    if (fromLogits) {
      total += double(std::max(z, 0.0f) - z * t) + std::log1p(std::exp(-std::fabs(double(z))));
      if (grad)
        grad[j] = (sigmoidApprox(z) - t) * gradScale;
    } else {
      double qd = clipDouble(z);
      total -= double(t) * std::log(qd) + (1.0 - double(t)) * std::log(1.0 - qd);
      float q = clip(z);
      if (grad)
        grad[j] = insideClip(z) ? (-t / q + (1.0f - t) / (1.0f - q)) * gradScale : 0.0f;
    }
  }
  return total / double(c);
}

double meanSquaredError(const float *p, int64_t c, const float *y, float *grad, float scale) {
  double total = 0.0;
#pragma omp simd reduction(+ : total)
  for (int64_t j = 0; j < c; ++j) {
    float d = p[j] - y[j];
    total += double(d) * double(d);
  }
  if (grad) {
    float g = 2.0f * scale / float(c);
    for (int64_t j = 0; j < c; ++j)
      grad[j] = (p[j] - y[j]) * g;
  }
  return total / double(c);
}
} // namespace


Status loss(const float *prediction, const void *labels, DType labelType, int64_t rows,
            int64_t classes, const LossOptions &options, double *value, float *grad) {
  bool sparse = options.kind == LossKind::kSparseCategoricalCrossentropy;
  if (Status s = checkLabels(labelType, sparse, "loss labels"); !s.ok())
    return s;
  if (sparse)
    DLC_RETURN_IF_ERROR(checkClassIds(labels, labelType, rows, classes, "loss labels"), "");
  if (rows <= 0 || classes <= 0) {
    if (value)
      *value = 0.0; // the reference's 0 / 0 would be NaN; an empty batch has no loss
    return okStatus();
  }
  const LossKind kind = options.kind;
  const float ls = kind == LossKind::kMeanSquaredError ? 0.0f : float(options.labelSmoothing);
  const float floor = kind == LossKind::kBinaryCrossentropy ? 0.5f * ls : ls / float(classes);
  const float scale = float(1.0 / double(rows));
  const float *dense = static_cast<const float *>(labels);
  auto rowLoss = [&](int64_t r) -> double {
    const float *p = prediction + r * classes;
    float *g = grad ? grad + r * classes : nullptr;
    RowLabels y;
    y.keep = 1.0f - ls;
    y.floor = ls == 0.0f ? 0.0f : floor;
    if (sparse)
      y.id = labelId(labels, labelType, r);
    else
      y.dense = dense + r * classes;
    switch (kind) {
    case LossKind::kMeanSquaredError:
      return meanSquaredError(p, classes, y.dense, g, scale);
    case LossKind::kBinaryCrossentropy:
      return binaryCrossEntropy(p, classes, y, options.fromLogits, g, scale);
    case LossKind::kCategoricalCrossentropy:
    case LossKind::kSparseCategoricalCrossentropy:
      break;
    }
    double ySum = 0.0;
    if (sparse)
      ySum = (y.id >= 0 && y.id < classes ? double(y.keep) : 0.0) + double(y.floor) * classes;
    else
      for (int64_t j = 0; j < classes; ++j)
        ySum += y(j);
    if (options.fromLogits)
      return logitsCrossEntropy(p, classes, y, ySum, sparse, g, scale);
    if (sparse)
      return sparseProbabilityCrossEntropy(p, classes, y, ySum, g, scale);
    return probabilityCrossEntropy(p, classes, y, g, scale);
  };
  // Fixed row blocks summed in order: the loss has the same bits whatever
  // the thread count.
  constexpr int64_t kBlocks = 16;
  double partial[kBlocks] = {};
  const int64_t blocks = std::min(kBlocks, rows);
#pragma omp parallel for schedule(static) if (blocks > 1 && rows * classes >= 2 * kElementwiseGrain)
  for (int64_t b = 0; b < blocks; ++b) {
    double sum = 0.0;
    for (int64_t r = rows * b / blocks; r < rows * (b + 1) / blocks; ++r)
      sum += rowLoss(r);
    partial[b] = sum;
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b)
    total += partial[b];
  if (value)
    *value = total / double(rows);
  return okStatus();
}

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

namespace {
Status checkClassLabels(DType labelType, bool sparseLabels) {
  return checkLabels(labelType, sparseLabels, sparseLabels ? "class ids" : "one-hot labels");
}

int64_t firstMax(const float *row, int64_t classes) {
  int64_t best = 0;
  for (int64_t j = 1; j < classes; ++j)
    if (row[j] > row[best])
      best = j;
  return best;
}

int64_t targetClass(const void *labels, DType labelType, int64_t r, int64_t classes,
                    bool sparseLabels) {
  if (sparseLabels)
    return labelId(labels, labelType, r);
  return firstMax(static_cast<const float *>(labels) + r * classes, classes);
}
} // namespace

Status countTop1Correct(const float *prediction, const void *labels, DType labelType,
                        int64_t rows, int64_t classes, bool sparseLabels, int64_t *correct) {
  if (Status s = checkClassLabels(labelType, sparseLabels); !s.ok())
    return s;
  int64_t count = 0;
  if (classes > 0)
    for (int64_t r = 0; r < rows; ++r)
      count += firstMax(prediction + r * classes, classes) ==
               targetClass(labels, labelType, r, classes, sparseLabels);
  *correct = count;
  return okStatus();
}

Status countTopKCorrect(const float *prediction, const void *labels, DType labelType,
                        int64_t rows, int64_t classes, bool sparseLabels, int64_t k,
                        int64_t *correct) {
  if (Status s = checkClassLabels(labelType, sparseLabels); !s.ok())
    return s;
  if (k < 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "top-k accuracy needs k >= 1, got " + std::to_string(k));
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t target = targetClass(labels, labelType, r, classes, sparseLabels);
    if (target < 0 || target >= classes)
      continue;
    const float *row = prediction + r * classes;
    float mine = row[target];
    if (!std::isfinite(mine))
      continue;
    int64_t greater = 0;
    for (int64_t j = 0; j < classes; ++j)
      greater += row[j] > mine;
    count += greater < k;
  }
  *correct = count;
  return okStatus();
}

Status countBinaryCorrect(const float *prediction, const void *labels, DType labelType,
                          int64_t n, int64_t *correct, float threshold) {
  if (Status s = checkLabels(labelType, true, "binary labels"); !s.ok())
    return s;
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    float predicted = prediction[i] > threshold ? 1.0f : 0.0f;
    float label = labelType == DType::kF32   ? static_cast<const float *>(labels)[i]
                  : labelType == DType::kI32 ? float(static_cast<const int32_t *>(labels)[i])
                                             : float(static_cast<const int64_t *>(labels)[i]);
    count += predicted == label;
  }
  *correct = count;
  return okStatus();
}

} // namespace dlc::rt::cpu
