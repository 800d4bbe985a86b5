//===- pool.cc - 2-D pooling and its gradients on the CPU -----------------===//
//
// Every loop keeps channels innermost (NHWC makes them contiguous), so the
// per-window work is a vector max/add over C floats. Windows are clipped to
// the input instead of testing each tap, which is also what excludes
// padding from averages.
//
// The max-pool gradient recomputes each window's argmax from x rather than
// keeping a workspace: the tie-break must be the reference's (first strict
// maximum in row-major window order), and a workspace would cost a write of
// the output's size in every forward pass, needed or not.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/pool.h"

#include "runtime/cpu/dense.h"

#include "runtime/cpu/conv.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <omp.h>

namespace dlc::rt::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

/// Per-thread running maximum and its pixel for C channels, allocated before
/// the parallel region: an exception must not escape an OpenMP region, nor
/// the API, so allocation failure becomes a Status instead. Each thread's
/// slot starts on its own cache line (no false sharing in the hot loop).
struct ArgmaxScratch {
  static constexpr int64_t kLine = 16; // floats (or int32s) per cache line
  std::unique_ptr<float[]> best;
  std::unique_ptr<int32_t[]> where;
  int64_t stride = 0;

  bool allocate(int64_t C) {
    stride = (std::max<int64_t>(C, 1) + kLine - 1) / kLine * kLine;
    size_t n = size_t(omp_get_max_threads()) * size_t(stride) + size_t(kLine);
    best.reset(new (std::nothrow) float[n]);
    where.reset(new (std::nothrow) int32_t[n]);
    return best && where;
  }
  template <typename T>
  static T *lineAligned(T *p) {
    return reinterpret_cast<T *>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
  }
  float *bestOf(int thread) { return lineAligned(best.get()) + thread * stride; }
  int32_t *whereOf(int thread) { return lineAligned(where.get()) + thread * stride; }
};

Status outOfMemory(const char *what) {
  return DLC_MAKE_STATUS(StatusCode::kUnavailable, std::string(what) + ": out of memory");
}

Status checkGeometry(const PoolGeometry &g) {
  auto axisOk = [](int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pa, int64_t out) {
    return in > 0 && k > 0 && s > 0 && pb >= 0 && pa >= 0 && pb < k && out > 0 &&
           in + pb + pa >= k && (in + pb + pa - k) / s + 1 == out;
  };
  if (g.batch < 0 || g.channels < 0 ||
      !axisOk(g.inH, g.windowH, g.strideH, g.padTop, g.padBottom, g.outH) ||
      !axisOk(g.inW, g.windowW, g.strideW, g.padLeft, g.padRight, g.outW))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "pool2d: inconsistent geometry (use makePoolGeometry)");
  return okStatus();
}

std::vector<int64_t> inShape(const PoolGeometry &g) {
  return {g.batch, g.inH, g.inW, g.channels};
}
std::vector<int64_t> outShape(const PoolGeometry &g) {
  return {g.batch, g.outH, g.outW, g.channels};
}

/// The input rows [begin, end) of output row |o|, clipped to the input.
struct Span {
  int64_t begin, end;
};
inline Span rowsOf(int64_t o, int64_t stride, int64_t pad, int64_t window, int64_t in) {
  int64_t start = o * stride - pad;
  return {std::max<int64_t>(start, 0), std::min(start + window, in)};
}

/// Runs |body|(b, oy) over every output row: rows in parallel when windows
/// do not overlap vertically (each input row then belongs to one output
/// row), whole images in parallel otherwise, since a gradient scatters.
template <typename Body>
void forEachOutputRow(const PoolGeometry &g, bool scatters, Body body) {
  if (!scatters || g.strideH >= g.windowH) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < g.batch; ++b)
      for (int64_t oy = 0; oy < g.outH; ++oy)
        body(b, oy);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < g.batch; ++b)
      for (int64_t oy = 0; oy < g.outH; ++oy)
        body(b, oy);
  }
}

