//===- dataset.cc - Labelled examples that training draws batches from ----===//
#include "runtime/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dlc::rt::data {
namespace {

template <typename T>
void convertRows(const uint8_t *base, int64_t rowElements, const int64_t *indices, int64_t count,
                 float *dst) {
  for (int64_t r = 0; r < count; ++r) {
    const uint8_t *src = base + size_t(indices[r]) * size_t(rowElements) * sizeof(T);
    float *row = dst + r * rowElements;
    for (int64_t i = 0; i < rowElements; ++i) {
      T v;
      std::memcpy(&v, src + size_t(i) * sizeof(T), sizeof(T));
      row[i] = float(v);
    }
  }
}

} // namespace

Status Dataset::gather(const int64_t *indices, int64_t count, const TensorView &inputs,
                       int32_t *labels) const {
  const std::vector<int64_t> &shape = exampleShape();
  bool fits = inputs.dtype == inputDType() && inputs.shape.size() == shape.size() + 1 &&
              inputs.shape[0] >= count && count >= 0;
  for (size_t i = 0; fits && i < shape.size(); ++i)
    fits = inputs.shape[i + 1] == shape[i];
  if (!fits)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name() + ": cannot gather " + std::to_string(count) + " examples of " +
                               dtypeName(inputDType()) + " " + shapeString(shape) + " into a " +
                               dtypeName(inputs.dtype) + " " + shapeString(inputs.shape) +
                               " buffer");
  if (count > 0 && (!inputs.data || !labels || !indices))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name() + ": null buffer in gather");
  for (int64_t i = 0; i < count; ++i)
    if (indices[i] < 0 || indices[i] >= size())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name() + ": example index " + std::to_string(indices[i]) +
                                 " out of range [0, " + std::to_string(size()) + ")");
  gatherChecked(indices, count, inputs.data, labels);
  return okStatus();
}

Status ArrayDataset::countClasses(const IdxArray &labels, const std::string &context,
                                  int64_t *out) {
  if (!idxTypeIsIntegral(labels.type))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           context + ": labels must be integers, got " + idxTypeName(labels.type) +
                               " (class ids 0, 1, 2, ...)");
  int64_t highest = -1;
  for (int64_t i = 0, n = labels.numElements(); i < n; ++i) {
    double v = labels.at(i);
    if (v < 0)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             context + ": label " + std::to_string(int64_t(v)) + " at index " +
                                 std::to_string(i) + " is negative (class ids start at 0)");
    highest = std::max(highest, int64_t(v));
  }
  *out = highest + 1;
  return okStatus();
}

Status ArrayDataset::create(std::string name, IdxArray images, IdxArray labels, int64_t numClasses,
                            std::shared_ptr<ArrayDataset> *out) {
  if (images.dims.size() < 2 || images.dims.size() > 4)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": images must be [N, H, W], [N, H, W, C] or [N, D], got " +
                               shapeString(images.dims));
  if (labels.dims.size() != 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name +
                                                             ": labels must be a vector [N], got " +
                                                             shapeString(labels.dims));
  if (labels.dims[0] != images.dims[0])
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": " + std::to_string(images.dims[0]) + " images but " +
                               std::to_string(labels.dims[0]) +
                               " labels (are the image and label files of the same split?)");
  if (images.dims[0] == 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": holds no examples");
  int64_t implied = 0;
  DLC_RETURN_IF_ERROR(countClasses(labels, name, &implied), "");
  if (implied > numClasses)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": label " + std::to_string(implied - 1) + " is outside the " +
                               std::to_string(numClasses) + " classes");
  if (images.type == IdxType::kF32 || images.type == IdxType::kF64)
    DLC_RETURN_IF_ERROR(requireFloat32Values(images.numElements(), images.numElements() / images.dims[0],
                                             [&](int64_t i) { return images.at(i); }, name),
                        "");
  auto ds = std::make_shared<ArrayDataset>();
  ds->name_ = std::move(name);
  ds->size_ = images.dims[0];
  ds->shape_.assign(images.dims.begin() + 1, images.dims.end());
  if (images.dims.size() == 3)
    ds->shape_.push_back(1); // grey images get NHWC's channel dimension
  ds->exampleElements_ = numElements(ds->shape_);
  ds->numClasses_ = numClasses;
  ds->labels_.resize(size_t(ds->size_));
  for (int64_t i = 0; i < ds->size_; ++i)
    ds->labels_[size_t(i)] = int32_t(labels.at(i));
  ds->images_ = std::move(images);
  *out = std::move(ds);
  return okStatus();
}

void ArrayDataset::gatherChecked(const int64_t *indices, int64_t count, void *inputs,
                                 int32_t *labels) const {
  float *dst = static_cast<float *>(inputs);
  const uint8_t *base = images_.data.data();
  const int64_t n = exampleElements_;
  switch (images_.type) {
  case IdxType::kU8: convertRows<uint8_t>(base, n, indices, count, dst); break;
  case IdxType::kI8: convertRows<int8_t>(base, n, indices, count, dst); break;
  case IdxType::kI16: convertRows<int16_t>(base, n, indices, count, dst); break;
  case IdxType::kI32: convertRows<int32_t>(base, n, indices, count, dst); break;
  case IdxType::kF32: convertRows<float>(base, n, indices, count, dst); break;
  case IdxType::kF64: convertRows<double>(base, n, indices, count, dst); break;
  }
  for (int64_t r = 0; r < count; ++r)
    labels[r] = labels_[size_t(indices[r])];
}

void SubsetDataset::gatherChecked(const int64_t *indices, int64_t count, void *inputs,
                                  int32_t *labels) const {
  std::vector<int64_t> shifted(indices, indices + count);
  for (int64_t &i : shifted)
    i += begin_;
  parent_->gatherChecked(shifted.data(), count, inputs, labels);
}

Status requireFloat32Values(int64_t count, int64_t perExample,
                            const std::function<double(int64_t)> &at, const std::string &what) {
  for (int64_t i = 0; i < count; ++i) {
    double v = at(i);
    if (std::isfinite(v) && std::fabs(v) <= 3.4028234663852886e38)
      continue;
    std::string value = std::isnan(v) ? "nan" : std::isinf(v) ? "inf" : std::to_string(v);
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           what + ": example " + std::to_string(i / perExample) + " holds " + value +
                               " at element " + std::to_string(i % perExample) +
                               (std::isfinite(v) ? ", beyond float32's range" : "") +
                               " (a model's inputs must be finite float32 numbers)");
  }
  return okStatus();
}

} // namespace dlc::rt::data
