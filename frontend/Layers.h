//===- Layers.h - The layers of the .dl language --------------------------===//
//
// One table entry per layer: its .dl spelling, Keras' default layer name, its
// arguments with Keras' defaults, and how it becomes dl ops and parameters.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLCatalog.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OperationSupport.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc {

/// Where a layer's parameters come from: `weights="FILE"`, with
/// `weights_layout=torch` a PyTorch state_dict (runtime/torch_layout.h).
struct WeightsFile {
  std::string path;
  bool torchLayout = false;
};

/// A layer application with its arguments bound and its name decided.
struct LayerCall {
  mlir::Location loc;
  std::string name;
  mlir::DictionaryAttr options;
  bool trainable = true;
  std::optional<WeightsFile> weightsFile;
  llvm::SmallVector<mlir::Value> inputs;
  /// Keras' class of the layer in snake case, its default-name prefix
  /// (conv2d, batch_normalization): how Keras 3 weight files address layers.
  std::string layerClass;
};

/// Creates parameters (at module level) and ops (in the function) for layers.
class LayerEmitter {
public:
  LayerEmitter(mlir::ModuleOp module, mlir::OpBuilder &builder) : module(module), builder(builder) {}

  /// Declares `<layer>/<suffix>` and returns its value inside the function.
  mlir::Value param(const LayerCall &call, llvm::StringRef suffix, llvm::ArrayRef<int64_t> shape,
                    mlir::Type elementType, llvm::StringRef initializer, bool trainable = true);

  /// Creates |OpTy| with result types from its shape function; shape errors
  /// are reported at |call|'s location.
  template <typename OpTy>
  mlir::FailureOr<mlir::Value> create(const LayerCall &call, mlir::ValueRange operands,
                                      llvm::ArrayRef<mlir::NamedAttribute> attributes = {});

  /// Applies a Keras activation by name ("linear" adds nothing).
  mlir::FailureOr<mlir::Value> activation(const LayerCall &call, mlir::Value input,
                                          llvm::StringRef name);

  mlir::OpBuilder &getBuilder() { return builder; }

private:
  mlir::ModuleOp module;
  mlir::OpBuilder &builder;
};

struct LayerKind {
  const char *name;        // as written in .dl
  const char *defaultName; // Keras' default layer name
  std::vector<dl::OptionSpec> options;
  /// Merge layers take their input tensors as positional arguments.
  bool merge = false;
  mlir::FailureOr<mlir::Value> (*emit)(LayerEmitter &, const LayerCall &);
};

llvm::ArrayRef<LayerKind> layerKinds();
const LayerKind *findLayerKind(llvm::StringRef name);

/// The .dl layer closest to |name|, also matching Keras spellings such as
/// `MaxPooling2D` or `max_pooling2d` (for "did you mean").
std::optional<std::string> suggestLayer(llvm::StringRef name,
                                        llvm::ArrayRef<std::string> moreCandidates);

//===----------------------------------------------------------------------===//
// Implementation of the template
//===----------------------------------------------------------------------===//

template <typename OpTy>
mlir::FailureOr<mlir::Value> LayerEmitter::create(const LayerCall &call, mlir::ValueRange operands,
                                                  llvm::ArrayRef<mlir::NamedAttribute> attributes) {
  mlir::OperationState state(call.loc, OpTy::getOperationName());
  state.addOperands(operands);
  state.addAttributes(attributes);
  llvm::SmallVector<mlir::Type> resultTypes;
  // Properties must be populated before the shape function reads them.
  mlir::Operation *probe = mlir::Operation::create(state);
  bool ok = mlir::succeeded(OpTy::inferReturnTypes(
      builder.getContext(), call.loc, probe->getOperands(), probe->getAttrDictionary(),
      probe->getPropertiesStorage(), probe->getRegions(), resultTypes));
  probe->destroy();
  if (!ok)
    return mlir::failure();
  state.addTypes(resultTypes);
  return builder.create(state)->getResult(0);
}

} // namespace dlc
