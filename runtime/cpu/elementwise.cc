//===- elementwise.cc - Activations, softmax, merges and dropout ----------===//
//
// Compiled with -fno-math-errno -fno-trapping-math (runtime/CMakeLists.txt):
// without them GCC keeps sqrt/floor as calls and refuses to if-convert the
// selects, so none of these loops would vectorise. Neither flag changes a
// single result bit.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/elementwise.h"

#include "runtime/counter_rng.h"
#include "runtime/float16.h"

#include <immintrin.h>
#include <omp.h>

#include <string>

namespace dlc::rt::cpu {

void parallelRanges(int64_t n, int64_t grain, void (*fn)(void *, int64_t, int64_t), void *ctx) {
  int64_t chunks = grain > 0 ? n / grain : n;
  if (chunks < 2 || omp_in_parallel()) {
    fn(ctx, 0, n);
    return;
  }
  int threads = int(std::min<int64_t>(chunks, omp_get_max_threads()));
#pragma omp parallel num_threads(threads)
  {
    int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
    int64_t begin = n * t / count, end = n * (t + 1) / count;
    if (begin < end)
      fn(ctx, begin, end);
  }
}

Status axisDims(const std::vector<int64_t> &shape, int64_t axis, AxisDims *dims) {
  int64_t rank = int64_t(shape.size());
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "axis " + std::to_string(axis) + " is outside a tensor of rank " +
                               std::to_string(rank));
  AxisDims result;
  for (int64_t i = 0; i < normalized; ++i)
    result.outer *= shape[i];
  result.channels = shape[normalized];
  for (int64_t i = normalized + 1; i < rank; ++i)
    result.inner *= shape[i];
  *dims = result;
  return okStatus();
}

namespace {
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

/// y[i] = f(x[i]) in vectorisable blocks, over threads when large.
template <typename F>
void map1(const float *x, float *y, int64_t n, F f) {
  parallelBlocks(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      y[i] = f(x[i]);
  });
}

template <typename F>
void map2(const float *a, const float *b, float *y, int64_t n, F f) {
  parallelBlocks(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      y[i] = f(a[i], b[i]);
  });
}
} // namespace

void unary(Activation kind, const float *x, float *y, int64_t n, float slope) {
  // The switch is hoisted so that each loop inlines one activation and
  // vectorises.
  switch (kind) {
  case Activation::kNone:
    if (x != y)
      copy(x, y, size_t(n) * sizeof(float));
    return;
  case Activation::kRelu:
    return map1(x, y, n, [](float v) { return activate(Activation::kRelu, v, 0.0f); });
  case Activation::kSigmoid:
    return map1(x, y, n, [](float v) { return activate(Activation::kSigmoid, v, 0.0f); });
  case Activation::kTanh:
    return map1(x, y, n, [](float v) { return activate(Activation::kTanh, v, 0.0f); });
  case Activation::kGelu:
    return map1(x, y, n, [](float v) { return activate(Activation::kGelu, v, 0.0f); });
  case Activation::kGeluTanh:
    return map1(x, y, n, [](float v) { return activate(Activation::kGeluTanh, v, 0.0f); });
  case Activation::kLeakyRelu:
    return map1(x, y, n, [slope](float v) { return activate(Activation::kLeakyRelu, v, slope); });
  }
}

