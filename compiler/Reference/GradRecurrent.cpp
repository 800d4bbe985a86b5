//===- GradRecurrent.cpp - Backpropagation through time of the LSTM -------===//
//
// Recomputes the forward pass of lstm() (Recurrent.cpp) keeping every step's
// gates and cell state, then walks the steps backwards:
//
//   h_t = o tanh(c_t),  c_t = f c_{t-1} + i g,
//   z = x_t · kernel + h_{t-1} · recurrent + bias,  gates [i | f | g | o],
//   i, f, o = sigmoid(z_.), g = tanh(z_g).
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/GradKernels.h"
#include "compiler/Reference/RoundingProbe.h"

#include <cmath>

namespace dlc::ref {

namespace {
double sigmoid(double v) { return approximated(1.0 / (1.0 + std::exp(-v))); }
} // namespace

/// dbias is returned even without a bias (the gradient of a zero bias).
LstmGrads lstmGrad(const RefTensor &x, const RefTensor &kernel, const RefTensor &recurrent,
                   const RefTensor *bias, const RefTensor &dy, bool returnSequences) {
  int64_t n = x.dim(0), steps = x.dim(1), features = x.dim(2), units = recurrent.dim(0);
  int64_t gates = 4 * units;
  LstmGrads grads{RefTensor(x.shape), RefTensor(kernel.shape), RefTensor(recurrent.shape),
                  RefTensor({gates})};
  // Per step t: activated gates [i | f | g | o], and h and c after step t
  // (index t + 1; index 0 holds the zero initial state).
  std::vector<double> act(steps * gates), h((steps + 1) * units), c((steps + 1) * units);
  std::vector<double> dh(units), dc(units), dz(gates);
  for (int64_t b = 0; b < n; ++b) {
    const double *xb = x.data.data() + b * steps * features;
    std::fill(h.begin(), h.end(), 0.0);
    std::fill(c.begin(), c.end(), 0.0);
    for (int64_t t = 0; t < steps; ++t) {
      double *a = act.data() + t * gates;
      for (int64_t g = 0; g < gates; ++g) {
        double sum = bias ? (*bias)[g] : 0.0;
        for (int64_t i = 0; i < features; ++i)
          accumulate(sum, xb[t * features + i] * kernel[i * gates + g]);
        for (int64_t u = 0; u < units; ++u)
          accumulate(sum, h[t * units + u] * recurrent[u * gates + g]);
        a[g] = stored((g >= 2 * units && g < 3 * units) ? approximated(std::tanh(sum)) : sigmoid(sum));
      }
      for (int64_t u = 0; u < units; ++u) {
        double cell = stored(a[units + u] * c[t * units + u] + a[u] * a[2 * units + u]);
        c[(t + 1) * units + u] = cell;
        h[(t + 1) * units + u] = stored(a[3 * units + u] * approximated(std::tanh(cell)));
      }
    }

    std::fill(dh.begin(), dh.end(), 0.0);
    std::fill(dc.begin(), dc.end(), 0.0);
    for (int64_t t = steps - 1; t >= 0; --t) {
      if (returnSequences)
        for (int64_t u = 0; u < units; ++u)
          dh[u] += dy[(b * steps + t) * units + u];
      else if (t == steps - 1)
        for (int64_t u = 0; u < units; ++u)
          dh[u] += dy[b * units + u];
      const double *a = act.data() + t * gates;
      for (int64_t u = 0; u < units; ++u) {
        double in = a[u], forget = a[units + u], cand = a[2 * units + u], out = a[3 * units + u];
        double tc = stored(approximated(std::tanh(c[(t + 1) * units + u])));
        double dcell = stored(dc[u] + dh[u] * out * (1.0 - tc * tc));
        dz[u] = stored(dcell * cand * in * (1.0 - in));
        dz[units + u] = stored(dcell * c[t * units + u] * forget * (1.0 - forget));
        dz[2 * units + u] = stored(dcell * in * (1.0 - cand * cand));
        dz[3 * units + u] = stored(dh[u] * tc * out * (1.0 - out));
        dc[u] = stored(dcell * forget); // to step t - 1
      }
      for (int64_t g = 0; g < gates; ++g) {
        accumulate(grads.dbias[g], dz[g]);
        for (int64_t i = 0; i < features; ++i)
          accumulate(grads.dkernel[i * gates + g], xb[t * features + i] * dz[g]);
        for (int64_t u = 0; u < units; ++u)
          accumulate(grads.drecurrent[u * gates + g], h[t * units + u] * dz[g]);
      }
      for (int64_t i = 0; i < features; ++i) {
        double sum = 0;
        for (int64_t g = 0; g < gates; ++g)
          accumulate(sum, kernel[i * gates + g] * dz[g]);
        grads.dx[(b * steps + t) * features + i] = sum;
      }
      for (int64_t u = 0; u < units; ++u) {
        double sum = 0;
        for (int64_t g = 0; g < gates; ++g)
          accumulate(sum, recurrent[u * gates + g] * dz[g]);
        dh[u] = sum; // to step t - 1
      }
    }
  }
  return grads;
}

} // namespace dlc::ref
