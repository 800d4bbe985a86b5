//===- keras_weights.h - Keras weight files: HDF5 and .keras archives -----===//
//
// Reads the weight files Keras writes, through libhdf5, under dlc's
// parameter names (`<layer>/<param>`, Keras' own layer and weight names;
// layouts are Keras' too, so tensors are taken as they are):
//
//   legacy HDF5   model.save("m.h5"), model.save_weights("m.h5") of Keras 2,
//                 keras.applications' pretrained files: the root (or its
//                 `model_weights` group) lists `layer_names`, each layer
//                 group its `weight_names` ("block1_conv1/kernel:0",
//                 "sequential/dense/bias"); the last path component, less
//                 ":0", is the parameter name
//   Keras 3       model.save_weights("m.weights.h5"): `layers/<class>[_k]/
//                 vars/<i>` (a recurrent layer's under `cell/vars`), where
//                 <class> is the layer's class in snake case and k counts
//                 the layers of that class before it in their container (a
//                 nested model's under its own `layers/`), not the layer's
//                 name; variable i of a layer is its i-th parameter in
//                 Keras' order, which dlc's follows (kernel, bias; gamma,
//                 beta, moving_mean, moving_variance; kernel,
//                 recurrent_kernel, bias)
//   .keras        a zip archive holding model.weights.h5 (Keras 3)
//
// writeKerasH5 writes the legacy layout, which Keras 3's model.load_weights
// reads for any *.h5 name (it matches layers with weights in order, then
// each weight by shape).
//
// Weight files come from outside: every dataset's type and size are
// checked before reading, a malformed file is kDataLoss naming it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <map>
#include <string>
#include <vector>

namespace dlc::rt {

struct WeightTensor {
  std::vector<int64_t> shape;
  std::vector<float> values; // float32, whatever the file stored
};

/// Whether |path| starts like an HDF5 file or a zip archive (.keras).
bool looksLikeKerasFile(const std::string &path);

/// A layer of the model that loads from a Keras file.
struct KerasLayer {
  std::string name;                // dlc's (and Keras') layer name
  std::string layerClass;          // Keras' class in snake case: conv2d, dense, lstm
  std::vector<std::string> params; // in order: kernel, bias, ...
};

/// Reads |path|'s weights under dlc's names. |layers| are the model's
/// layers that load from it, in model order: Keras 3 files name layers by
/// class and position (the k-th conv2d is `conv2d_k`, counted per model
/// container) and number their variables, so the k-th layer of a class in
/// |layers| takes the file's k-th of that class.
Status readKerasWeights(const std::string &path, const std::vector<KerasLayer> &layers,
                        std::map<std::string, WeightTensor> *out);

struct KerasLayerWeights {
  std::string layer;
  std::vector<std::string> names; // "kernel", "bias", ...
  std::vector<const WeightTensor *> tensors;
};

/// Writes the legacy Keras HDF5 layout to |path| atomically (a temporary
/// file beside it, then a rename).
Status writeKerasH5(const std::string &path, const std::vector<KerasLayerWeights> &layers);

} // namespace dlc::rt
