//===- class_ids.cc - Class ids of sparse losses, checked on the host -----===//
#include "runtime/class_ids.h"

#include "runtime/float16.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt {

Status checkClassIds(const void *ids, DType type, int64_t rows, int64_t classes,
                     const std::string &what) {
  for (int64_t r = 0; r < rows; ++r) {
    double id;
    switch (type) {
    case DType::kI32: id = static_cast<const int32_t *>(ids)[r]; break;
    case DType::kI64: id = double(static_cast<const int64_t *>(ids)[r]); break;
    case DType::kF32: id = static_cast<const float *>(ids)[r]; break;
    default:
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             what + ": class ids must be int32, int64 or float32, got " +
                                 dtypeName(type));
    }
    if (id >= 0 && id < double(classes) && id == std::floor(id))
      continue;
    std::string value = type == DType::kI64 ? std::to_string(static_cast<const int64_t *>(ids)[r])
                        : type == DType::kI32 ? std::to_string(static_cast<const int32_t *>(ids)[r])
                                              : std::to_string(id);
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           what + ": class id " + value + " in row " + std::to_string(r) +
                               " is outside [0, " + std::to_string(classes) +
                               ") (the model's output has " + std::to_string(classes) +
                               " classes; sparse labels are class indices)");
  }
  return okStatus();
}

Status classIdsOfOneHotRows(const float *oneHot, int64_t rows, int64_t classes, int64_t *ids,
                            const std::string &what) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = oneHot + r * classes;
    int64_t ones = 0, zeros = 0;
    for (int64_t c = 0; c < classes; ++c) {
      ones += row[c] == 1.0f;
      zeros += row[c] == 0.0f;
      if (row[c] == 1.0f)
        ids[r] = c;
    }
    if (ones != 1 || ones + zeros != classes)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             what + ": row " + std::to_string(r) +
                                 " is not one-hot, and the program takes class ids (its loss is "
                                 "categorical_crossentropy over a source of class ids; give the ids, or "
                                 "train from a source of rows such as npz)");
  }
  return okStatus();
}

bool holdsOneHotRowsFor(const SafetensorsTensor &file, const std::vector<int64_t> &shape) {
  if (!isFloatDType(file.dtype) || shape.empty() || file.shape.size() != shape.size() + 1)
    return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] >= 0 && file.shape[i] != shape[i])
      return false;
  return true;
}

Status classIdsOfOneHotTensor(const SafetensorsTensor &file, const std::string &what, std::vector<int64_t> *ids) {
  std::vector<float> rows;
  DLC_RETURN_IF_ERROR(readFloat32(file, &rows), what);
  const int64_t classes = file.shape.back();
  ids->assign(rows.size() / size_t(std::max<int64_t>(classes, 1)), 0);
  return classIdsOfOneHotRows(rows.data(), int64_t(ids->size()), classes, ids->data(), what);
}

std::vector<ClassIdInput> classIdInputs(const fb::Program &program) {
  std::vector<ClassIdInput> out;
  if (!program.kernels() || !program.inputs() || !program.buffers())
    return out;
  auto configOf = [](const fb::Op &op) -> std::string {
    if (op.attrs())
      for (const fb::Attr *a : *op.attrs())
        if (a->name()->str() == "config" && a->text())
          return a->text()->str();
    return "";
  };
  for (const fb::Kernel *k : *program.kernels())
    for (const fb::Op *op : *k->ops()) {
      if ((op->kind() != fb::OpKind::loss && op->kind() != fb::OpKind::loss_grad) || !op->inputs() ||
          op->inputs()->size() < 2 ||
          configOf(*op) != "sparse_categorical_crossentropy")
        continue;
      uint32_t prediction = op->inputs()->Get(0), labels = op->inputs()->Get(1);
      if (prediction >= program.buffers()->size())
        continue;
      const auto *shape = program.buffers()->Get(prediction)->shape();
      int64_t classes = shape && shape->size() ? shape->Get(shape->size() - 1) : 1;
      for (size_t i = 0; i < program.inputs()->size(); ++i) {
        bool seen = false;
        for (const ClassIdInput &c : out)
          seen |= c.input == i;
        if (program.inputs()->Get(uint32_t(i)) == labels && !seen)
          out.push_back({i, classes});
      }
    }
  return out;
}

} // namespace dlc::rt
