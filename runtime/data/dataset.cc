//===- dataset.cc - Labelled examples that training draws batches from ----===//
#include "runtime/data/dataset.h"

#include "runtime/float16.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace dlc::rt::data {
namespace {

/// The class count of integer targets: one plus the largest, at least
/// |declared|; 0 for float targets and for integers with negative values
/// (a regression target, not class ids).
int64_t classCount(const HostArray &target, int64_t declared) {
  if (!isIntegerDType(target.dtype))
    return 0;
  double lowest = 0, highest = -1;
  for (int64_t i = 0, e = target.numElements(); i < e; ++i) {
    double v = target.at(i);
    lowest = i ? std::min(lowest, v) : v;
    highest = std::max(highest, v);
  }
  return lowest >= 0 && highest < double(INT32_MAX) ? std::max(declared, int64_t(highest) + 1) : 0;
}

} // namespace

Status Dataset::gather(const int64_t *indices, int64_t count, const std::vector<TensorView> &inputs,
                       const std::vector<TensorView> &targets) const {
  auto fits = [&](const Field &field, const TensorView &view, const std::string &what) -> Status {
    if (view.shape.empty() || view.shape[0] < count || count < 0 ||
        numElements(view.shape) / std::max<int64_t>(view.shape[0], 1) != numElements(field.shape) ||
        !convertible(field.dtype, view.dtype) || (count > 0 && !view.data))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name() + ": cannot gather " + std::to_string(count) + " " + what +
                                 " of " + dtypeName(field.dtype) + " " + shapeString(field.shape) +
                                 " into a " + dtypeName(view.dtype) + " " + shapeString(view.shape) +
                                 " buffer");
    return okStatus();
  };
  // The views' data pointers and dtypes, for gatherChecked.
  auto unpack = [&](const std::vector<Field> &fields, const std::vector<TensorView> &views,
                    const std::string &what, std::vector<void *> *pointers,
                    std::vector<DType> *types) -> Status {
    if (views.size() != fields.size())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name() + ": examples have " + std::to_string(fields.size()) + " " +
                                 what + ", asked for " + std::to_string(views.size()));
    for (size_t i = 0; i < views.size(); ++i) {
      const std::string which = views.size() > 1 ? what + " '" + fields[i].name + "'" : what;
      DLC_RETURN_IF_ERROR(fits(fields[i], views[i], which), "");
      pointers->push_back(views[i].data);
      types->push_back(views[i].dtype);
    }
    return okStatus();
  };
  std::vector<void *> inputPointers, targetPointers;
  std::vector<DType> inputTypes, targetTypes;
  DLC_RETURN_IF_ERROR(unpack(this->inputs(), inputs, "inputs", &inputPointers, &inputTypes), "");
  DLC_RETURN_IF_ERROR(unpack(this->targets(), targets, "targets", &targetPointers, &targetTypes), "");
  if (count > 0 && !indices)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name() + ": null indices in gather");
  for (int64_t i = 0; i < count; ++i)
    if (indices[i] < 0 || indices[i] >= size())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name() + ": example index " + std::to_string(indices[i]) +
                                 " out of range [0, " + std::to_string(size()) + ")");
  return gatherChecked(indices, count, inputPointers.data(), inputTypes.data(), targetPointers.data(),
                       targetTypes.data());
}