void unaryGrad(Activation kind, const float *saved, const float *dy, float *dx, int64_t n,
               float slope) {
  switch (kind) {
  case Activation::kRelu:
    return map2(saved, dy, dx, n, [](float v, float d) { return v > 0.0f ? d : 0.0f; });
  case Activation::kSigmoid:
    return map2(saved, dy, dx, n, [](float y, float d) { return d * y * (1.0f - y); });
  case Activation::kTanh:
    return map2(saved, dy, dx, n, [](float y, float d) { return d * (1.0f - y * y); });
  case Activation::kGelu:
    return map2(saved, dy, dx, n, [](float v, float d) {
      float pdf = expApprox(-0.5f * v * v) * kInvSqrt2Pi;
      return d * (0.5f * (1.0f + std::erf(v * kSqrt1_2)) + v * pdf);
    });
  case Activation::kGeluTanh:
    return map2(saved, dy, dx, n, [](float v, float d) {
      float t = tanhApprox(kSqrt2OverPi * (v + 0.044715f * v * v * v));
      return d * (0.5f * (1.0f + t) +
                  0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v));
    });
  case Activation::kLeakyRelu:
    return map2(saved, dy, dx, n, [slope](float v, float d) { return v > 0.0f ? d : slope * d; });
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

namespace {
/// Width of the inner-axis strips a non-last-axis softmax works on: each
/// strip keeps its running maxima and sums on the stack.
constexpr int64_t kStrip = 64;

void softmaxRow(const float *x, float *y, int64_t c) {
  float top = x[0];
#pragma omp simd reduction(max : top)
  for (int64_t j = 0; j < c; ++j)
    top = std::max(top, x[j]);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < c; ++j) {
    float e = expApprox(x[j] - top);
    y[j] = e;
    sum += e;
  }
  float inv = 1.0f / sum;
  for (int64_t j = 0; j < c; ++j)
    y[j] *= inv;
}

void softmaxStrip(const float *x, float *y, int64_t channels, int64_t inner, int64_t width) {
  float top[kStrip], sum[kStrip];
  for (int64_t j = 0; j < width; ++j) {
    top[j] = x[j];
    sum[j] = 0.0f;
  }
  for (int64_t c = 1; c < channels; ++c)
    for (int64_t j = 0; j < width; ++j)
      top[j] = std::max(top[j], x[c * inner + j]);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < width; ++j) {
      float e = expApprox(x[c * inner + j] - top[j]);
      y[c * inner + j] = e;
      sum[j] += e;
    }
  for (int64_t j = 0; j < width; ++j)
    sum[j] = 1.0f / sum[j];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < width; ++j)
      y[c * inner + j] *= sum[j];
}

void softmaxGradRow(const float *y, const float *dy, float *dx, int64_t c) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < c; ++j)
    dot += dy[j] * y[j];
  for (int64_t j = 0; j < c; ++j)
    dx[j] = y[j] * (dy[j] - dot);
}

void softmaxGradStrip(const float *y, const float *dy, float *dx, int64_t channels,
                      int64_t inner, int64_t width) {
  float dot[kStrip] = {};
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < width; ++j)
      dot[j] += dy[c * inner + j] * y[c * inner + j];
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < width; ++j)
      dx[c * inner + j] = y[c * inner + j] * (dy[c * inner + j] - dot[j]);
}

/// Calls row(offset, width) for every (outer, strip of inner) of |dims|:
/// |offset| is the flat index of the strip's first element at channel 0.
template <typename Row>
void forEachStrip(AxisDims dims, Row row) {
  int64_t strips = (dims.inner + kStrip - 1) / kStrip;
  int64_t tasks = dims.outer * strips;
  int64_t work = std::max<int64_t>(1, dims.channels * std::min(dims.inner, kStrip));
  int64_t grain = std::max<int64_t>(1, kElementwiseGrain / work);
  parallelBlocks(tasks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t o = t / strips, start = (t % strips) * kStrip;
      row(o * dims.channels * dims.inner + start, std::min(kStrip, dims.inner - start));
    }
  });
}
} // namespace

void softmax(const float *x, float *y, AxisDims dims) {
  if (dims.channels == 0 || dims.numel() == 0)
    return;
  if (dims.inner == 1) {
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / dims.channels);
    parallelBlocks(dims.outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o)
        softmaxRow(x + o * dims.channels, y + o * dims.channels, dims.channels);
    });
    return;
  }
  forEachStrip(dims, [&](int64_t at, int64_t width) {
    softmaxStrip(x + at, y + at, dims.channels, dims.inner, width);
  });
}

void softmaxGrad(const float *y, const float *dy, float *dx, AxisDims dims) {
  if (dims.channels == 0 || dims.numel() == 0)
    return;
  if (dims.inner == 1) {
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / dims.channels);
    parallelBlocks(dims.outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o)
        softmaxGradRow(y + o * dims.channels, dy + o * dims.channels, dx + o * dims.channels,
                       dims.channels);
    });
    return;
  }
  forEachStrip(dims, [&](int64_t at, int64_t width) {
    softmaxGradStrip(y + at, dy + at, dx + at, dims.channels, dims.inner, width);
  });
}