/// Zeroes the rows of image |b| of dx that the gradient of output row |oy|
/// owns: in row-parallel mode each task clears its own band just before
/// scattering into it (cache-hot); otherwise the first row clears the image.
void clearOwnedRows(const PoolGeometry &g, float *dx, int64_t b, int64_t oy) {
  int64_t rowFloats = g.inW * g.channels;
  float *image = dx + b * g.inH * rowFloats;
  if (g.strideH < g.windowH) {
    if (oy == 0)
      std::memset(image, 0, sizeof(float) * size_t(g.inH * rowFloats));
    return;
  }
  int64_t begin = oy == 0 ? 0 : std::clamp<int64_t>(oy * g.strideH - g.padTop, 0, g.inH);
  int64_t end = oy + 1 == g.outH ? g.inH
                                 : std::clamp<int64_t>((oy + 1) * g.strideH - g.padTop, 0, g.inH);
  if (end > begin)
    std::memset(image + begin * rowFloats, 0, sizeof(float) * size_t((end - begin) * rowFloats));
}

} // namespace

Status makePoolGeometry(int64_t batch, int64_t inH, int64_t inW, int64_t channels,
                        int64_t windowH, int64_t windowW, int64_t strideH, int64_t strideW,
                        bool same, PoolGeometry *geometry) {
  if (batch < 0 || channels < 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "pool2d: negative batch or channels");
  WindowPlacement y, x;
  DLC_RETURN_IF_ERROR(placeWindow(inH, windowH, strideH, 1, same, &y), "pool2d rows");
  DLC_RETURN_IF_ERROR(placeWindow(inW, windowW, strideW, 1, same, &x), "pool2d columns");
  PoolGeometry g;
  g.batch = batch, g.inH = inH, g.inW = inW, g.channels = channels;
  g.windowH = windowH, g.windowW = windowW, g.strideH = strideH, g.strideW = strideW;
  g.outH = y.out, g.outW = x.out;
  g.padTop = y.padBefore, g.padBottom = y.padAfter, g.padLeft = x.padBefore, g.padRight = x.padAfter;
  *geometry = g;
  return okStatus();
}

Status maxPool2d(const PoolGeometry &g, const TensorView &x, const TensorView &y) {
  DLC_RETURN_IF_ERROR(checkGeometry(g), "max_pool2d");
  DLC_RETURN_IF_ERROR(checkView(x, inShape(g), "input"), "max_pool2d");
  DLC_RETURN_IF_ERROR(checkView(y, outShape(g), "output"), "max_pool2d");
  const float *in = x.f32();
  float *out = y.f32();
  const int64_t C = g.channels;
  forEachOutputRow(g, false, [&](int64_t b, int64_t oy) {
    Span rows = rowsOf(oy, g.strideH, g.padTop, g.windowH, g.inH);
    for (int64_t ox = 0; ox < g.outW; ++ox) {
      Span cols = rowsOf(ox, g.strideW, g.padLeft, g.windowW, g.inW);
      float *o = out + ((b * g.outH + oy) * g.outW + ox) * C;
      std::fill(o, o + C, kNegInf);
      for (int64_t iy = rows.begin; iy < rows.end; ++iy)
        for (int64_t ix = cols.begin; ix < cols.end; ++ix) {
          const float *v = in + ((b * g.inH + iy) * g.inW + ix) * C;
          // The reference's std::max(best, v): NaN inputs are skipped.
#pragma omp simd
          for (int64_t c = 0; c < C; ++c)
            o[c] = o[c] < v[c] ? v[c] : o[c];
        }
    }
  });
  return okStatus();
}

