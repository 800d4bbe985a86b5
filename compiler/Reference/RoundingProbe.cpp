//===- RoundingProbe.cpp - Monte Carlo arithmetic for the reference ------===//
#include "compiler/Reference/RoundingProbe.h"

#include <cstring>

namespace dlc::ref {

thread_local RoundingProbe *detail::activeProbe = nullptr;

namespace {
/// splitmix64's finalizer: a well-mixed bijection of one word.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
} // namespace

RoundingProbe::RoundingProbe(uint64_t seed)
    : previous(detail::activeProbe), key(mix((seed >> 1) + 0x9e3779b97f4a7c15ull)),
      sign(seed & 1 ? -1.0 : 1.0) {
  detail::activeProbe = this;
}

RoundingProbe::~RoundingProbe() { detail::activeProbe = previous; }

double RoundingProbe::draw(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  uint64_t z = mix(key ^ bits);
  return sign * (double(z >> 11) * 0x1p-52 - 1.0); // the top 53 bits, in [-1, 1)
}

double RoundingProbe::perturb(double value, double roundings) {
  return value * (1.0 + roundings * draw(value) * 0x1p-24);
}

double RoundingProbe::perturbFully(double value, double roundings) {
  return value * (1.0 + roundings * (draw(value) < 0 ? -0x1p-24 : 0x1p-24));
}

void stored(RefTensor &tensor) {
  if (!detail::activeProbe || tensor.integer)
    return;
  for (double &v : tensor.data)
    v = stored(v);
}

} // namespace dlc::ref
