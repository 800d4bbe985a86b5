//===- RoundingProbe.h - Monte Carlo arithmetic for the reference --------===//
//
// A float32 backend rounds every value it computes; the reference does not.
// To measure how much a model amplifies those roundings, the reference can
// move each value a float32 backend would round (every op's result, every
// running sum inside a contraction or reduction, the states kept inside the
// LSTM's steps) by a random relative amount of up to one float32 rounding,
// 2^-24, and the results of transcendental functions by the few roundings a
// backend's fast forms are off by: how far its results then move is the
// model's float32 noise (Monte Carlo arithmetic). Without a probe, stored(),
// approximated() and accumulate() are exact.
//
// Probes come in mirrored pairs: seeds S and S ^ 1 draw the same random
// numbers with opposite signs, so a value the probes move toward a 16-bit
// rounding boundary in one is moved away in the other (fuzz seed
// 462419025, kept as regression lstm_sixteen_bit_flip: an LSTM output
// flipping one bf16 unit before a batch_norm over 4 rows moves one kernel
// gradient column by 2.7e-3 of the largest gradient; it flipped under 29 of
// 80 random probes and under one of 29 of 40 mirrored pairs, never both).
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

  /// |value| times (1 + |roundings| u 2^-24), u uniform in [-1, 1).
  double perturb(double value, double roundings = 1);

  /// |value| times (1 +- |roundings| 2^-24), the sign drawn at random: the
  /// farthest |roundings| can move it.
  double perturbFully(double value, double roundings);

private:
  /// A draw for |value|, uniform in [-1, 1) over values, negated in the
  /// mirrored probe. A backend rounds equal values alike (the same float32
  /// function of the same inputs), so the probe moves them alike too: the
  /// backend's rounding of a value repeated across a tensor (an augmented
  /// batch's fill, a padded border) moves everything made from it at once,
  /// which independent draws per element would rarely do (fuzz seed
  /// 608073000: a dense gradient's column, read as TF32, flipped at every
  /// fill position on cuda-sim; independent probes moved a few of them).
  double draw(double value);

  RoundingProbe *previous;
  uint64_t key; // the seed without its mirror bit, mixed once
  double sign;
};

namespace detail {
extern thread_local RoundingProbe *activeProbe;
} // namespace detail

/// |value| as a float32 backend stores it: itself, or perturbed under a probe.
inline double stored(double value) {
  return detail::activeProbe ? detail::activeProbe->perturb(value) : value;
}

/// How many float32 roundings a backend's exp, log, tanh and erf (and the
/// activations, softmax and losses built on them) may be off by: their fast
/// forms (the CPU's vectorised exp and tanh, CUDA's expf and tanhf) are
/// accurate to about 2 ulp, i.e. 4 roundings of 2^-24.
constexpr double kApproximationRoundings = 4;

/// The result of a transcendental function as a float32 backend computes
/// it: itself, or perturbed by kApproximationRoundings under a probe.
inline double approximated(double value) {
  return detail::activeProbe ? detail::activeProbe->perturb(value, kApproximationRoundings) : value;
}

/// How many float32 roundings a backend's value may be off by where the
/// program rounds it to 16 bits: the float32 arithmetic that made it (a few
/// ops, a fast tanh or exp) can put it on the other side of a 16-bit
/// rounding boundary than the exact value, flipping its 16-bit result by one
/// unit. Under a probe such values flip at random, so that the response
/// covers it (fuzz seed 450897055: gelu(approximate=true) into a float16
/// dense moved the kernel gradient 1.8e-4, four times what one float32
/// rounding before the 16-bit one explained).
constexpr double kSixteenBitRoundings = 16;

/// |value| before the program rounds it to 16 bits (or a dl.tf32 product
/// reads it as TF32), as a float32 backend computed it: itself, or moved by
/// kSixteenBitRoundings under a probe (all of them, so that a pair of probes
/// flips every value that close).
inline double beforeNarrowRounding(double value) {
  return detail::activeProbe ? detail::activeProbe->perturbFully(value, kSixteenBitRoundings) : value;
}

/// sum += term, with the rounding of a float32 running sum under a probe.
inline void accumulate(double &sum, double term) { sum = stored(sum + term); }

void stored(RefTensor &tensor);

} // namespace dlc::ref
