//===- initializers.cc - Keras parameter initializers ---------------------===//
#include "runtime/initializers.h"

#include "runtime/counter_rng.h"
#include "runtime/tensor.h"

#include <cmath>

namespace dlc::rt {
namespace {

// Keras draws truncated normals at two standard deviations and divides the
// scale by the truncated distribution's standard deviation.
constexpr double kTruncatedStd = 0.87962566103423978;

struct Fans {
  double in, out;
};

Fans fans(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  if (shape.size() == 2)
    return {double(shape[0]), double(shape[1])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    receptive *= double(shape[i]);
  return {receptive * double(shape[shape.size() - 2]), receptive * double(shape.back())};
}

double normal(uint64_t seed, uint64_t stream, uint64_t i) {
  double u1 = uniform01(seed, stream, 2 * i), u2 = uniform01(seed, stream, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * M_PI * u2);
}

double truncatedNormal(uint64_t seed, uint64_t i) {
  for (uint64_t attempt = 0;; ++attempt) {
    double z = normal(seed, attempt, i);
    if (std::fabs(z) <= 2.0 || attempt == 64)
      return std::fabs(z) <= 2.0 ? z : 0.0;
  }
}

/// Keras' Orthogonal: QR of a normal matrix, Q times the signs of R's diagonal.
void orthogonal(const std::vector<int64_t> &shape, uint64_t seed, float *out) {
  int64_t cols = shape.empty() ? 1 : shape.back();
  int64_t rows = numElements(shape) / (cols ? cols : 1);
  bool transposed = rows < cols;
  int64_t m = transposed ? cols : rows, n = transposed ? rows : cols; // m >= n
  std::vector<double> a(size_t(m * n));
  for (int64_t i = 0; i < m * n; ++i)
    a[size_t(i)] = normal(seed, 0, uint64_t(i));
  // Modified Gram-Schmidt on the n columns of the m x n matrix: Q's columns,
  // with R's diagonal positive by construction (the sign fix is built in).
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t k = 0; k < j; ++k) {
      double dot = 0;
      for (int64_t i = 0; i < m; ++i)
        dot += a[size_t(i * n + k)] * a[size_t(i * n + j)];
      for (int64_t i = 0; i < m; ++i)
        a[size_t(i * n + j)] -= dot * a[size_t(i * n + k)];
    }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i)
      norm += a[size_t(i * n + j)] * a[size_t(i * n + j)];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < m; ++i)
      a[size_t(i * n + j)] /= norm > 0 ? norm : 1;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = float(transposed ? a[size_t(c * n + r)] : a[size_t(r * n + c)]);
}

} // namespace

uint64_t parameterSeed(uint64_t modelSeed, const std::string &name) {
  uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
  for (unsigned char c : name)
    h = (h ^ c) * 0x100000001b3ull;
  return mix64(modelSeed ^ h);
}

Status initializeParameter(const std::string &initializer, const std::vector<int64_t> &shape,
                           uint64_t seed, float *out) {
  int64_t n = numElements(shape);
  Fans f = fans(shape);
  auto uniform = [&](double limit) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = float((2.0 * uniform01(seed, 0, uint64_t(i)) - 1.0) * limit);
  };
  auto truncated = [&](double stddev) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = float(truncatedNormal(seed, uint64_t(i)) * stddev / kTruncatedStd);
  };
  if (initializer == "glorot_uniform")
    uniform(std::sqrt(6.0 / (f.in + f.out)));
  else if (initializer == "glorot_normal")
    truncated(std::sqrt(2.0 / (f.in + f.out)));
  else if (initializer == "he_uniform")
    uniform(std::sqrt(6.0 / f.in));
  else if (initializer == "he_normal")
    truncated(std::sqrt(2.0 / f.in));
  else if (initializer == "lecun_normal")
    truncated(std::sqrt(1.0 / f.in));
  else if (initializer == "uniform")
    uniform(0.05);
  else if (initializer == "normal")
    for (int64_t i = 0; i < n; ++i)
      out[i] = float(0.05 * normal(seed, 0, uint64_t(i)));
  else if (initializer == "zeros" || initializer == "ones")
    for (int64_t i = 0; i < n; ++i)
      out[i] = initializer == "ones" ? 1.0f : 0.0f;
  else if (initializer == "orthogonal")
    orthogonal(shape, seed, out);
  else if (initializer == "lstm_bias") {
    // unit_forget_bias: the forget gate (second quarter, order i f c o) starts at 1.
    int64_t units = n / 4;
    for (int64_t i = 0; i < n; ++i)
      out[i] = i >= units && i < 2 * units ? 1.0f : 0.0f;
  } else
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "unknown initializer '" + initializer + "'");
  return okStatus();
}

bool isInitializer(const std::string &initializer) {
  float one = 0; // the names are initializeParameter's: one element drawn
  return initializeParameter(initializer, {1}, 0, &one).ok();
}

} // namespace dlc::rt
