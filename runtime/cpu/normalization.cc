//===- normalization.cc - Batch normalization forward, backward, stats ----===//
//
// Per-channel sums run over kBlocks fixed row ranges (one partial sum per
// range, combined in order), so that they parallelise when the channels are
// few and the rows many (a conv net's [N, H, W, 32]) and still give the same
// bits whatever the thread count. The elementwise passes then use per-channel
// float coefficients.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/normalization.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt::cpu {

namespace {
constexpr int64_t kBlocks = 16;
constexpr int kMaxSums = 2;

/// The scratch: per-block partial sums, four per-channel double arrays and
/// four per-channel float arrays.
struct Scratch {
  double *partial, *first, *second, *third, *fourth;
  float *f[4];

  Scratch(void *memory, int64_t channels) {
    partial = static_cast<double *>(memory);
    first = partial + kBlocks * kMaxSums * channels;
    second = first + channels;
    third = second + channels;
    fourth = third + channels;
    float *floats = reinterpret_cast<float *>(fourth + channels);
    for (int k = 0; k < 4; ++k)
      f[k] = floats + k * channels;
  }
};

/// out[k][c] = sum over the channel's elements at of term(at, c)[k], in
/// double. term(at, c, double t[K]) fills the K terms of one element.
template <int K, typename Term>
void reduceChannels(AxisDims d, double *partial, double *const *out, Term term) {
  const int64_t channels = d.channels, inner = d.inner;
  const int64_t blocks = std::max<int64_t>(1, std::min(kBlocks, d.outer));
#pragma omp parallel for schedule(static) if (blocks > 1 && d.numel() >= 2 * kElementwiseGrain)
  for (int64_t b = 0; b < blocks; ++b) {
    double *acc = partial + b * K * channels;
    std::fill(acc, acc + K * channels, 0.0);
    int64_t begin = d.outer * b / blocks, end = d.outer * (b + 1) / blocks;
    for (int64_t o = begin; o < end; ++o) {
      if (inner == 1) {
        for (int64_t c = 0; c < channels; ++c) {
          double t[K];
          term(o * channels + c, c, t);
          for (int k = 0; k < K; ++k)
            acc[k * channels + c] += t[k];
        }
        continue;
      }
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t base = (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          double t[K];
          term(base + i, c, t);
          for (int k = 0; k < K; ++k)
            acc[k * channels + c] += t[k];
        }
      }
    }
  }
  for (int k = 0; k < K; ++k)
    for (int64_t c = 0; c < channels; ++c) {
      double sum = 0.0;
      for (int64_t b = 0; b < blocks; ++b)
        sum += partial[(b * K + k) * channels + c];
      out[k][c] = sum;
    }
}

/// Batch mean and biased variance into scratch.first / scratch.second.
void batchStatistics(const float *x, AxisDims d, Scratch &s) {
  const double count = double(d.outer * d.inner);
  double *mean = s.first, *variance = s.second;
  reduceChannels<1>(d, s.partial, &mean,
                    [&](int64_t at, int64_t, double *t) { t[0] = double(x[at]); });
  for (int64_t c = 0; c < d.channels; ++c)
    mean[c] /= count;
  reduceChannels<1>(d, s.partial, &variance, [&](int64_t at, int64_t c, double *t) {
    double dev = double(x[at]) - mean[c];
    t[0] = dev * dev;
  });
  for (int64_t c = 0; c < d.channels; ++c)
    variance[c] /= count;
}

/// Calls f(at, c) for every element (flat index, channel), over threads by
/// rows; channels-last tensors give the compiler a contiguous loop over c.
template <typename F>
void forEachElement(AxisDims d, F f) {
  const int64_t channels = d.channels, inner = d.inner;
  int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, channels * inner));
  parallelBlocks(d.outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      if (inner == 1) {
        for (int64_t c = 0; c < channels; ++c)
          f(o * channels + c, c);
        continue;
      }
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i)
          f((o * channels + c) * inner + i, c);
    }
  });
}

/// y = (x - m[c]) * a[c] + b[c].
void affine(const float *x, AxisDims d, const float *m, const float *a, const float *b, float *y) {
  forEachElement(d, [&](int64_t at, int64_t c) { y[at] = (x[at] - m[c]) * a[c] + b[c]; });
}

