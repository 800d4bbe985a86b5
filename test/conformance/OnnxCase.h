//===- OnnxCase.h - ONNX node test cases on disk --------------------------===//
//
// An ONNX backend node test case (shared/conformance/onnx-node: index.json,
// case.json + raw little-endian tensors) read into float64 tensors, and the
// tensor helpers the harness converts layouts with.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::conformance {

using dlc::ref::RefTensor;
using json = nlohmann::json;

/// The case name caseNames() returns when index.json is unreadable.
inline const char *const kIndexUnreadable = "index_json_unreadable";

std::string caseRoot();

//===----------------------------------------------------------------------===//
// Cases on disk
//===----------------------------------------------------------------------===//

/// One input or output slot of an ONNX node; absent optional slots have
/// |present| false.
struct OnnxTensor {
  std::string name, dtype;
  bool present = false;
  std::vector<int64_t> shape;
  std::vector<double> data;

  bool isInteger() const { return dtype == "int64" || dtype == "int32"; }
  RefTensor ref() const {
    RefTensor t;
    t.shape = shape;
    t.data = data;
    t.integer = isInteger();
    return t;
  }
};

struct OnnxCase {
  std::string name, opType;
  int64_t opset = 0;
  json attributes = json::object();
  std::vector<OnnxTensor> inputs, outputs;

  bool has(const char *attr) const { return attributes.contains(attr); }
  int64_t intAttr(const char *attr, int64_t fallback) const {
    return has(attr) ? attributes[attr]["value"].get<int64_t>() : fallback;
  }
  double floatAttr(const char *attr, double fallback) const {
    return has(attr) ? attributes[attr]["value"].get<double>() : fallback;
  }
  std::string stringAttr(const char *attr, const std::string &fallback) const {
    return has(attr) ? attributes[attr]["value"].get<std::string>() : fallback;
  }
  std::vector<int64_t> intsAttr(const char *attr, std::vector<int64_t> fallback) const {
    return has(attr) ? attributes[attr]["value"].get<std::vector<int64_t>>() : fallback;
  }
  std::vector<std::string> stringsAttr(const char *attr) const {
    return has(attr) ? attributes[attr]["value"].get<std::vector<std::string>>()
                     : std::vector<std::string>{};
  }
  const OnnxTensor *input(size_t i) const {
    return i < inputs.size() && inputs[i].present ? &inputs[i] : nullptr;
  }
  const OnnxTensor *output(size_t i) const {
    return i < outputs.size() && outputs[i].present ? &outputs[i] : nullptr;
  }
};

/// Reads case directory |name| (case.json and its tensors) into |c|; returns
/// an error, empty on success.
std::string loadCase(const std::string &name, OnnxCase &c);

/// The case directories index.json lists, or one sentinel when it is unreadable.
std::vector<std::string> caseNames();

//===----------------------------------------------------------------------===//
// Layout conversion
//===----------------------------------------------------------------------===//

using Perm = std::vector<int64_t>;
inline const Perm kToNHWC{0, 2, 3, 1}, kToNCHW{0, 3, 1, 2}, kOIHWToHWIO{2, 3, 1, 0};

std::vector<int64_t> permuted(const std::vector<int64_t> &shape, const Perm &perm);

/// y[i0, ..., ik] = x at the index whose axis perm[j] is i_j (numpy's
/// transpose(x, perm)).
RefTensor transpose(const RefTensor &x, const Perm &perm);

RefTensor reshaped(RefTensor x, std::vector<int64_t> shape);

/// "[d0, d1, ...]".
std::string shapeText(const std::vector<int64_t> &shape);

} // namespace dlc::conformance