Status avgPool2d(const PoolGeometry &g, const TensorView &x, const TensorView &y) {
  DLC_RETURN_IF_ERROR(checkGeometry(g), "avg_pool2d");
  DLC_RETURN_IF_ERROR(checkView(x, inShape(g), "input"), "avg_pool2d");
  DLC_RETURN_IF_ERROR(checkView(y, outShape(g), "output"), "avg_pool2d");
  const float *in = x.f32();
  float *out = y.f32();
  const int64_t C = g.channels;
  forEachOutputRow(g, false, [&](int64_t b, int64_t oy) {
    Span rows = rowsOf(oy, g.strideH, g.padTop, g.windowH, g.inH);
    for (int64_t ox = 0; ox < g.outW; ++ox) {
      Span cols = rowsOf(ox, g.strideW, g.padLeft, g.windowW, g.inW);
      float *o = out + ((b * g.outH + oy) * g.outW + ox) * C;
      std::fill(o, o + C, 0.0f);
      for (int64_t iy = rows.begin; iy < rows.end; ++iy)
        for (int64_t ix = cols.begin; ix < cols.end; ++ix) {
          const float *v = in + ((b * g.inH + iy) * g.inW + ix) * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c)
            o[c] += v[c];
        }
      int64_t count = (rows.end - rows.begin) * (cols.end - cols.begin);
      float scale = count > 0 ? 1.0f / float(count) : 0.0f;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        o[c] *= scale;
    }
  });
  return okStatus();
}

namespace {

/// One window member of a running first-strict-maximum over C channels.
/// Loads and stores are unconditional and the index select is arithmetic:
/// written as `if (greater) ...`, GCC emits masked stores, which are
/// microcoded on AMD and made the max-pool gradient several times slower.
inline void argmaxStep(const float *v, int32_t pixel, float *best, int32_t *where, int64_t C) {
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    float top = best[c], value = v[c];
    int32_t at = where[c];
    int32_t mask = -int32_t(value > top);
    best[c] = value > top ? value : top;
    where[c] = at ^ ((at ^ pixel) & mask);
  }
}

/// Finds, per channel, the first strict maximum of one window of |image| in
/// row-major window order (the reference's firstMax), as pixel indices.
/// 32-bit lanes so that the compare-and-select vectorises.
void windowArgmax(const PoolGeometry &g, const float *image, Span rows, Span cols, float *best,
                  int32_t *where) {
  const int64_t C = g.channels;
  bool first = true;
  for (int64_t iy = rows.begin; iy < rows.end; ++iy)
    for (int64_t ix = cols.begin; ix < cols.end; ++ix) {
      int32_t pixel = int32_t(iy * g.inW + ix);
      const float *v = image + pixel * C;
      if (first) {
        std::copy(v, v + C, best);
        std::fill(where, where + C, pixel);
        first = false;
        continue;
      }
      argmaxStep(v, pixel, best, where, C);
    }
}

/// Whether every input element lies in at most one window.
bool disjointWindows(const PoolGeometry &g) {
  return g.strideH >= g.windowH && g.strideW >= g.windowW;
}

/// Writes the gradient of output row |oy| of image |b| when windows are
/// disjoint: |write|(ox, rows, cols) stores each window's elements and this
/// zeroes the rest of the row's band, so every dx element is written exactly
/// once - no clearing pass over dx, no read-modify-write.
template <typename WriteWindow>
void writeDisjointRow(const PoolGeometry &g, float *dx, int64_t b, int64_t oy,
                      WriteWindow write) {
  const int64_t C = g.channels, rowFloats = g.inW * C;
  float *image = dx + b * g.inH * rowFloats;
  int64_t bandBegin = oy == 0 ? 0 : std::clamp<int64_t>(oy * g.strideH - g.padTop, 0, g.inH);
  int64_t bandEnd = oy + 1 == g.outH
                        ? g.inH
                        : std::clamp<int64_t>((oy + 1) * g.strideH - g.padTop, 0, g.inH);
  Span rows = rowsOf(oy, g.strideH, g.padTop, g.windowH, g.inH);
  auto zeroRows = [&](int64_t from, int64_t to) {
    if (to > from)
      std::memset(image + from * rowFloats, 0, sizeof(float) * size_t((to - from) * rowFloats));
  };
  auto zeroCols = [&](int64_t from, int64_t to) {
    if (to > from)
      for (int64_t iy = rows.begin; iy < rows.end; ++iy)
        std::memset(image + (iy * g.inW + from) * C, 0, sizeof(float) * size_t((to - from) * C));
  };
  zeroRows(bandBegin, rows.begin);
  zeroRows(std::max(rows.end, bandBegin), bandEnd);
  int64_t next = 0;
  for (int64_t ox = 0; ox < g.outW; ++ox) {
    Span cols = rowsOf(ox, g.strideW, g.padLeft, g.windowW, g.inW);
    zeroCols(next, cols.begin);
    write(ox, rows, cols);
    next = std::max(next, cols.end);
  }
  zeroCols(next, g.inW);
}

} // namespace

