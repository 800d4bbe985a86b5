//===- GradConvPool.cpp - Backward of convolution, pooling, dense, bias ---===//
//
// Each function mirrors the loops of its forward kernel in ConvPool.cpp or
// Kernels.cpp and accumulates into the input it differentiates instead of
// the output, so that window placement (TF `same` padding, dilation, ragged
// edges) is shared by construction with windowAxis().
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/GradKernels.h"
#include "compiler/Reference/RoundingProbe.h"

#include <limits>

namespace dlc::ref {

RefTensor conv2dGradInput(const RefTensor &dy, const RefTensor &kernel, Pair inputSize,
                          Pair strides, bool same, Pair dilation) {
  ConvGeometry geometry(dy.dim(0), inputSize[0], inputSize[1], kernel.dim(2), kernel.dim(0),
                        kernel.dim(1), kernel.dim(3), strides, same, dilation);
  RefTensor dx({geometry.n, geometry.h, geometry.w, geometry.c});
  geometry.forEachTap(
      [&](int64_t out, int64_t in, int64_t k) { accumulate(dx[in], dy[out] * kernel[k]); });
  return dx;
}

RefTensor conv2dGradKernel(const RefTensor &x, const RefTensor &dy, Pair kernelSize,
                           Pair strides, bool same, Pair dilation) {
  ConvGeometry geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernelSize[0], kernelSize[1],
                        dy.dim(3), strides, same, dilation);
  RefTensor dk({geometry.kh, geometry.kw, geometry.c, geometry.f});
  geometry.forEachTap(
      [&](int64_t out, int64_t in, int64_t k) { accumulate(dk[k], dy[out] * x[in]); });
  return dk;
}

RefTensor biasGrad(const RefTensor &dy) {
  int64_t width = dy.dim(-1), rows = dy.size() / width;
  RefTensor db({width});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < width; ++u)
      accumulate(db[u], dy[r * width + u]);
  return db;
}

RefTensor denseGradInput(const RefTensor &dy, const RefTensor &kernel) {
  int64_t in = kernel.dim(0), units = kernel.dim(1), rows = dy.size() / units;
  std::vector<int64_t> shape = dy.shape;
  shape.back() = in;
  RefTensor dx(shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i) {
      double sum = 0;
      for (int64_t u = 0; u < units; ++u)
        accumulate(sum, dy[r * units + u] * kernel[i * units + u]);
      dx[r * in + i] = sum;
    }
  return dx;
}

RefTensor denseGradKernel(const RefTensor &x, const RefTensor &dy) {
  int64_t in = x.dim(-1), units = dy.dim(-1), rows = x.size() / in;
  RefTensor dk({in, units});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t u = 0; u < units; ++u)
        accumulate(dk[i * units + u], x[r * in + i] * dy[r * units + u]);
  return dk;
}

namespace {
/// Calls |visit|(window's output index, input indices of its real elements)
/// for every window of a 2-D pooling, in the forward kernel's order.
template <typename Visit>
void forEachWindow(const std::vector<int64_t> &inputShape, Pair window, Pair strides, bool same,
                   Visit visit) {
  int64_t n = inputShape[0], h = inputShape[1], w = inputShape[2], c = inputShape[3];
  WindowAxis ay = windowAxis(h, window[0], strides[0], 1, same);
  WindowAxis ax = windowAxis(w, window[1], strides[1], 1, same);
  std::vector<int64_t> members;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < ay.out; ++oy)
      for (int64_t ox = 0; ox < ax.out; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          members.clear();
          for (int64_t ky = 0; ky < window[0]; ++ky) {
            int64_t iy = oy * strides[0] + ky - ay.padBefore;
            for (int64_t kx = 0; kx < window[1]; ++kx) {
              int64_t ix = ox * strides[1] + kx - ax.padBefore;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                members.push_back(((b * h + iy) * w + ix) * c + ch);
            }
          }
          visit(((b * ay.out + oy) * ax.out + ox) * c + ch, members);
        }
}

/// The first member holding the largest value (strict > keeps the first).
int64_t firstMax(const RefTensor &x, const std::vector<int64_t> &members) {
  int64_t best = -1;
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t at : members)
    if (best < 0 || x[at] > top) {
      best = at;
      top = x[at];
    }
  return best;
}
} // namespace

RefTensor maxPool2dGrad(const RefTensor &x, const RefTensor &dy, Pair window, Pair strides,
                        bool same) {
  RefTensor dx(x.shape);
  forEachWindow(x.shape, window, strides, same,
                [&](int64_t out, const std::vector<int64_t> &members) {
                  if (!members.empty())
                    accumulate(dx[firstMax(x, members)], dy[out]);
                });
  return dx;
}

RefTensor avgPool2dGrad(const RefTensor &dy, Pair inputSize, Pair window, Pair strides,
                        bool same) {
  RefTensor dx({dy.dim(0), inputSize[0], inputSize[1], dy.dim(3)});
  forEachWindow(dx.shape, window, strides, same,
                [&](int64_t out, const std::vector<int64_t> &members) {
                  for (int64_t at : members)
                    accumulate(dx[at], dy[out] / double(members.size()));
                });
  return dx;
}

RefTensor globalMaxPool2dGrad(const RefTensor &x, const RefTensor &dy) {
  int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
  RefTensor dx(x.shape);
  std::vector<int64_t> members(hw);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < hw; ++p)
        members[p] = (b * hw + p) * c + ch;
      if (hw > 0)
        accumulate(dx[firstMax(x, members)], dy[b * c + ch]);
    }
  return dx;
}

RefTensor globalAvgPool2dGrad(const RefTensor &dy, Pair inputSize) {
  int64_t n = dy.dim(0), c = dy.dim(1), hw = inputSize[0] * inputSize[1];
  RefTensor dx({n, inputSize[0], inputSize[1], c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t ch = 0; ch < c; ++ch)
        dx[(b * hw + p) * c + ch] = dy[b * c + ch] / double(hw);
  return dx;
}

} // namespace dlc::ref
