//===- RefTensor.h - Dense float64 tensors of the reference evaluator ----===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::ref {

/// A dense row-major tensor held in float64 whatever its declared element
/// type: the reference evaluator is an oracle, not a fast path. Integer
/// tensors (token ids, class labels) keep exact values up to 2^53.
struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  bool integer = false;

  RefTensor() = default;
  explicit RefTensor(std::vector<int64_t> shape, double fill = 0.0);

  int64_t rank() const { return int64_t(shape.size()); }
  int64_t dim(int64_t axis) const { return shape[axis < 0 ? axis + rank() : axis]; }
  int64_t size() const { return int64_t(data.size()); }
  double &operator[](int64_t i) { return data[i]; }
  double operator[](int64_t i) const { return data[i]; }

  /// "[2, 3, 4]".
  std::string shapeString() const;
};

int64_t numElements(const std::vector<int64_t> &shape);

} // namespace dlc::ref