namespace {

/// The max-pool gradient; with |reluMask| a window whose maximum is not
/// positive passes nothing (x is a relu output, so relu_grad's mask is the
/// sign of the maximum), and with |dbias| the masked gradient is also summed
/// per channel: pool, relu and bias gradients in one pass over dx.
Status maxPoolGradImpl(const PoolGeometry &g, const TensorView &x, const TensorView &dy,
                       const TensorView &dx, bool reluMask, const TensorView *dbias) {
  DLC_RETURN_IF_ERROR(checkGeometry(g), "max_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(x, inShape(g), "input"), "max_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(dy, outShape(g), "output gradient"), "max_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(dx, inShape(g), "input gradient"), "max_pool2d grad");
  if (dbias)
    DLC_RETURN_IF_ERROR(checkView(*dbias, {g.channels}, "bias gradient"), "max_pool2d grad");
  const float *in = x.f32(), *grad = dy.f32();
  float *out = dx.f32();
  const int64_t C = g.channels, imageFloats = g.inH * g.inW * C;
  if (g.inH * g.inW > std::numeric_limits<int32_t>::max())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "max_pool2d grad: image too large");
  ArgmaxScratch scratch;
  if (!scratch.allocate(C))
    return outOfMemory("max_pool2d grad");
  std::vector<float> masked;
  std::vector<double> biasSums;
  int threads = omp_get_max_threads();
  try {
    masked.assign(size_t(threads * C), 0.0f);
    if (dbias)
      biasSums.assign(size_t(threads * C), 0.0);
  } catch (const std::bad_alloc &) {
    return outOfMemory("max_pool2d grad");
  }
  bool disjoint = disjointWindows(g);
  forEachOutputRow(g, true, [&](int64_t b, int64_t oy) {
    int thread = omp_get_thread_num();
    float *bestV = scratch.bestOf(thread);
    int32_t *whereV = scratch.whereOf(thread);
    float *m = masked.data() + thread * C;
    double *sum = dbias ? biasSums.data() + thread * C : nullptr;
    const float *image = in + b * imageFloats;
    float *dimage = out + b * imageFloats;
    const float *dyRow = grad + (b * g.outH + oy) * g.outW * C;
    auto windowGradient = [&](int64_t ox) -> const float * {
      const float *d = dyRow + ox * C;
      if (!reluMask && !sum)
        return d;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        m[c] = !reluMask || bestV[c] > 0.0f ? d[c] : 0.0f;
      if (sum)
        for (int64_t c = 0; c < C; ++c)
          sum[c] += m[c];
      return m;
    };
    if (disjoint) {
      writeDisjointRow(g, out, b, oy, [&](int64_t ox, Span rows, Span cols) {
        windowArgmax(g, image, rows, cols, bestV, whereV);
        const float *d = windowGradient(ox);
        for (int64_t iy = rows.begin; iy < rows.end; ++iy)
          for (int64_t ix = cols.begin; ix < cols.end; ++ix) {
            int32_t pixel = int32_t(iy * g.inW + ix);
            float *o = dimage + pixel * C;
#pragma omp simd
            for (int64_t c = 0; c < C; ++c)
              o[c] = whereV[c] == pixel ? d[c] : 0.0f;
          }
      });
      return;
    }
    clearOwnedRows(g, out, b, oy);
    Span rows = rowsOf(oy, g.strideH, g.padTop, g.windowH, g.inH);
    for (int64_t ox = 0; ox < g.outW; ++ox) {
      Span cols = rowsOf(ox, g.strideW, g.padLeft, g.windowW, g.inW);
      if (rows.end <= rows.begin || cols.end <= cols.begin)
        continue;
      windowArgmax(g, image, rows, cols, bestV, whereV);
      const float *d = windowGradient(ox);
      for (int64_t c = 0; c < C; ++c)
        dimage[int64_t(whereV[c]) * C + c] += d[c];
    }
  });
  if (dbias) {
    float *db = dbias->f32();
    for (int64_t c = 0; c < C; ++c) {
      double total = 0;
      for (int t = 0; t < threads; ++t)
        total += biasSums[size_t(t * C + c)];
      db[c] = float(total);
    }
  }
  return okStatus();
}

} // namespace

