//===- OnnxCase.cpp - ONNX node test cases on disk ------------------------===//
//
// Reads index.json, case.json and the raw little-endian .bin tensors (float32,
// float16, int32, int64, bool) into float64; transposes and reshapes tensors.
//
//===----------------------------------------------------------------------===//
#include "OnnxCase.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

namespace dlc::conformance {

std::string caseRoot() { return DLC_ONNX_NODE_DIR; }

//===----------------------------------------------------------------------===//
// Cases on disk
//===----------------------------------------------------------------------===//

namespace {

double halfToDouble(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  double value;
  if (exponent == 0)
    value = std::ldexp(double(mantissa), -24);
  else if (exponent == 31)
    value = mantissa ? std::nan("") : INFINITY;
  else
    value = std::ldexp(double(mantissa + 1024), exponent - 25);
  return (bits & 0x8000) ? -value : value;
}

/// Reads the raw little-endian tensor |entry| describes; returns an error.
std::string readTensor(const std::string &dir, const json &entry, OnnxTensor &tensor) {
  tensor.name = entry.value("name", "");
  tensor.present = entry.value("present", false);
  if (!tensor.present)
    return "";
  tensor.dtype = entry.at("dtype").get<std::string>();
  tensor.shape = entry.at("shape").get<std::vector<int64_t>>();
  size_t count = 1;
  for (int64_t dim : tensor.shape)
    count *= size_t(dim);
  size_t width = tensor.dtype == "float32" || tensor.dtype == "int32" ? 4
                 : tensor.dtype == "int64"                           ? 8
                 : tensor.dtype == "float16"                         ? 2
                 : tensor.dtype == "bool"                            ? 1
                                                                     : 0;
  if (!width)
    return "unknown dtype " + tensor.dtype + " of " + tensor.name;
  std::vector<char> bytes(count * width);
  if (count) {
    std::string path = dir + "/" + entry.at("file").get<std::string>();
    std::ifstream file(path, std::ios::binary);
    if (!file.read(bytes.data(), std::streamsize(bytes.size())))
      return "cannot read " + std::to_string(bytes.size()) + " bytes from " + path;
  }
  tensor.data.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const char *at = bytes.data() + i * width;
    if (tensor.dtype == "float32") {
      float v;
      std::memcpy(&v, at, 4);
      tensor.data[i] = v;
    } else if (tensor.dtype == "float16") {
      uint16_t v;
      std::memcpy(&v, at, 2);
      tensor.data[i] = halfToDouble(v);
    } else if (tensor.dtype == "int32") {
      int32_t v;
      std::memcpy(&v, at, 4);
      tensor.data[i] = double(v);
    } else if (tensor.dtype == "int64") {
      int64_t v;
      std::memcpy(&v, at, 8);
      tensor.data[i] = double(v);
    } else {
      tensor.data[i] = *at ? 1.0 : 0.0;
    }
  }
  return "";
}

} // namespace

std::string loadCase(const std::string &name, OnnxCase &c) {
  std::string dir = caseRoot() + "/" + name;
  std::ifstream file(dir + "/case.json");
  if (!file)
    return "cannot open " + dir + "/case.json";
  json doc = json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return dir + "/case.json is not valid JSON";
  c.name = name;
  c.opType = doc.at("op_type").get<std::string>();
  c.opset = doc.value("opset", int64_t(0));
  if (doc.contains("attributes"))
    c.attributes = doc["attributes"];
  for (auto [key, slots] : {std::pair{"inputs", &c.inputs}, std::pair{"outputs", &c.outputs}})
    for (const json &entry : doc.at(key)) {
      slots->emplace_back();
      std::string error = readTensor(dir, entry, slots->back());
      if (!error.empty())
        return error;
    }
  return "";
}

std::vector<std::string> caseNames() {
  std::ifstream file(caseRoot() + "/index.json");
  json index = file ? json::parse(file, nullptr, false) : json();
  if (!index.is_object() || !index.contains("cases"))
    return {kIndexUnreadable};
  std::vector<std::string> names;
  for (const json &entry : index["cases"])
    names.push_back(entry.at("name").get<std::string>());
  return names;
}

//===----------------------------------------------------------------------===//
// Layout conversion
//===----------------------------------------------------------------------===//

std::vector<int64_t> permuted(const std::vector<int64_t> &shape, const Perm &perm) {
  std::vector<int64_t> result;
  for (int64_t axis : perm)
    result.push_back(shape[axis]);
  return result;
}

RefTensor transpose(const RefTensor &x, const Perm &perm) {
  int64_t rank = x.rank();
  std::vector<int64_t> strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * x.shape[i + 1];
  RefTensor y(permuted(x.shape, perm));
  y.integer = x.integer;
  std::vector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < y.size(); ++flat) {
    int64_t from = 0;
    for (int64_t i = 0; i < rank; ++i)
      from += index[i] * strides[perm[i]];
    y[flat] = x[from];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < y.shape[i])
        break;
      index[i] = 0;
    }
  }
  return y;
}

RefTensor reshaped(RefTensor x, std::vector<int64_t> shape) {
  x.shape = std::move(shape);
  return x;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace dlc::conformance
