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

/// Views a tensor as [outer, channels, inner] around |axis| (for ops that work
/// along one axis: softmax, batch normalization, losses).
struct AxisSplit {
  int64_t outer = 1, channels, inner = 1;
  AxisSplit(const RefTensor &x, int64_t axis) : channels(x.dim(axis)) {
    int64_t normalized = axis < 0 ? axis + x.rank() : axis;
    for (int64_t i = 0; i < normalized; ++i)
      outer *= x.shape[i];
    for (int64_t i = normalized + 1; i < x.rank(); ++i)
      inner *= x.shape[i];
  }
  int64_t index(int64_t o, int64_t c, int64_t i) const { return (o * channels + c) * inner + i; }
};

} // namespace dlc::ref
