//===- ConvPool.cpp - Convolution and pooling in float64 ------------------===//
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/RoundingProbe.h"

#include <algorithm>
#include <limits>

namespace dlc::ref {

WindowAxis windowAxis(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same) {
  int64_t effective = dilation * (window - 1) + 1;
  if (!same)
    return {(in - effective) / stride + 1, 0};
  int64_t out = (in + stride - 1) / stride;
  int64_t padTotal = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  return {out, padTotal / 2}; // TF puts the odd element after
}

RefTensor conv2d(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias, Pair strides,
                 bool same, Pair dilation) {
  ConvGeometry geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel.dim(0), kernel.dim(1),
                        kernel.dim(3), strides, same, dilation);
  RefTensor y(geometry.outputShape());
  if (bias)
    for (int64_t i = 0; i < y.size(); ++i)
      y[i] = (*bias)[i % geometry.f];
  geometry.forEachTap(
      [&](int64_t out, int64_t in, int64_t k) { accumulate(y[out], x[in] * kernel[k]); });
  return y;
}

namespace {
/// Reduces every window with |reduce|(values in the window, count); padded
/// positions are not part of a window.
template <typename Reduce>
RefTensor pool2d(const RefTensor &x, Pair window, Pair strides, bool same, Reduce reduce) {
  int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  WindowAxis ay = windowAxis(h, window[0], strides[0], 1, same);
  WindowAxis ax = windowAxis(w, window[1], strides[1], 1, same);
  RefTensor y({n, ay.out, ax.out, c});
  std::vector<double> values;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < ay.out; ++oy)
      for (int64_t ox = 0; ox < ax.out; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          values.clear();
          for (int64_t ky = 0; ky < window[0]; ++ky) {
            int64_t iy = oy * strides[0] + ky - ay.padBefore;
            for (int64_t kx = 0; kx < window[1]; ++kx) {
              int64_t ix = ox * strides[1] + kx - ax.padBefore;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                values.push_back(x[((b * h + iy) * w + ix) * c + ch]);
            }
          }
          y[((b * ay.out + oy) * ax.out + ox) * c + ch] = reduce(values);
        }
  return y;
}

double maxOf(const std::vector<double> &values) {
  double best = -std::numeric_limits<double>::infinity();
  for (double v : values)
    best = std::max(best, v);
  return best;
}

double meanOf(const std::vector<double> &values) {
  double sum = 0;
  for (double v : values)
    accumulate(sum, v);
  return values.empty() ? 0.0 : sum / double(values.size());
}

template <typename Reduce>
RefTensor globalPool(const RefTensor &x, Reduce reduce) {
  int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
  RefTensor y({n, c});
  std::vector<double> values(hw);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < hw; ++p)
        values[p] = x[(b * hw + p) * c + ch];
      y[b * c + ch] = reduce(values);
    }
  return y;
}
} // namespace

RefTensor maxPool2d(const RefTensor &x, Pair window, Pair strides, bool same) {
  return pool2d(x, window, strides, same, maxOf);
}
RefTensor avgPool2d(const RefTensor &x, Pair window, Pair strides, bool same) {
  return pool2d(x, window, strides, same, meanOf);
}
RefTensor globalMaxPool2d(const RefTensor &x) { return globalPool(x, maxOf); }
RefTensor globalAvgPool2d(const RefTensor &x) { return globalPool(x, meanOf); }

} // namespace dlc::ref