Status maxPool2dGrad(const PoolGeometry &g, const TensorView &x, const TensorView &dy,
                     const TensorView &dx) {
  return maxPoolGradImpl(g, x, dy, dx, /*reluMask=*/false, nullptr);
}

Status maxPool2dGradRelu(const PoolGeometry &g, const TensorView &x, const TensorView &dy,
                         const TensorView &dx, const TensorView *dbias) {
  return maxPoolGradImpl(g, x, dy, dx, /*reluMask=*/true, dbias);
}

Status avgPool2dGrad(const PoolGeometry &g, const TensorView &dy, const TensorView &dx) {
  DLC_RETURN_IF_ERROR(checkGeometry(g), "avg_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(dy, outShape(g), "output gradient"), "avg_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(dx, inShape(g), "input gradient"), "avg_pool2d grad");
  const float *grad = dy.f32();
  float *out = dx.f32();
  const int64_t C = g.channels;
  bool disjoint = disjointWindows(g);
  forEachOutputRow(g, true, [&](int64_t b, int64_t oy) {
    const float *dyRow = grad + (b * g.outH + oy) * g.outW * C;
    // Stores (disjoint windows) or accumulates each window's share.
    auto spread = [&](int64_t ox, Span rows, Span cols, bool store) {
      int64_t count = (rows.end - rows.begin) * (cols.end - cols.begin);
      if (count <= 0)
        return;
      float scale = 1.0f / float(count);
      const float *d = dyRow + ox * C;
      for (int64_t iy = rows.begin; iy < rows.end; ++iy)
        for (int64_t ix = cols.begin; ix < cols.end; ++ix) {
          float *o = out + ((b * g.inH + iy) * g.inW + ix) * C;
          if (store) {
#pragma omp simd
            for (int64_t c = 0; c < C; ++c)
              o[c] = d[c] * scale;
          } else {
#pragma omp simd
            for (int64_t c = 0; c < C; ++c)
              o[c] += d[c] * scale;
          }
        }
    };
    if (disjoint) {
      writeDisjointRow(g, out, b, oy,
                       [&](int64_t ox, Span rows, Span cols) { spread(ox, rows, cols, true); });
      return;
    }
    clearOwnedRows(g, out, b, oy);
    Span rows = rowsOf(oy, g.strideH, g.padTop, g.windowH, g.inH);
    for (int64_t ox = 0; ox < g.outW; ++ox)
      spread(ox, rows, rowsOf(ox, g.strideW, g.padLeft, g.windowW, g.inW), false);
  });
  return okStatus();
}

namespace {
Status checkGlobal(const TensorView &image, const TensorView &pooled, const char *imageName,
                   const char *pooledName) {
  if (image.shape.size() != 4 ||
      std::any_of(image.shape.begin(), image.shape.end(), [](int64_t d) { return d < 0; }))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(imageName) + " must be [N, H, W, C], got " +
                               shapeString(image.shape));
  DLC_RETURN_IF_ERROR(checkView(image, image.shape, imageName), "");
  return checkView(pooled, {image.shape[0], image.shape[3]}, pooledName);
}
} // namespace

