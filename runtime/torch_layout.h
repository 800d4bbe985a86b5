//===- torch_layout.h - PyTorch state_dict tensors as dlc parameters ------===//
//
// A weights file with `weights_layout=torch` holds a PyTorch state_dict
// (saved as safetensors): tensors named `<module>.<name>` in PyTorch's
// layouts. Parameter `<layer>/<param>` of a layer of Keras class |layerClass|
// comes from these tensors of module `<layer>`:
//
//   conv2d               kernel [kh, kw, in, out]  <- weight [out, in, kh, kw]
//                        bias                      <- bias
//   dense                kernel [in, out]          <- weight [out, in], its
//                        columns reordered from (C, H, W) to (H, W, C) when
//                        the dense reads a flattened image (PyTorch flattens
//                        NCHW, Keras NHWC)
//                        bias                      <- bias
//   batch_normalization  gamma, beta, moving_mean, moving_variance
//                        <- weight, bias, running_mean, running_var
//   embedding            embeddings                <- weight
//   lstm                 kernel [in, 4u]           <- weight_ih_l0 [4u, in]
//                        recurrent_kernel [u, 4u]  <- weight_hh_l0 [4u, u]
//                        bias [4u]                 <- bias_ih_l0 + bias_hh_l0
//                        (both order the gates i, f, g/c, o)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlc::rt {

/// What a tensor lookup gives: the tensor's shape and float32 values, or
/// kInvalidArgument when the file has no tensor of that name.
using TensorLookup =
    std::function<Status(const std::string &name, std::vector<int64_t> *shape, std::vector<float> *values)>;

/// Reads parameter |name| (`<layer>/<param>`) of |shape| of a |layerClass|
/// layer from a PyTorch state_dict through |lookup|, converted to dlc's
/// layout. |imageRows|: [H, W, C] when a dense kernel reads a flattened
/// image, else empty. Errors name the PyTorch tensor and both shapes.
Status readTorchParameter(const TensorLookup &lookup, const std::string &name,
                          const std::string &layerClass, const std::vector<int64_t> &shape,
                          const std::vector<int64_t> &imageRows, std::vector<float> *out);

} // namespace dlc::rt
