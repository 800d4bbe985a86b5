//===- OnnxMappings.h - ONNX nodes as dl functions ------------------------===//
//
// How the harness runs an ONNX node case: a dl function (inputs, and
// parameters too, as function arguments) with the layout conversions that
// bring its results back to ONNX's, a direct kernel call for ops without a dl
// counterpart, or the reason the case is skipped.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "OnnxCase.h"

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dlc::conformance {

/// Compares a result, brought back to ONNX's layout, with ONNX output |output|.
struct Check {
  size_t output;
  std::function<RefTensor(const RefTensor &)> toOnnx;
};

/// How a case runs: a dl function (or, for ops without one, a kernel call)
/// with one Check per result, or why it is skipped.
struct Plan {
  std::string skip;
  std::string mlir;
  std::vector<RefTensor> arguments;
  std::function<std::vector<RefTensor>()> direct;
  std::vector<Check> checks;
  /// Outputs the harness knows without dl (the all-true mask of inference
  /// dropout), compared like the others.
  std::vector<std::pair<size_t, RefTensor>> constants;
};

/// The plan for case |c|, by its op type.
Plan mapCase(const OnnxCase &c);

} // namespace dlc::conformance
