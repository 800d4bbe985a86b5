//===- pretrained_weights.h - Reading a model's pretrained weight files ---===//
//
// A layer or block called with `weights="FILE"` takes its parameters from
// FILE by name (`<layer>/<param>`): a safetensors file under dlc's names, or
// a Keras file (keras_weights.h: legacy HDF5, Keras 3 .weights.h5, .keras).
// The bundle writer embeds them at compile time and the session loads them
// when a bundle refers to a file instead; both read through this class, so
// both accept the same files and report the same errors.
//
// Every weight of a Keras file must go to a parameter: a layer the model
// lacks is a mistake (a renamed layer, the wrong file), not something to
// skip. A safetensors file may hold more (a checkpoint's optimizer state,
// another model's head: how a pretrained base is reused). With
// weights_layout=torch the safetensors file is a PyTorch state_dict,
// converted by torch_layout.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/keras_weights.h"
#include "runtime/safetensors.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace dlc::rt {

class PretrainedWeights {
public:
  struct Param {
    std::string name;       // <layer>/<param>
    std::string file;       // its weights file
    std::string layerClass; // its layer's Keras class
    /// "torch": the file is a PyTorch state_dict (torch_layout.h); else
    /// dlc's or Keras' names and layouts.
    std::string layout;
    std::vector<int64_t> imageRows; // torch: [H, W, C] of a dense reading a flattened image
  };
  /// |params|: the model's parameters that load from a file, in order.
  explicit PretrainedWeights(const std::vector<Param> &params);

  /// The values of parameter |name| of |shape| from |file|, as float32; a
  /// missing or mis-shaped weight is kInvalidArgument naming it and the file.
  Status read(const std::string &file, const std::string &name, const std::vector<int64_t> &shape,
              std::vector<float> *out);
  /// Fails, naming the weight, if a Keras file read so far holds a weight
  /// that no read() took.
  Status checkAllUsed() const;

private:
  std::map<std::string, std::vector<KerasLayer>> layers_; // per file, in model order
  std::map<std::string, Param> torch_;                    // by name: parameters of torch layout
  std::map<std::string, SafetensorsFile> safetensors_;
  std::map<std::string, std::map<std::string, WeightTensor>> keras_;
  std::map<std::string, std::set<std::string>> used_;
};

} // namespace dlc::rt
