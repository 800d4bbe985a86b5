//===- RefTensor.cpp - Dense float64 tensors ------------------------------===//
#include "compiler/Reference/RefTensor.h"

namespace dlc::ref {

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

RefTensor::RefTensor(std::vector<int64_t> shape, double fill)
    : shape(std::move(shape)), data(size_t(numElements(this->shape)), fill) {}

std::string RefTensor::shapeString() const {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace dlc::ref
