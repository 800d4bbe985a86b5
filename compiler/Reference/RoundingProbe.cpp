//===- RoundingProbe.cpp - Monte Carlo arithmetic for the reference ------===//
#include "compiler/Reference/RoundingProbe.h"

namespace dlc::ref {

thread_local RoundingProbe *detail::activeProbe = nullptr;

RoundingProbe::RoundingProbe(uint64_t seed)
    : previous(detail::activeProbe), state(seed >> 1), sign(seed & 1 ? -1.0 : 1.0) {
  detail::activeProbe = this;
}

RoundingProbe::~RoundingProbe() { detail::activeProbe = previous; }

double RoundingProbe::draw() {
  // splitmix64: a small, well-mixed generator whose whole state is one word.
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return sign * (double(z >> 11) * 0x1p-52 - 1.0); // the top 53 bits, in [-1, 1)
}

double RoundingProbe::perturb(double value, double roundings) {
  return value * (1.0 + roundings * draw() * 0x1p-24);
}

double RoundingProbe::perturbFully(double value, double roundings) {
  return value * (1.0 + roundings * (draw() < 0 ? -0x1p-24 : 0x1p-24));
}

void stored(RefTensor &tensor) {
  if (!detail::activeProbe || tensor.integer)
    return;
  for (double &v : tensor.data)
    v = stored(v);
}

} // namespace dlc::ref
