//===- Kernels.cpp - Dense, normalization, activations and merges --------===//
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/RoundingProbe.h"
#include "runtime/counter_rng.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dlc::ref {

RefTensor dense(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias) {
  int64_t in = kernel.dim(0), units = kernel.dim(1);
  int64_t rows = numElements(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
  std::vector<int64_t> shape = x.shape;
  shape.back() = units;
  RefTensor y(shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double sum = bias ? (*bias)[u] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        accumulate(sum, x[r * in + i] * kernel[i * units + u]);
      y[r * units + u] = sum;
    }
  return y;
}

RefTensor reshape(const RefTensor &x, std::vector<int64_t> shape) {
  RefTensor y = x;
  y.shape = std::move(shape);
  return y;
}

RefTensor dropout(const RefTensor &x, double rate, uint64_t seed, uint64_t stream) {
  RefTensor y = x;
  double scale = 1.0 / (1.0 - rate);
  for (int64_t i = 0; i < y.size(); ++i)
    y[i] = rt::uniform01(seed, stream, uint64_t(i)) >= rate ? x[i] * scale : 0.0;
  return y;
}

namespace {

RefTensor normalize(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                    const std::vector<double> &mean, const std::vector<double> &variance,
                    int64_t axis, double epsilon) {
  AxisSplit split(x, axis);
  RefTensor y(x.shape);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t c = 0; c < split.channels; ++c) {
      double scale = (gamma ? (*gamma)[c] : 1.0) / std::sqrt(variance[c] + epsilon);
      double shift = beta ? (*beta)[c] : 0.0;
      for (int64_t i = 0; i < split.inner; ++i) {
        int64_t at = split.index(o, c, i);
        y[at] = (x[at] - mean[c]) * scale + shift;
      }
    }
  return y;
}
} // namespace

RefTensor batchNormInference(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                             const RefTensor &mean, const RefTensor &variance, int64_t axis,
                             double epsilon) {
  return normalize(x, gamma, beta, mean.data, variance.data, axis, epsilon);
}

RefTensor batchNormTraining(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                            int64_t axis, double epsilon, RefTensor *batchMean,
                            RefTensor *batchVariance) {
  AxisSplit split(x, axis);
  double count = double(split.outer * split.inner);
  std::vector<double> mean(split.channels, 0.0), variance(split.channels, 0.0);
  for (int64_t c = 0; c < split.channels; ++c) {
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i)
        accumulate(mean[c], x[split.index(o, c, i)]);
    mean[c] /= count;
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i) {
        double d = x[split.index(o, c, i)] - mean[c];
        accumulate(variance[c], d * d);
      }
    variance[c] /= count;
  }
  if (batchMean) {
    *batchMean = RefTensor({split.channels});
    batchMean->data = mean;
  }
  if (batchVariance) {
    *batchVariance = RefTensor({split.channels});
    batchVariance->data = variance;
  }
  return normalize(x, gamma, beta, mean, variance, axis, epsilon);
}

RefTensor embedding(const RefTensor &ids, const RefTensor &table, std::string *error) {
  int64_t rows = table.dim(0), width = table.dim(1);
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(width);
  RefTensor y(shape);
  for (int64_t i = 0; i < ids.size(); ++i) {
    double id = ids[i];
    if (!(id >= 0 && id < double(rows)) || id != std::floor(id)) {
      if (error)
        *error = "embedding id " + std::to_string(int64_t(id)) + " at position " +
                 std::to_string(i) + " is outside [0, " + std::to_string(rows) + ")";
      return y;
    }
    std::copy_n(table.data.begin() + int64_t(id) * width, width, y.data.begin() + i * width);
  }
  return y;
}

RefTensor unary(const RefTensor &x, Unary kind, double slope) {
  RefTensor y(x.shape);
  for (int64_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    switch (kind) {
    case Unary::Relu: y[i] = v > 0 ? v : 0.0; break;
    case Unary::Sigmoid: y[i] = approximated(1.0 / (1.0 + std::exp(-v))); break;
    case Unary::Tanh: y[i] = approximated(std::tanh(v)); break;
    case Unary::Gelu: y[i] = approximated(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))); break;
    case Unary::GeluTanh:
      y[i] = approximated(
          0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
      break;
    case Unary::LeakyRelu: y[i] = v > 0 ? v : slope * v; break;
    }
  }
  return y;
}

namespace {
/// log(sum(exp(x))) along |axis| for each (outer, inner), shifted by the max
/// so that large logits do not overflow.
template <typename Emit>
RefTensor alongAxis(const RefTensor &x, int64_t axis, Emit emit) {
  AxisSplit split(x, axis);
  RefTensor y(x.shape);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t i = 0; i < split.inner; ++i) {
      double top = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < split.channels; ++c)
        top = std::max(top, x[split.index(o, c, i)]);
      double sum = 0;
      for (int64_t c = 0; c < split.channels; ++c)
        accumulate(sum, approximated(std::exp(x[split.index(o, c, i)] - top)));
      double logSum = top + approximated(std::log(sum));
      for (int64_t c = 0; c < split.channels; ++c) {
        int64_t at = split.index(o, c, i);
        y[at] = emit(x[at], logSum);
      }
    }
  return y;
}
} // namespace

RefTensor softmax(const RefTensor &x, int64_t axis) {
  return alongAxis(x, axis,
                   [](double v, double logSum) { return approximated(std::exp(v - logSum)); });
}

RefTensor logSoftmax(const RefTensor &x, int64_t axis) {
  return alongAxis(x, axis, [](double v, double logSum) { return v - logSum; });
}

RefTensor add(const std::vector<const RefTensor *> &inputs) {
  RefTensor y = *inputs.front();
  for (size_t k = 1; k < inputs.size(); ++k)
    for (int64_t i = 0; i < y.size(); ++i)
      accumulate(y[i], (*inputs[k])[i]);
  return y;
}

RefTensor concat(const std::vector<const RefTensor *> &inputs, int64_t axis) {
  const RefTensor &first = *inputs.front();
  int64_t normalized = axis < 0 ? axis + first.rank() : axis;
  std::vector<int64_t> shape = first.shape;
  shape[normalized] = 0;
  for (const RefTensor *input : inputs)
    shape[normalized] += input->shape[normalized];
  RefTensor y(shape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < normalized; ++i)
    outer *= shape[i];
  for (int64_t i = normalized + 1; i < int64_t(shape.size()); ++i)
    inner *= shape[i];
  int64_t offset = 0;
  for (const RefTensor *input : inputs) {
    int64_t width = input->shape[normalized] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(input->data.begin() + o * width, width,
                  y.data.begin() + o * shape[normalized] * inner + offset);
    offset += width;
  }
  return y;
}

} // namespace dlc::ref
