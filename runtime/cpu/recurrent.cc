//===- recurrent.cc - The LSTM forward pass and its backpropagation -------===//
//
// Workspace layout, all batch-major so that rows (b, t) line up with x's
// [batch * steps, features] rows for the whole-sequence products:
//
//   gates [batch, steps, 4u]  x·W (+ h·U per step), then the activated
//                             gates i, f, g, o; the backward pass replaces
//                             them in place with dz.
//   hPrev [batch, steps, u]   h_{t-1} of step t (zero at t = 0), the left
//                             operand of both h·U and dU = hPrevᵀ · dz.
//   cell  [batch, steps, u]   c_t.
//   tanhC [batch, steps, u]   tanh(c_t), so the backward pass recomputes no
//                             transcendental.
//
// The per-step elementwise work runs over batch rows on all threads; gemm
// (oneDNN) threads itself on the same OpenMP pool.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/recurrent.h"

#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/gemm.h"

#include <cstring>

namespace dlc::rt::cpu {

namespace {
/// Elements of per-step work below which one thread does a step alone: each
/// element costs several exponentials, so the fork/join pays off early.
constexpr int64_t kStepGrain = 4096;

struct Workspace {
  float *gates, *hPrev, *cell, *tanhC;

  Workspace(float *memory, const LstmShape &s) {
    int64_t cells = s.batch * s.steps * s.units;
    gates = memory;
    hPrev = gates + 4 * cells;
    cell = hPrev + cells;
    tanhC = cell + cells;
  }
};

int64_t rowGrain(const LstmShape &s) { return std::max<int64_t>(1, kStepGrain / s.units); }

/// One row of a forward step: activates the gates |z| in place, stores c_t,
/// tanh(c_t) and (kStoreH) h_t. The gates are four disjoint slices of z, so
/// the loop carries no dependence (omp simd: GCC cannot prove it for a
/// runtime |units|).
template <bool kHasBias, bool kStoreH>
void forwardRow(int64_t units, float *z, const float *bias, const float *cPrev, float *c,
                float *tc, float *h) {
#pragma omp simd
  for (int64_t u = 0; u < units; ++u) {
    float zi = z[u], zf = z[units + u], zg = z[2 * units + u], zo = z[3 * units + u];
    if constexpr (kHasBias) {
      zi += bias[u];
      zf += bias[units + u];
      zg += bias[2 * units + u];
      zo += bias[3 * units + u];
    }
    float in = sigmoidApprox(zi), forget = sigmoidApprox(zf);
    float cand = tanhApprox(zg), out = sigmoidApprox(zo);
    float cellValue = forget * cPrev[u] + in * cand;
    float tanhCell = tanhApprox(cellValue);
    z[u] = in;
    z[units + u] = forget;
    z[2 * units + u] = cand;
    z[3 * units + u] = out;
    c[u] = cellValue;
    tc[u] = tanhCell;
    if constexpr (kStoreH)
      h[u] = out * tanhCell;
  }
}

/// Activates step |t|'s gates of rows [begin, end) and advances the state.
template <bool kHasBias>
void forwardStep(const LstmShape &s, int64_t t, const float *bias, float *y, Workspace &w,
                 int64_t begin, int64_t end) {
  const int64_t u4 = 4 * s.units, units = s.units, steps = s.steps;
  for (int64_t b = begin; b < end; ++b) {
    const int64_t row = b * steps + t;
    // At t = 0, c_{-1} = 0 is read from h_{-1}'s row of zeros.
    const float *cPrev = t > 0 ? w.cell + (row - 1) * units : w.hPrev + row * units;
    float *hNext = t + 1 < steps ? w.hPrev + (row + 1) * units : nullptr;
    float *yRow = nullptr;
    if (y && s.returnSequences)
      yRow = y + row * units;
    else if (y && t + 1 == steps)
      yRow = y + b * units;
    float *h = hNext ? hNext : yRow;
    float *z = w.gates + row * u4, *c = w.cell + row * units, *tc = w.tanhC + row * units;
    if (h)
      forwardRow<kHasBias, true>(units, z, bias, cPrev, c, tc, h);
    else
      forwardRow<kHasBias, false>(units, z, bias, cPrev, c, tc, nullptr);
    if (hNext && yRow)
      std::memcpy(yRow, hNext, size_t(units) * sizeof(float));
  }
}

/// One row of a backward step: turns the activated gates |z| into dz in
/// place and updates the row's dh (read) and dc (read and written).
template <bool kHasDy>
void backwardRow(int64_t units, float *z, const float *cPrev, const float *tc, const float *dy,
                 const float *dh, float *dc) {
#pragma omp simd
  for (int64_t u = 0; u < units; ++u) {
    float in = z[u], forget = z[units + u], cand = z[2 * units + u], out = z[3 * units + u];
    float dhv = dh[u];
    if constexpr (kHasDy)
      dhv += dy[u];
    float tanhCell = tc[u];
    float dcell = dc[u] + dhv * out * (1.0f - tanhCell * tanhCell);
    z[u] = dcell * cand * in * (1.0f - in);
    z[units + u] = dcell * cPrev[u] * forget * (1.0f - forget);
    z[2 * units + u] = dcell * in * (1.0f - cand * cand);
    z[3 * units + u] = dhv * tanhCell * out * (1.0f - out);
    dc[u] = dcell * forget;
  }
}

/// Turns step |t|'s activated gates of rows [begin, end) into dz, given the
/// running dh (without this step's dy) and dc.
void backwardStep(const LstmShape &s, int64_t t, const float *dy, Workspace &w, const float *dh,
                  float *dc, int64_t begin, int64_t end) {
  const int64_t u4 = 4 * s.units, units = s.units, steps = s.steps;
  for (int64_t b = begin; b < end; ++b) {
    const int64_t row = b * steps + t;
    const float *cPrev = t > 0 ? w.cell + (row - 1) * units : w.hPrev + row * units;
    const float *dyRow = nullptr;
    if (s.returnSequences)
      dyRow = dy + row * units;
    else if (t + 1 == steps)
      dyRow = dy + b * units;
    float *z = w.gates + row * u4;
    const float *tc = w.tanhC + row * units;
    if (dyRow)
      backwardRow<true>(units, z, cPrev, tc, dyRow, dh + b * units, dc + b * units);
    else
      backwardRow<false>(units, z, cPrev, tc, nullptr, dh + b * units, dc + b * units);
  }
}
} // namespace

size_t lstmWorkspaceBytes(const LstmShape &s) {
  return size_t(7 * s.batch * s.steps * s.units) * sizeof(float);
}

size_t lstmBackwardScratchBytes(const LstmShape &s) {
  return size_t(2 * s.batch * s.units) * sizeof(float);
}

void lstmForward(const LstmShape &s, const float *x, const float *kernel, const float *recurrent,
                 const float *bias, float *y, float *workspace) {
  if (s.batch == 0 || s.units == 0)
    return;
  if (s.steps == 0) { // Keras' zero initial state is the output
    if (y && !s.returnSequences)
      zeros(y, size_t(s.batch * s.units) * sizeof(float));
    return;
  }
  Workspace w(workspace, s);
  const int64_t u4 = 4 * s.units, units = s.units, steps = s.steps;
  sgemm(false, false, s.batch * steps, u4, s.features, 1.0f, x, s.features, kernel, u4, 0.0f,
        w.gates, u4);
  for (int64_t b = 0; b < s.batch; ++b)
    std::memset(w.hPrev + b * steps * units, 0, size_t(units) * sizeof(float));
  // Batch rows never interact: each thread runs every step on its own rows,
  // h·U included (oneDNN runs sequentially inside a parallel region), so the
  // recurrence forks once instead of twice per step.
  parallelBlocks(s.batch, rowGrain(s), [&](int64_t begin, int64_t end) {
    const int64_t first = begin * steps;
    for (int64_t t = 0; t < steps; ++t) {
      if (t > 0)
        sgemm(false, false, end - begin, u4, units, 1.0f, w.hPrev + (first + t) * units,
              steps * units, recurrent, u4, 1.0f, w.gates + (first + t) * u4, steps * u4);
      if (bias)
        forwardStep<true>(s, t, bias, y, w, begin, end);
      else
        forwardStep<false>(s, t, nullptr, y, w, begin, end);
    }
  });
}

void lstmBackward(const LstmShape &s, const float *x, const float *kernel, const float *recurrent,
                  const float *dy, float *workspace, float *dx, float *dkernel, float *drecurrent,
                  float *dbias, float *scratch) {
  const int64_t u4 = 4 * s.units, units = s.units, steps = s.steps;
  const int64_t rows = s.batch * steps;
  if (rows == 0 || units == 0) { // nothing flows: every gradient is zero
    if (dx)
      zeros(dx, size_t(rows * s.features) * sizeof(float));
    if (dkernel)
      zeros(dkernel, size_t(s.features * u4) * sizeof(float));
    if (drecurrent)
      zeros(drecurrent, size_t(units * u4) * sizeof(float));
    if (dbias)
      zeros(dbias, size_t(u4) * sizeof(float));
    return;
  }
  Workspace w(workspace, s);
  float *dh = scratch, *dc = scratch + s.batch * units;
  zeros(scratch, 2 * size_t(s.batch * units) * sizeof(float));
  parallelBlocks(s.batch, rowGrain(s), [&](int64_t begin, int64_t end) {
    const int64_t first = begin * steps;
    for (int64_t t = steps - 1; t >= 0; --t) {
      backwardStep(s, t, dy, w, dh, dc, begin, end);
      if (t > 0) // dh_{t-1} = dz_t · Uᵀ
        sgemm(false, true, end - begin, units, u4, 1.0f, w.gates + (first + t) * u4, steps * u4,
              recurrent, u4, 0.0f, dh + begin * units, units);
    }
  });
  const float *dz = w.gates;
  if (dx)
    sgemm(false, true, rows, s.features, u4, 1.0f, dz, u4, kernel, u4, 0.0f, dx, s.features);
  if (dkernel)
    sgemm(true, false, s.features, u4, rows, 1.0f, x, s.features, dz, u4, 0.0f, dkernel, u4);
  if (drecurrent)
    sgemm(true, false, units, u4, rows, 1.0f, w.hPrev, units, dz, u4, 0.0f, drecurrent, u4);
  if (dbias)
    parallelBlocks(u4, 64, [&](int64_t begin, int64_t end) {
      // Column sums by column ranges: no partials to combine, no races.
      for (int64_t g = begin; g < end; ++g)
        dbias[g] = 0.0f;
      for (int64_t r = 0; r < rows; ++r) {
        const float *dzRow = dz + r * u4;
        for (int64_t g = begin; g < end; ++g)
          dbias[g] += dzRow[g];
      }
    });
}

} // namespace dlc::rt::cpu