Status globalMaxPool2d(const TensorView &x, const TensorView &y) {
  DLC_RETURN_IF_ERROR(checkGlobal(x, y, "input", "output"), "global_max_pool2d");
  const int64_t N = x.shape[0], HW = x.shape[1] * x.shape[2], C = x.shape[3];
  const float *in = x.f32();
  float *out = y.f32();
#pragma omp parallel for schedule(static) if (N * HW * C > (1 << 15))
  for (int64_t b = 0; b < N; ++b) {
    float *o = out + b * C;
    std::fill(o, o + C, kNegInf);
    for (int64_t p = 0; p < HW; ++p) {
      const float *v = in + (b * HW + p) * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        o[c] = o[c] < v[c] ? v[c] : o[c];
    }
  }
  return okStatus();
}

Status globalAvgPool2d(const TensorView &x, const TensorView &y) {
  DLC_RETURN_IF_ERROR(checkGlobal(x, y, "input", "output"), "global_avg_pool2d");
  const int64_t N = x.shape[0], HW = x.shape[1] * x.shape[2], C = x.shape[3];
  const float *in = x.f32();
  float *out = y.f32();
  float scale = HW > 0 ? 1.0f / float(HW) : 0.0f;
#pragma omp parallel for schedule(static) if (N * HW * C > (1 << 15))
  for (int64_t b = 0; b < N; ++b) {
    float *o = out + b * C;
    std::fill(o, o + C, 0.0f);
    for (int64_t p = 0; p < HW; ++p) {
      const float *v = in + (b * HW + p) * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        o[c] += v[c];
    }
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      o[c] *= scale;
  }
  return okStatus();
}

Status globalMaxPool2dGrad(const TensorView &x, const TensorView &dy, const TensorView &dx) {
  DLC_RETURN_IF_ERROR(checkGlobal(x, dy, "input", "output gradient"), "global_max_pool2d grad");
  DLC_RETURN_IF_ERROR(checkView(dx, x.shape, "input gradient"), "global_max_pool2d grad");
  const int64_t N = x.shape[0], HW = x.shape[1] * x.shape[2], C = x.shape[3];
  if (HW > std::numeric_limits<int32_t>::max())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "global_max_pool2d grad: image too large");
  const float *in = x.f32(), *grad = dy.f32();
  float *out = dx.f32();
  ArgmaxScratch scratch;
  if (!scratch.allocate(C))
    return outOfMemory("global_max_pool2d grad");
#pragma omp parallel for schedule(static) if (N * HW * C > (1 << 15))
  for (int64_t b = 0; b < N; ++b) {
    float *bestV = scratch.bestOf(omp_get_thread_num());
    int32_t *whereV = scratch.whereOf(omp_get_thread_num());
    std::fill(whereV, whereV + C, 0);
    const float *image = in + b * HW * C;
    if (HW > 0)
      std::copy(image, image + C, bestV);
    for (int64_t p = 1; p < HW; ++p) {
      const float *v = image + p * C;
      argmaxStep(v, int32_t(p), bestV, whereV, C);
    }
    float *dimage = out + b * HW * C;
    std::memset(dimage, 0, sizeof(float) * size_t(HW * C));
    if (HW > 0)
      for (int64_t c = 0; c < C; ++c)
        dimage[int64_t(whereV[c]) * C + c] = grad[b * C + c];
  }
  return okStatus();
}

Status globalAvgPool2dGrad(const TensorView &dy, const TensorView &dx) {
  DLC_RETURN_IF_ERROR(checkGlobal(dx, dy, "input gradient", "output gradient"),
                      "global_avg_pool2d grad");
  const int64_t N = dx.shape[0], HW = dx.shape[1] * dx.shape[2], C = dx.shape[3];
  const float *grad = dy.f32();
  float *out = dx.f32();
  float scale = HW > 0 ? 1.0f / float(HW) : 0.0f;
#pragma omp parallel for schedule(static) if (N * HW * C > (1 << 15))
  for (int64_t b = 0; b < N; ++b)
    for (int64_t p = 0; p < HW; ++p) {
      float *o = out + (b * HW + p) * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        o[c] = grad[b * C + c] * scale;
    }
  return okStatus();
}

} // namespace dlc::rt::cpu
