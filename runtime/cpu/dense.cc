//===- dense.cc - Dense layers and their gradients on the CPU -------------===//
#include "runtime/cpu/dense.h"

#include "runtime/cpu/gemm.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <omp.h>

namespace dlc::rt::cpu {

namespace {

/// Below this many elements an OpenMP fork costs more than the loop.
constexpr int64_t kParallelGrain = 1 << 15;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Status checkF32(const TensorView &t, const char *name, int minRank) {
  if (t.dtype != DType::kF32)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(name) + " must be f32, not " + dtypeName(t.dtype));
  if (int(t.shape.size()) < minRank)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(name) + " must have rank >= " + std::to_string(minRank) +
                               ", got " + shapeString(t.shape));
  for (int64_t d : t.shape)
    if (d < 0)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             std::string(name) + " has a negative dimension " + shapeString(t.shape));
  if (!t.data && t.numel() > 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, std::string(name) + " has no data");
  return okStatus();
}

/// |b| must be |a| with its last dimension replaced by |last|.
Status checkRowsMatch(const TensorView &a, const char *aName, const TensorView &b,
                      const char *bName, int64_t last) {
  std::vector<int64_t> want = a.shape;
  want.back() = last;
  if (b.shape != want)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(bName) + " must be " + shapeString(want) + " for " +
                               aName + " " + shapeString(a.shape) + ", got " +
                               shapeString(b.shape));
  return okStatus();
}

/// One pass over y[rows, width]: y = act(y + bias). The switch is hoisted so
/// that relu and the plain bias add vectorise.
void biasActivation(float *y, int64_t rows, int64_t width, const float *bias, Epilogue e) {
  if (!bias && e.activation == Activation::kNone)
    return;
  bool parallel = rows * width >= kParallelGrain;
  auto run = [&](auto act) {
#pragma omp parallel for if (parallel) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float *row = y + r * width;
      if (bias) {
#pragma omp simd
        for (int64_t u = 0; u < width; ++u)
          row[u] = act(row[u] + bias[u]);
      } else {
#pragma omp simd
        for (int64_t u = 0; u < width; ++u)
          row[u] = act(row[u]);
      }
    }
  };
  float slope = e.slope;
  using A = Activation;
  switch (e.activation) {
  case A::kNone: run([](float v) { return v; }); break;
  case A::kRelu: run([](float v) { return activate(A::kRelu, v, 0.0f); }); break;
  case A::kSigmoid: run([](float v) { return activate(A::kSigmoid, v, 0.0f); }); break;
  case A::kTanh: run([](float v) { return activate(A::kTanh, v, 0.0f); }); break;
  case A::kGelu: run([](float v) { return activate(A::kGelu, v, 0.0f); }); break;
  case A::kGeluTanh: run([](float v) { return activate(A::kGeluTanh, v, 0.0f); }); break;
  case A::kLeakyRelu: run([slope](float v) { return activate(A::kLeakyRelu, v, slope); }); break;
  }
}

} // namespace

Status checkView(const TensorView &t, const std::vector<int64_t> &want, const char *what) {
  if (t.dtype != DType::kF32)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(what) + " must be f32, not " + dtypeName(t.dtype));
  if (t.shape != want)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(what) + " must be " + shapeString(want) + ", got " +
                               shapeString(t.shape));
  if (!t.data && t.numel() > 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, std::string(what) + " has no data");
  return okStatus();
}

void applyActivation(float *data, int64_t n, Epilogue epilogue) {
  // As rows of a fixed width, so that the row loop spreads over threads.
  constexpr int64_t kWidth = 4096;
  biasActivation(data, n / kWidth, kWidth, nullptr, epilogue);
  if (n % kWidth)
    biasActivation(data + n / kWidth * kWidth, 1, n % kWidth, nullptr, epilogue);
}

Status denseForward(const TensorView &x, const TensorView &kernel, const TensorView *bias,
                    Epilogue epilogue, const TensorView &y) {
  DLC_RETURN_IF_ERROR(checkF32(x, "dense input", 1), "dense");
  DLC_RETURN_IF_ERROR(checkF32(kernel, "dense kernel", 2), "dense");
  DLC_RETURN_IF_ERROR(checkF32(y, "dense output", 1), "dense");
  if (kernel.shape.size() != 2 || kernel.shape[0] != x.shape.back())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "dense: kernel " + shapeString(kernel.shape) +
                               " does not match input " + shapeString(x.shape));
  int64_t in = kernel.shape[0], units = kernel.shape[1];
  int64_t rows = numElements(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
  DLC_RETURN_IF_ERROR(checkRowsMatch(x, "input", y, "output", units), "dense");
  if (bias) {
    DLC_RETURN_IF_ERROR(checkF32(*bias, "dense bias", 1), "dense");
    if (bias->shape != std::vector<int64_t>{units})
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "dense: bias must be [" + std::to_string(units) + "], got " +
                                 shapeString(bias->shape));
  }
  if (y.data == x.data && y.numel() > 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "dense: output aliases the input");
  sgemm(false, false, rows, units, in, 1.0f, x.f32(), in, kernel.f32(), units, 0.0f, y.f32(),
        units);
  biasActivation(y.f32(), rows, units, bias ? bias->f32() : nullptr, epilogue);
  return okStatus();
}

