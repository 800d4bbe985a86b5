//===- Recurrent.cpp - The LSTM in float64 --------------------------------===//
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/RoundingProbe.h"

#include <cmath>

namespace dlc::ref {

namespace {
double sigmoid(double v) { return approximated(1.0 / (1.0 + std::exp(-v))); }
} // namespace

RefTensor lstm(const RefTensor &x, const RefTensor &kernel, const RefTensor &recurrent,
               const RefTensor *bias, bool returnSequences) {
  int64_t n = x.dim(0), steps = x.dim(1), features = x.dim(2), units = recurrent.dim(0);
  int64_t gates = 4 * units;
  RefTensor y = returnSequences ? RefTensor({n, steps, units}) : RefTensor({n, units});
  std::vector<double> h(units), c(units), z(gates);
  for (int64_t b = 0; b < n; ++b) {
    std::fill(h.begin(), h.end(), 0.0);
    std::fill(c.begin(), c.end(), 0.0);
    for (int64_t t = 0; t < steps; ++t) {
      // z = x_t · kernel + h · recurrent_kernel + bias, gates [i | f | c | o].
      for (int64_t g = 0; g < gates; ++g) {
        double sum = bias ? (*bias)[g] : 0.0;
        for (int64_t i = 0; i < features; ++i)
          accumulate(sum, x[(b * steps + t) * features + i] * kernel[i * gates + g]);
        for (int64_t u = 0; u < units; ++u)
          accumulate(sum, h[u] * recurrent[u * gates + g]);
        z[g] = sum;
      }
      for (int64_t u = 0; u < units; ++u) {
        double input = sigmoid(z[u]), forget = sigmoid(z[units + u]);
        double candidate = approximated(std::tanh(z[2 * units + u])), output = sigmoid(z[3 * units + u]);
        c[u] = stored(forget * c[u] + input * candidate);
        h[u] = stored(output * approximated(std::tanh(c[u])));
        if (returnSequences)
          y[(b * steps + t) * units + u] = h[u];
      }
    }
    if (!returnSequences)
      for (int64_t u = 0; u < units; ++u)
        y[b * units + u] = h[u];
  }
  return y;
}

} // namespace dlc::ref
