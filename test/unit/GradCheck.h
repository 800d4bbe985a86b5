//===- GradCheck.h - Finite-difference harness of the backward kernels --===//
//
// Shared by GradKernelsTest.cpp and GradLossesTest.cpp: every gradient of
// compiler/Reference/GradKernels.h is compared with central finite
// differences of its forward kernel on seeded random cases. A random
// projection L(x) = sum(w * f(x)) with random w turns the vector-Jacobian
// product into a scalar derivative, so one difference per input element
// checks the whole gradient (the kernel under test gets dy = w).
//
// Acceptance, per element: |a - fd| <= kTol * max(|a|, |fd|, kFloor) + r,
// with a the analytic gradient, fd = (L(x + e) - L(x - e)) / 2e, e = 1e-6,
// kTol = 1e-6, kFloor = 1e-3. The first term is the relative check asked of
// a correct gradient: a wrong one (1% off, a missing term) misses it by
// orders of magnitude. r = kUlps * u * M / 2e (u = 2^-53, kUlps = 32) is the
// rounding error fd itself can carry: M = sum |w_j| (|f+_j| + |f-_j|) over
// the outputs the perturbation moves, each computed with a few ulps of
// error that dividing by 2e magnifies 5e5 times. Outputs it does not move
// cancel exactly (L is accumulated as sum(w * (f+ - f-)) in long double), so
// for local ops (conv, pooling, dense) r ~ 1e-9 and the check is relative
// 1e-6 down to gradients of 1e-3. Batch norm, softmax, the LSTM and the
// losses move every output of a channel or row: r is a few 1e-9 there, and
// measured rounding reaches 2e-6 of their smaller gradients, which a bare
// 1e-6 * max(|a|, 1e-3) bound would flag with nothing wrong in the gradient.
// Truncation error (e^2/6 |L'''|, ~1e-13 on O(1) data) is negligible.
// GradCheckHarness.RejectsWrongGradients shows that a gradient scaled by
// 1.01, one element off by 1e-5 of its size, two swapped elements, or a conv
// gradient without dilation are all rejected - for batch norm, the LSTM and
// a loss (the largest r) too.
// Kinks (relu at 0, max-pool ties, clip bounds) are kept more than e away.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/GradKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>

namespace dlc::ref::test {

constexpr double kEps = 1e-6, kTol = 1e-6, kFloor = 1e-3, kUlps = 32;
constexpr int kCases = 20;

using Forward = std::function<RefTensor(const RefTensor &)>;

/// Per gradient function: the largest relative FD error and the largest
/// share of the allowed error used; printed at exit.
struct Worst {
  double relative = 0, used = 0;
};
inline std::map<std::string, Worst> &worstErrors() {
  static std::map<std::string, Worst> table;
  return table;
}

struct ReportEnvironment : ::testing::Environment {
  void TearDown() override {
    std::cout << "Largest finite-difference error per gradient "
                 "(relative to max(|g|, |fd|, 1e-3); share of the allowed error):\n";
    for (auto &[name, worst] : worstErrors())
      std::cout << "  " << name << ": " << worst.relative << "; " << worst.used << "\n";
  }
};

struct FdResult {
  /// maxError: max |a - fd| / max(|a|, |fd|, kFloor); maxUsed: max
  /// |a - fd| / allowed (the check passes when it is at most 1).
  double maxError = 0, maxUsed = 0, analytic = 0, numeric = 0, allowed = 0;
  int64_t worst = -1;
};

/// Compares |analytic| with central differences of sum(w * f(x)) at every
/// element of |x| that |check| accepts.
inline FdResult fdCompare(RefTensor x, const Forward &f, const RefTensor &w,
                          const RefTensor &analytic, double eps = kEps,
                          const std::function<bool(int64_t)> &check = nullptr) {
  FdResult result;
  EXPECT_EQ(analytic.shape, x.shape);
  for (int64_t i = 0; i < x.size(); ++i) {
    if (check && !check(i))
      continue;
    double saved = x[i];
    x[i] = saved + eps;
    RefTensor plus = f(x);
    x[i] = saved - eps;
    RefTensor minus = f(x);
    x[i] = saved;
    // Outputs the perturbation leaves alone cancel exactly; |moved| is the
    // magnitude of the others, which the rounding of f is relative to.
    long double diff = 0, moved = 0;
    for (int64_t j = 0; j < w.size(); ++j) {
      diff += (long double)w[j] * ((long double)plus[j] - (long double)minus[j]);
      if (plus[j] != minus[j])
        moved += std::abs((long double)w[j]) * (std::abs(plus[j]) + std::abs(minus[j]));
    }
    double numeric = double(diff / (2.0L * eps));
    double rounding = kUlps * (DBL_EPSILON / 2) * double(moved) / (2 * eps);
    double scale = std::max({std::abs(analytic[i]), std::abs(numeric), kFloor});
    double gap = std::abs(analytic[i] - numeric), allowed = kTol * scale + rounding;
    result.maxError = std::max(result.maxError, gap / scale);
    if (!(gap / allowed <= result.maxUsed) || result.worst < 0) {
      result.maxUsed = gap / allowed;
      result.analytic = analytic[i];
      result.numeric = numeric;
      result.allowed = allowed;
      result.worst = i;
    }
  }
  return result;
}

/// Records and checks one comparison.
inline void expectGrad(const std::string &name, const FdResult &r, const std::string &what) {
  Worst &worst = worstErrors()[name];
  worst.relative = std::max(worst.relative, r.maxError);
  worst.used = std::max(worst.used, r.maxUsed);
  EXPECT_LE(r.maxUsed, 1.0) << name << " (" << what << ") at element " << r.worst
                            << ": analytic " << r.analytic << ", numeric " << r.numeric
                            << ", allowed difference " << r.allowed;
}

struct Random {
  std::mt19937_64 engine;
  explicit Random(uint64_t seed) : engine(seed) {}
  int64_t integer(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine);
  }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine); }
  RefTensor tensor(std::vector<int64_t> shape, double lo = -1, double hi = 1) {
    RefTensor t(std::move(shape));
    for (double &v : t.data)
      v = uniform(lo, hi);
    return t;
  }
  /// Values at least 0.01 apart (no max ties), shuffled, in about [-1, 1].
  RefTensor distinct(std::vector<int64_t> shape) {
    RefTensor t(std::move(shape));
    for (int64_t i = 0; i < t.size(); ++i)
      t[i] = -1.0 + 2.0 * double(i) / double(std::max<int64_t>(t.size(), 1)) + 0.001 * uniform(0, 1);
    std::shuffle(t.data.begin(), t.data.end(), engine);
    return t;
  }
  /// Values with |v| >= 0.05 so that relu-like kinks stay far from x +- eps.
  RefTensor awayFromZero(std::vector<int64_t> shape, double range) {
    RefTensor t = tensor(std::move(shape), 0.05, range);
    for (double &v : t.data)
      v = integer(0, 1) ? v : -v;
    return t;
  }
  std::vector<int64_t> shape(int64_t rankLo, int64_t rankHi, int64_t dimHi) {
    std::vector<int64_t> s(integer(rankLo, rankHi));
    for (int64_t &d : s)
      d = integer(1, dimHi);
    return s;
  }
};

inline std::string describe(const char *fmt, std::initializer_list<int64_t> values) {
  std::string text = fmt;
  for (int64_t v : values)
    text += " " + std::to_string(v);
  return text;
}

} // namespace dlc::ref::test