Status denseGradInput(const TensorView &dy, const TensorView &kernel, const TensorView &dx) {
  DLC_RETURN_IF_ERROR(checkF32(dy, "output gradient", 1), "dense grad input");
  DLC_RETURN_IF_ERROR(checkF32(kernel, "kernel", 2), "dense grad input");
  DLC_RETURN_IF_ERROR(checkF32(dx, "input gradient", 1), "dense grad input");
  if (kernel.shape.size() != 2 || kernel.shape[1] != dy.shape.back())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "dense grad input: kernel " + shapeString(kernel.shape) +
                               " does not match output gradient " + shapeString(dy.shape));
  int64_t in = kernel.shape[0], units = kernel.shape[1];
  DLC_RETURN_IF_ERROR(checkRowsMatch(dy, "output gradient", dx, "input gradient", in),
                      "dense grad input");
  int64_t rows = numElements(std::vector<int64_t>(dy.shape.begin(), dy.shape.end() - 1));
  sgemm(false, true, rows, in, units, 1.0f, dy.f32(), units, kernel.f32(), units, 0.0f,
        dx.f32(), in);
  return okStatus();
}

Status denseGradKernel(const TensorView &x, const TensorView &dy, const TensorView &dkernel) {
  DLC_RETURN_IF_ERROR(checkF32(x, "input", 1), "dense grad kernel");
  DLC_RETURN_IF_ERROR(checkF32(dy, "output gradient", 1), "dense grad kernel");
  DLC_RETURN_IF_ERROR(checkF32(dkernel, "kernel gradient", 2), "dense grad kernel");
  int64_t in = x.shape.back(), units = dy.shape.back();
  DLC_RETURN_IF_ERROR(checkRowsMatch(x, "input", dy, "output gradient", units),
                      "dense grad kernel");
  if (dkernel.shape != std::vector<int64_t>{in, units})
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "dense grad kernel: kernel gradient must be [" + std::to_string(in) +
                               ", " + std::to_string(units) + "], got " +
                               shapeString(dkernel.shape));
  int64_t rows = numElements(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
  sgemm(true, false, in, units, rows, 1.0f, x.f32(), in, dy.f32(), units, 0.0f, dkernel.f32(),
        units);
  return okStatus();
}

Status biasGrad(const TensorView &dy, const TensorView &db) {
  DLC_RETURN_IF_ERROR(checkF32(dy, "output gradient", 1), "bias grad");
  DLC_RETURN_IF_ERROR(checkF32(db, "bias gradient", 1), "bias grad");
  int64_t width = dy.shape.back();
  if (db.shape != std::vector<int64_t>{width})
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "bias grad: bias gradient must be [" + std::to_string(width) +
                               "], got " + shapeString(db.shape));
  int64_t rows = numElements(std::vector<int64_t>(dy.shape.begin(), dy.shape.end() - 1));
  const float *g = dy.f32();
  float *out = db.f32();
  // Per-thread partial sums in double: conv bias gradients sum ~1e5 rows,
  // where float accumulation would drift past the 1e-4 budget.
  int threads = rows * width >= kParallelGrain ? omp_get_max_threads() : 1;
  std::unique_ptr<double[]> partial(new (std::nothrow) double[size_t(threads) * size_t(width)]());
  if (!partial)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "bias grad: out of memory");
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double *acc = partial.get() + size_t(t) * size_t(width);
    int64_t begin = rows * t / nt, end = rows * (t + 1) / nt;
    for (int64_t r = begin; r < end; ++r) {
      const float *row = g + r * width;
#pragma omp simd
      for (int64_t u = 0; u < width; ++u)
        acc[u] += row[u];
    }
  }
  for (int64_t u = 0; u < width; ++u) {
    double sum = 0;
    for (int t = 0; t < threads; ++t)
      sum += partial[size_t(t) * size_t(width) + size_t(u)];
    out[u] = float(sum);
  }
  return okStatus();
}

} // namespace dlc::rt::cpu