//===----------------------------------------------------------------------===//
// Merges, copies, dropout
//===----------------------------------------------------------------------===//

void add(const float *const *inputs, int64_t count, float *y, int64_t n) {
  parallelBlocks(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    // Pairwise passes over a cache-sized block instead of one pass per input
    // over the whole tensor.
    for (int64_t b = begin; b < end; b += 4096) {
      int64_t e = std::min(end, b + 4096);
      const float *first = inputs[0];
      if (count == 1) {
        if (first != y)
          std::memcpy(y + b, first + b, size_t(e - b) * sizeof(float));
        continue;
      }
      const float *second = inputs[1];
      for (int64_t i = b; i < e; ++i)
        y[i] = first[i] + second[i];
      for (int64_t k = 2; k < count; ++k) {
        const float *in = inputs[k];
        for (int64_t i = b; i < e; ++i)
          y[i] += in[i];
      }
    }
  });
}

void concat(const void *const *inputs, const int64_t *sizes, int64_t count, void *y,
            int64_t outer, int64_t inner, size_t elementBytes) {
  int64_t total = 0;
  for (int64_t k = 0; k < count; ++k)
    total += sizes[k];
  size_t rowBytes = size_t(total * inner) * elementBytes;
  int64_t grain = std::max<int64_t>(1, int64_t(kCopyGrainBytes / std::max<size_t>(1, rowBytes)));
  parallelBlocks(outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      char *dst = static_cast<char *>(y) + size_t(o) * rowBytes;
      for (int64_t k = 0; k < count; ++k) {
        size_t part = size_t(sizes[k] * inner) * elementBytes;
        std::memcpy(dst, static_cast<const char *>(inputs[k]) + size_t(o) * part, part);
        dst += part;
      }
    }
  });
}

void slice(const void *x, void *y, int64_t outer, int64_t whole, int64_t start, int64_t size,
           int64_t inner, size_t elementBytes) {
  size_t part = size_t(size * inner) * elementBytes;
  size_t rowBytes = size_t(whole * inner) * elementBytes;
  size_t skip = size_t(start * inner) * elementBytes;
  int64_t grain = std::max<int64_t>(1, int64_t(kCopyGrainBytes / std::max<size_t>(1, part)));
  parallelBlocks(outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      std::memcpy(static_cast<char *>(y) + size_t(o) * part,
                  static_cast<const char *>(x) + size_t(o) * rowBytes + skip, part);
  });
}

void dropout(const float *x, float *y, int64_t n, double rate, uint64_t seed, uint64_t stream) {
  // uniform01() with its per-(seed, stream) key hoisted out of the loop; the
  // comparison stays in double so that the mask is bit-identical.
  const uint64_t key = mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ull));
  const float scale = float(1.0 / (1.0 - rate));
  parallelBlocks(n, kElementwiseGrain / 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double u = double(mix64(key + uint64_t(i) * 0x9e3779b97f4a7c15ull) >> 11) * 0x1.0p-53;
      y[i] = u >= rate ? x[i] * scale : 0.0f;
    }
  });
}

void zeros(void *data, size_t bytes) {
  int64_t blocks = int64_t((bytes + kCopyGrainBytes - 1) / kCopyGrainBytes);
  parallelBlocks(blocks, 1, [&](int64_t begin, int64_t end) {
    size_t from = size_t(begin) * kCopyGrainBytes;
    size_t to = std::min(bytes, size_t(end) * kCopyGrainBytes);
    std::memset(static_cast<char *>(data) + from, 0, to - from);
  });
}

void copy(const void *src, void *dst, size_t bytes) {
  if (src == dst)
    return;
  int64_t blocks = int64_t((bytes + kCopyGrainBytes - 1) / kCopyGrainBytes);
  parallelBlocks(blocks, 1, [&](int64_t begin, int64_t end) {
    size_t from = size_t(begin) * kCopyGrainBytes;
    size_t to = std::min(bytes, size_t(end) * kCopyGrainBytes);
    std::memcpy(static_cast<char *>(dst) + from, static_cast<const char *>(src) + from, to - from);
  });
}

