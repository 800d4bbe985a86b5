//===- initializers.h - Keras parameter initializers ----------------------===//
//
// Initial values are a pure function of (initializer, shape, seed), drawn
// with the counter-based generator, so a bundle compiled twice holds the same
// weights and every backend starts from the same point.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

/// Fills |out| (numElements(shape) floats) with Keras' |initializer|
/// ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
/// "lecun_normal", "orthogonal", "uniform", "normal", "zeros", "ones",
/// "lstm_bias"), fans computed as keras.initializers do.
Status initializeParameter(const std::string &initializer, const std::vector<int64_t> &shape,
                           uint64_t seed, float *out);

/// A per-parameter seed from the model seed and the parameter's name.
uint64_t parameterSeed(uint64_t modelSeed, const std::string &name);

/// Whether initializeParameter knows |initializer|.
bool isInitializer(const std::string &initializer);

} // namespace dlc::rt
