//===- class_ids.h - Class ids of sparse losses, checked on the host ------===//
//
// A class id outside [0, classes) has no one-hot row: it would add nothing to
// the loss yet count in the mean, and train silently on a wrong target. Every
// path that feeds ids to a sparse loss checks them here first (the session for
// every device, the CPU loss, the trainer's host metrics), so the error names
// the value and the row wherever the batch came from.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/safetensors.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace dlc::rt {

/// Fails, naming the first bad value and its row, unless each of the |rows|
/// ids (i32, i64, or whole f32 values) is in [0, classes).
Status checkClassIds(const void *ids, DType type, int64_t rows, int64_t classes,
                     const std::string &what);

/// The class id of each of the |rows| one-hot rows of |classes| floats in
/// |oneHot| (one 1, the rest 0): a batch written for categorical_crossentropy
/// fed to a program that takes class ids (dlc-class-id-labels). Fails,
/// naming the row, where a row is not one-hot (smoothed or soft targets
/// need the rows themselves).
Status classIdsOfOneHotRows(const float *oneHot, int64_t rows, int64_t classes, int64_t *ids,
                            const std::string &what);

/// Whether |file| holds one-hot rows for a class-id input of |shape| (a
/// dimension below 0 matches any size): floats, shaped as the input plus
/// one dimension of classes.
bool holdsOneHotRowsFor(const SafetensorsTensor &file, const std::vector<int64_t> &shape);
/// The class ids of such a tensor's rows (classIdsOfOneHotRows), named
/// |what| in errors.
Status classIdsOfOneHotTensor(const SafetensorsTensor &file, const std::string &what, std::vector<int64_t> *ids);

/// A program input that a sparse loss reads as class ids.
struct ClassIdInput {
  size_t input;    // index into the program's inputs
  int64_t classes; // the loss's last prediction dimension
};
std::vector<ClassIdInput> classIdInputs(const fb::Program &program);

} // namespace dlc::rt
