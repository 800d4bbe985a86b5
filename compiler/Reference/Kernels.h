//===- Kernels.h - Forward computations of the dl ops in float64 ---------===//
//
// Plain loops that say what each op computes, with Keras' semantics (NHWC,
// TF-style `same` padding, average pooling over real elements only, LSTM gates
// i, f, c, o). They are the oracle every backend is compared with, so they
// favour obviousness over speed. Inputs are assumed verified by the dialect.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include <array>
#include <map>
#include <optional>
#include <string>

namespace dlc::ref {

using Pair = std::array<int64_t, 2>;

/// Leading padding and output size of one spatial axis (TF's rule for `same`).
struct WindowAxis {
  int64_t out, padBefore;
};
WindowAxis windowAxis(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same);

/// Where every multiply of a 2-D convolution reads and writes: the forward
/// pass and both gradients visit the same taps, so window placement (TF
/// `same` padding, dilation, ragged edges) cannot drift between them.
struct ConvGeometry {
  int64_t n, h, w, c, kh, kw, f;
  Pair strides, dilation;
  WindowAxis ay, ax;

  ConvGeometry(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t f,
               Pair strides, bool same, Pair dilation)
      : n(n), h(h), w(w), c(c), kh(kh), kw(kw), f(f), strides(strides), dilation(dilation),
        ay(windowAxis(h, kh, strides[0], dilation[0], same)),
        ax(windowAxis(w, kw, strides[1], dilation[1], same)) {}

  std::vector<int64_t> outputShape() const { return {n, ay.out, ax.out, f}; }

  /// Calls visit(output, input, kernel) with flat indices into the NHWC
  /// output, the NHWC input and the [kh, kw, c, f] kernel, for every tap that
  /// falls inside the input.
  template <typename Visit>
  void forEachTap(Visit visit) const {
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < ay.out; ++oy)
        for (int64_t ox = 0; ox < ax.out; ++ox)
          for (int64_t o = 0; o < f; ++o) {
            int64_t output = ((b * ay.out + oy) * ax.out + ox) * f + o;
            for (int64_t ky = 0; ky < kh; ++ky) {
              int64_t iy = oy * strides[0] + ky * dilation[0] - ay.padBefore;
              if (iy < 0 || iy >= h)
                continue;
              for (int64_t kx = 0; kx < kw; ++kx) {
                int64_t ix = ox * strides[1] + kx * dilation[1] - ax.padBefore;
                if (ix < 0 || ix >= w)
                  continue;
                for (int64_t i = 0; i < c; ++i)
                  visit(output, ((b * h + iy) * w + ix) * c + i, ((ky * kw + kx) * c + i) * f + o);
              }
            }
          }
  }
};

RefTensor conv2d(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias, Pair strides,
                 bool same, Pair dilation);
RefTensor maxPool2d(const RefTensor &x, Pair window, Pair strides, bool same);
RefTensor avgPool2d(const RefTensor &x, Pair window, Pair strides, bool same);
RefTensor globalMaxPool2d(const RefTensor &x);
RefTensor globalAvgPool2d(const RefTensor &x);
RefTensor dense(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias);
RefTensor reshape(const RefTensor &x, std::vector<int64_t> shape);

/// A data transform of dl.augment: its kind, options and position in the
/// data section.
struct AugmentSpec {
  std::string kind;
  std::map<std::string, std::vector<double>> numbers; // a number is a list of one
  std::map<std::string, std::string> words;
  int64_t position = 0;
  double number(const std::string &name, double fallback) const;
};
/// |x| [N, ...] with the transform applied to each example as training does
/// (runtime/data/transforms.h), its draws keyed by |ids| [N] and |seed|
/// (seed, epoch).
RefTensor augment(const RefTensor &x, const RefTensor &ids, const RefTensor &seed, const AugmentSpec &spec);

/// Inverted dropout: keeps an element when uniform01(seed, stream, i) >= rate
/// and scales it by 1 / (1 - rate).
RefTensor dropout(const RefTensor &x, double rate, uint64_t seed, uint64_t stream);

/// Normalizes along every axis but |axis|; |gamma| and |beta| may be null.
RefTensor batchNormInference(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                             const RefTensor &mean, const RefTensor &variance, int64_t axis,
                             double epsilon);
/// Training mode: batch statistics (biased variance); |batchMean| and
/// |batchVariance| receive them for the moving-average update.
RefTensor batchNormTraining(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                            int64_t axis, double epsilon, RefTensor *batchMean,
                            RefTensor *batchVariance);

/// Rows of |table| by id; an id outside [0, rows) is reported in |error|.
RefTensor embedding(const RefTensor &ids, const RefTensor &table, std::string *error);
RefTensor lstm(const RefTensor &x, const RefTensor &kernel, const RefTensor &recurrent,
               const RefTensor *bias, bool returnSequences);

enum class Unary { Relu, Sigmoid, Tanh, Gelu, GeluTanh, LeakyRelu };
RefTensor unary(const RefTensor &x, Unary kind, double slope = 0.0);
RefTensor softmax(const RefTensor &x, int64_t axis);
RefTensor logSoftmax(const RefTensor &x, int64_t axis);
RefTensor add(const std::vector<const RefTensor *> &inputs);
RefTensor concat(const std::vector<const RefTensor *> &inputs, int64_t axis);

} // namespace dlc::ref