Status ArrayDataset::create(std::string name, std::vector<Input> inputs, std::vector<Input> targets,
                            int64_t numClasses, std::shared_ptr<ArrayDataset> *out) {
  if (inputs.empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": no input arrays");
  if (targets.empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": no target arrays");
  auto ds = std::make_shared<ArrayDataset>();
  const int64_t n = inputs[0].array.dims.empty() ? -1 : inputs[0].array.dims[0];
  auto check = [&](const std::string &what, const HostArray &a) -> Status {
    if (a.dims.empty())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name + ": " + what + " is a scalar, not an array of examples");
    if (a.dims[0] != n)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name + ": " + what + " holds " + std::to_string(a.dims[0]) +
                                 " examples but " + (inputs[0].name.empty() ? "the inputs" : "'" + inputs[0].name + "'") +
                                 " " + std::to_string(n) + " (are the arrays of the same split?)");
    if (a.bytes != size_t(a.numElements()) * dtypeSize(a.dtype))
      return DLC_MAKE_STATUS(StatusCode::kInternal, name + ": " + what + " has the wrong size");
    if (isFloatDType(a.dtype))
      DLC_RETURN_IF_ERROR(requireFloat32Values(a.numElements(), std::max<int64_t>(a.exampleElements(), 1),
                                               [&](int64_t i) { return a.at(i); }, name + " " + what),
                          "");
    return okStatus();
  };
  for (const Input &input : inputs) {
    DLC_RETURN_IF_ERROR(check(input.name.empty() ? "the inputs" : "input '" + input.name + "'",
                              input.array),
                        "");
    ds->fields_.push_back({input.name, input.array.dtype,
                           std::vector<int64_t>(input.array.dims.begin() + 1, input.array.dims.end())});
    ds->arrays_.push_back(input.array);
  }
  for (const Input &target : targets)
    DLC_RETURN_IF_ERROR(check(targets.size() == 1 ? "the targets" : "target '" + target.name + "'",
                              target.array),
                        "");
  if (n == 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": holds no examples");
  for (Input &target : targets) {
    const HostArray &a = target.array;
    ds->targetFields_.push_back({target.name.empty() ? "labels" : target.name, a.dtype,
                                 std::vector<int64_t>(a.dims.begin() + 1, a.dims.end())});
    ds->numClasses_.push_back(classCount(a, numClasses));
    ds->targetArrays_.push_back(std::move(target.array));
  }
  ds->name_ = std::move(name);
  ds->size_ = n;
  *out = std::move(ds);
  return okStatus();
}

Status ArrayDataset::gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                                   const DType *inputTypes, void *const *targets,
                                   const DType *targetTypes) const {
  auto copyRows = [&](const HostArray &array, void *dst, DType to) {
    const int64_t n = array.exampleElements();
    const size_t rowBytes = size_t(n) * dtypeSize(to);
    for (int64_t r = 0; r < count; ++r)
      convertElements(array, indices[r] * n, n, to, static_cast<uint8_t *>(dst) + size_t(r) * rowBytes);
  };
  for (size_t i = 0; i < arrays_.size(); ++i)
    copyRows(arrays_[i], inputs[i], inputTypes[i]);
  for (size_t t = 0; t < targetArrays_.size(); ++t)
    copyRows(targetArrays_[t], targets[t], targetTypes[t]);
  return okStatus();
}

Status SubsetDataset::gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                                    const DType *inputTypes, void *const *targets,
                                    const DType *targetTypes) const {
  std::vector<int64_t> shifted(indices, indices + count);
  for (int64_t &i : shifted)
    i += begin_;
  return parent_->gatherChecked(shifted.data(), count, inputs, inputTypes, targets, targetTypes);
}

Status requireFloat32Values(int64_t count, int64_t perExample,
                            const std::function<double(int64_t)> &at, const std::string &what) {
  for (int64_t i = 0; i < count; ++i) {
    double v = at(i);
    if (std::isfinite(v) && std::fabs(v) <= 3.4028234663852886e38)
      continue;
    char number[32];
    std::snprintf(number, sizeof number, "%g", v);
    std::string value = std::isnan(v) ? "nan" : std::isinf(v) ? "inf" : number;
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           what + ": example " + std::to_string(i / perExample) + " holds " + value +
                               " at element " + std::to_string(i % perExample) +
                               (std::isfinite(v) ? ", beyond float32's range" : "") +
                               " (a model's inputs must be finite float32 numbers)");
  }
  return okStatus();
}

} // namespace dlc::rt::data
