//===- counter_rng.h - Random numbers that every backend reproduces -------===//
//
// Dropout masks and other random draws are a pure function of (seed, stream,
// index): no generator state, so the reference evaluator, the CPU backend and
// every CUDA thread compute the same mask for the same element without
// communicating. splitmix64's finalizer is a good 64-bit mixer and costs a few
// integer operations.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace dlc::rt {

constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A uniform double in [0, 1) for element |index| of draw |stream| (e.g. the
/// training step) under |seed|.
constexpr double uniform01(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t key = mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ull));
  return double(mix64(key + index * 0x9e3779b97f4a7c15ull) >> 11) * 0x1.0p-53;
}

} // namespace dlc::rt
