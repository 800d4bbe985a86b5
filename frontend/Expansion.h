//===- Expansion.h - A model as a flat list of layer applications --------===//
//
// Expansion inlines blocks, unrolls loops, evaluates and binds every layer's
// arguments and resolves tensor names, so that naming and IR emission see a
// flat, checked list: what Keras' functional graph would hold.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Layers.h"
#include "frontend/SourceLoader.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc {

struct ModelInput {
  mlir::Location loc;
  std::string name;
  mlir::Type elementType;
  std::vector<int64_t> shape; // without the batch dimension
};

/// One layer application. Values are numbered: inputs first, then one per
/// instance.
struct LayerInstance {
  mlir::Location loc;
  const LayerKind *kind;
  mlir::DictionaryAttr options;
  std::optional<std::string> explicitName;
  mlir::Location nameLoc;
  std::string name; // decided by assignLayerNames
  bool trainable = true;
  std::optional<WeightsFile> weightsFile;
  std::vector<int> inputs;
  int output = -1;
};

struct ModelOutput {
  int value;
  std::string label; // the tensor's name in the model, empty when unnamed
};

struct Expansion {
  std::vector<ModelInput> inputs;
  std::vector<LayerInstance> layers;
  std::vector<ModelOutput> outputs;
};

mlir::FailureOr<Expansion> expandModel(const Program &program, const ast::Model &model);

/// Gives every layer its name: explicit names first (they must be unique),
/// then Keras' defaults `dense`, `dense_1`, ... skipping names taken.
mlir::LogicalResult assignLayerNames(Expansion &expansion);

} // namespace dlc