namespace {
/// f32 -> f16 bits, 8 at a time by F16C (part of x86-64-v3, which the
/// runtime is built for), rounding to nearest even as floatToF16Bits does;
/// a NaN becomes that function's quiet NaN of its sign, not F16C's
/// truncated payload, so that every path gives the same bits.
void floatsToF16(const float *x, uint16_t *y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 isNan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    if (_mm256_movemask_ps(isNan)) {
      alignas(32) int32_t fix[8];
      _mm256_store_si256(reinterpret_cast<__m256i *>(fix), _mm256_castps_si256(isNan));
      alignas(16) uint16_t out[8];
      _mm_store_si128(reinterpret_cast<__m128i *>(out), h);
      for (int k = 0; k < 8; ++k)
        if (fix[k])
          out[k] = floatToF16Bits(x[i + k]);
      h = _mm_load_si128(reinterpret_cast<const __m128i *>(out));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i *>(y + i), h);
  }
  for (; i < end; ++i)
    y[i] = floatToF16Bits(x[i]);
}

/// f16 bits -> f32, exact, 8 at a time (a NaN keeps its payload as
/// fromF16Bits keeps it, where F16C would set the quiet bit).
void f16ToFloats(const uint16_t *x, float *y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + i)));
    _mm256_storeu_ps(y + i, v);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)))
      for (int k = 0; k < 8; ++k)
        y[i + k] = fromF16Bits(x[i + k]);
  }
  for (; i < end; ++i)
    y[i] = fromF16Bits(x[i]);
}
} // namespace

void convertFloats(const TensorView &from, const TensorView &to) {
  constexpr int64_t kGrain = 1 << 16;
  const int64_t n = from.numel();
  const DType a = from.dtype, b = to.dtype;
  const float *xf = a == DType::kF32 ? from.f32() : nullptr;
  float *yf = b == DType::kF32 ? to.f32() : nullptr;
  const uint16_t *x16 = static_cast<const uint16_t *>(from.data);
  uint16_t *y16 = static_cast<uint16_t *>(to.data);
  // One loop per pair, so that each vectorises.
  if (a == DType::kF32 && b == DType::kBF16)
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        y16[i] = floatToBF16Bits(xf[i]);
    });
  if (a == DType::kBF16 && b == DType::kF32)
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        yf[i] = fromBF16Bits(x16[i]);
    });
  if (a == DType::kF32 && b == DType::kF16)
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) { floatsToF16(xf, y16, begin, end); });
  if (a == DType::kF16 && b == DType::kF32)
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) { f16ToFloats(x16, yf, begin, end); });
  parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      storeElement(b, to.data, i, loadElement(a, from.data, i));
  });
}

void roundFloats(const TensorView &from, DType type, const TensorView &to) {
  constexpr int64_t kGrain = 1 << 16;
  const int64_t n = from.numel();
  float *y = to.f32();
  if (from.dtype == DType::kF32 && type == DType::kBF16) {
    const float *x = from.f32();
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        y[i] = fromBF16Bits(floatToBF16Bits(x[i]));
    });
  }
  if (from.dtype == DType::kF32 && type == DType::kF16) { // F16C both ways, 8 at a time
    const float *x = from.f32();
    return parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
      int64_t i = begin;
      for (; i + 8 <= end; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) // NaNs as the scalar path makes them
          for (int k = 0; k < 8; ++k)
            y[i + k] = fromF16Bits(floatToF16Bits(x[i + k]));
      }
      for (; i < end; ++i)
        y[i] = fromF16Bits(floatToF16Bits(x[i]));
    });
  }
  parallelBlocks(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double v = loadElement(from.dtype, from.data, i);
      y[i] = type == DType::kBF16 ? fromBF16Bits(toBF16Bits(v))
             : type == DType::kF16 ? fromF16Bits(toF16Bits(v))
                                   : float(v);
    }
  });
}

} // namespace dlc::rt::cpu