/// Normalizes with statistics |mean| and |variance| given in double.
template <typename Mean, typename Variance>
void normalize(const float *x, const float *gamma, const float *beta, Mean mean, Variance variance,
               AxisDims d, double epsilon, float *y, Scratch &s) {
  for (int64_t c = 0; c < d.channels; ++c) {
    s.f[0][c] = float(mean(c));
    s.f[1][c] = float((gamma ? double(gamma[c]) : 1.0) / std::sqrt(variance(c) + epsilon));
    s.f[2][c] = beta ? beta[c] : 0.0f;
  }
  affine(x, d, s.f[0], s.f[1], s.f[2], y);
}
} // namespace

size_t batchNormScratchBytes(int64_t channels) {
  // partial sums + four double arrays + four float arrays (= two doubles).
  return size_t(kBlocks * kMaxSums + 6) * size_t(channels) * sizeof(double);
}

void batchNormInference(const float *x, const float *gamma, const float *beta, const float *mean,
                        const float *variance, AxisDims dims, double epsilon, float *y,
                        void *scratch) {
  Scratch s(scratch, dims.channels);
  normalize(
      x, gamma, beta, [&](int64_t c) { return double(mean[c]); },
      [&](int64_t c) { return double(variance[c]); }, dims, epsilon, y, s);
}

void batchNormTraining(const float *x, const float *gamma, const float *beta, AxisDims dims,
                       double epsilon, float *y, float *batchMean, float *batchVariance,
                       void *scratch) {
  Scratch s(scratch, dims.channels);
  batchStatistics(x, dims, s);
  for (int64_t c = 0; c < dims.channels; ++c) {
    if (batchMean)
      batchMean[c] = float(s.first[c]);
    if (batchVariance)
      batchVariance[c] = float(s.second[c]);
  }
  normalize(
      x, gamma, beta, [&](int64_t c) { return s.first[c]; }, [&](int64_t c) { return s.second[c]; },
      dims, epsilon, y, s);
}

void batchNormGrad(const float *x, const float *gamma, const float *dy, AxisDims dims,
                   double epsilon, float *dx, float *dgamma, float *dbeta, void *scratch) {
  Scratch s(scratch, dims.channels);
  batchStatistics(x, dims, s);
  const double count = double(dims.outer * dims.inner);
  const double *mean = s.first;
  double *sums[2] = {s.third, s.fourth};
  reduceChannels<2>(dims, s.partial, sums, [&](int64_t at, int64_t c, double *t) {
    t[0] = double(dy[at]);
    t[1] = double(dy[at]) * (double(x[at]) - mean[c]);
  });
  float *m = s.f[0], *a = s.f[1], *b = s.f[2], *k = s.f[3];
  for (int64_t c = 0; c < dims.channels; ++c) {
    double invStd = 1.0 / std::sqrt(s.second[c] + epsilon);
    double sumDy = sums[0][c], sumDyXhat = sums[1][c] * invStd;
    if (dbeta)
      dbeta[c] = float(sumDy);
    if (dgamma)
      dgamma[c] = float(sumDyXhat);
    m[c] = float(mean[c]);
    a[c] = float((gamma ? double(gamma[c]) : 1.0) * invStd);
    b[c] = float(sumDy / count);
    k[c] = float(invStd * sumDyXhat / count);
  }
  forEachElement(dims, [&](int64_t at, int64_t c) {
    dx[at] = a[c] * (dy[at] - b[c] - (x[at] - m[c]) * k[c]);
  });
}

void batchNormInferenceGrad(const float *dy, const float *gamma, const float *variance,
                            AxisDims dims, double epsilon, float *dx, void *scratch) {
  Scratch s(scratch, dims.channels);
  for (int64_t c = 0; c < dims.channels; ++c) {
    s.f[0][c] = 0.0f;
    s.f[1][c] = float((gamma ? double(gamma[c]) : 1.0) / std::sqrt(double(variance[c]) + epsilon));
    s.f[2][c] = 0.0f;
  }
  affine(dy, dims, s.f[0], s.f[1], s.f[2], dx);
}

void batchNormStatisticsUpdate(const float *x, AxisDims dims, double momentum,
                               const float *movingMean, const float *movingVariance,
                               float *newMean, float *newVariance, void *scratch) {
  Scratch s(scratch, dims.channels);
  batchStatistics(x, dims, s);
  for (int64_t c = 0; c < dims.channels; ++c) {
    newMean[c] = float(double(movingMean[c]) * momentum + s.first[c] * (1.0 - momentum));
    newVariance[c] =
        float(double(movingVariance[c]) * momentum + s.second[c] * (1.0 - momentum));
  }
}

} // namespace dlc::rt::cpu
