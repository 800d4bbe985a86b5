//===- RoundingProbe.h - Monte Carlo arithmetic for the reference --------===//
//
// A float32 backend rounds every value it computes; the reference does not.
// To measure how much a model amplifies those roundings, the reference can
// move each value a float32 backend would round (every op's result, every
// running sum inside a contraction or reduction, the states kept inside the
// LSTM's steps) by a random relative amount of up to one float32 rounding,
// 2^-24: how far its results then move is the model's float32 noise (Monte
// Carlo arithmetic). Without a probe, stored() and accumulate() are exact.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include <cstdint>

namespace dlc::ref {

/// While one is alive on this thread, stored() perturbs.
class RoundingProbe {
public:
  explicit RoundingProbe(uint64_t seed);
  ~RoundingProbe();
  RoundingProbe(const RoundingProbe &) = delete;
  RoundingProbe &operator=(const RoundingProbe &) = delete;

  /// |value| times (1 + u 2^-24), u uniform in [-1, 1).
  double perturb(double value);

private:
  RoundingProbe *previous;
  uint64_t state;
};

namespace detail {
extern thread_local RoundingProbe *activeProbe;
} // namespace detail

/// |value| as a float32 backend stores it: itself, or perturbed under a probe.
inline double stored(double value) {
  return detail::activeProbe ? detail::activeProbe->perturb(value) : value;
}

/// sum += term, with the rounding of a float32 running sum under a probe.
inline void accumulate(double &sum, double term) { sum = stored(sum + term); }

void stored(RefTensor &tensor);

} // namespace dlc::ref
