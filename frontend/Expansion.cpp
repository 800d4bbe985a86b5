//===- Expansion.cpp - A model as a flat list of layer applications ------===//
#include "frontend/Expansion.h"
#include "frontend/Options.h"
#include "dialects/DL/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace dlc;
using ast::NameRef;
using ast::StmtList;

namespace {
constexpr size_t kMaxLayers = 100000;
constexpr int64_t kMaxLoopTrips = 1000000;
constexpr int64_t kMaxDimension = int64_t(1) << 31;

/// One model or block body being expanded.
struct Frame {
  const Scope *constants;
  llvm::StringMap<int> tensors; // named values of this body
  int previous = -1;            // value of the previous statement
  bool previousIsInput = false;
  int inputCount = 0;
  bool trainable = true;
  std::optional<WeightsFile> weightsFile;
  std::optional<std::vector<NameRef>> outputs;
  std::string directory; // of the file this body is written in, for weights paths
};

/// Where a block's result comes from and how it was called.
struct BlockCall {
  Location loc;
  const ast::Block *block;
  std::vector<int> inputs;
};

std::string directoryOf(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::sys::path::parent_path(file.getFilename().getValue()).str();
  return "";
}

FailureOr<Type> parseDtype(const ast::Stmt &stmt, MLIRContext *context) {
  StringRef dtype = stmt.dtype.empty() ? StringRef("float32") : StringRef(stmt.dtype);
  if (Type type = dl::elementTypeNamed(dtype, context))
    return type;
  InFlightDiagnostic diag = emitError(stmt.dtypeLoc) << "unknown element type '" << dtype << "'";
  std::vector<std::string> known;
  for (const dl::ElementTypeSpec &t : dl::elementTypes())
    known.push_back(t.name);
  if (auto match = dl::closestMatch(dtype, known))
    diag.attachNote() << "did you mean '" << *match << "'?";
  else
    diag.attachNote() << "element types: " << llvm::join(known, ", ");
  return failure();
}

class Expander {
public:
  explicit Expander(const Program &program) : program(program) {}

  FailureOr<Expansion> run(const ast::Model &model) {
    Scope constants;
    Frame frame{&constants};
    frame.directory = directoryOf(model.loc);
    if (failed(expandBody(model.body, frame, /*isModel=*/true)))
      return failure();
    if (result.inputs.empty()) {
      emitError(model.loc) << "model '" << model.name << "' has no input";
      return failure();
    }
    if (frame.outputs) {
      for (const NameRef &output : *frame.outputs) {
        FailureOr<int> value = lookupTensor(frame, output);
        if (failed(value))
          return failure();
        result.outputs.push_back({*value, output.name});
      }
    } else if (frame.previousIsInput || frame.previous < 0) {
      emitError(model.loc) << "model '" << model.name << "' has no layers";
      return failure();
    } else {
      result.outputs.push_back({frame.previous, ""});
    }
    return std::move(result);
  }

private:
  FailureOr<int> lookupTensor(const Frame &frame, const NameRef &ref) {
    auto it = frame.tensors.find(ref.name);
    if (it != frame.tensors.end())
      return it->second;
    InFlightDiagnostic diag = emitError(ref.loc) << "unknown tensor '" << ref.name << "'";
    std::vector<std::string> names;
    for (const auto &entry : frame.tensors)
      names.push_back(entry.getKey().str());
    if (auto match = dl::closestMatch(ref.name, names))
      diag.attachNote() << "did you mean '" << *match << "'?";
    else if (frame.constants->lookup(ref.name))
      diag.attachNote() << "'" << ref.name << "' is a block parameter, not a tensor";
    return failure();
  }

  int newValue() { return int(result.inputs.size() + valueCount++); }

  LogicalResult expandBody(const StmtList &body, Frame &frame, bool isModel) {
    for (const ast::Stmt &stmt : body)
      if (failed(expandStmt(stmt, frame, isModel)))
        return failure();
    return success();
  }

  LogicalResult expandStmt(const ast::Stmt &stmt, Frame &frame, bool isModel) {
    switch (stmt.kind) {
    case ast::Stmt::Kind::Input:
      return isModel ? expandModelInput(stmt, frame) : success(); // bound by the block call
    case ast::Stmt::Kind::Output:
      if (frame.outputs) {
        emitError(stmt.loc) << "outputs are already declared";
        return failure();
      }
      if (!isModel && stmt.outputs.size() != 1) {
        emitError(stmt.loc) << "a block returns one tensor, got " << stmt.outputs.size();
        return failure();
      }
      frame.outputs = stmt.outputs;
      return success();
    case ast::Stmt::Kind::For:
      return expandFor(stmt, frame, isModel);
    case ast::Stmt::Kind::Layer:
      if (frame.outputs) {
        emitError(stmt.loc) << "layers cannot follow 'output'";
        return failure();
      }
      return expandLayerStmt(stmt, frame);
    }
    return failure();
  }

  LogicalResult expandModelInput(const ast::Stmt &stmt, Frame &frame) {
    if (valueCount != 0) {
      emitError(stmt.loc) << "inputs must be declared before the layers";
      return failure();
    }
    if (!stmt.shape) {
      InFlightDiagnostic diag = emitError(stmt.loc) << "model input '" << stmt.name
                                                    << "' needs a shape";
      diag.attachNote() << "write it without the batch dimension, e.g. `input "
                        << stmt.name << ": [28, 28, 1]`";
      return failure();
    }
    if (frame.tensors.count(stmt.name)) {
      emitError(stmt.loc) << "input '" << stmt.name << "' is declared twice";
      return failure();
    }
    FailureOr<Type> elementType = parseDtype(stmt, stmt.loc.getContext());
    if (failed(elementType))
      return failure();
    ModelInput input{stmt.loc, stmt.name, *elementType, {}};
    int64_t elements = 1;
    for (const ast::ExprPtr &dimExpr : *stmt.shape) {
      FailureOr<Constant> dim = evaluate(*dimExpr, *frame.constants);
      if (failed(dim))
        return failure();
      if (dim->kind != Constant::Kind::Int || dim->intValue < 1 || dim->intValue >= kMaxDimension) {
        emitError(dim->loc) << "input dimensions must be integers from 1 to 2^31-1, got "
                            << dim->describe();
        return failure();
      }
      if (elements > dl::kMaxTensorElements / dim->intValue) {
        emitError(stmt.loc) << "input '" << stmt.name << "' has more than 2^40 elements per example";
        return failure();
      }
      elements *= dim->intValue;
      input.shape.push_back(dim->intValue);
    }
    if (input.shape.empty()) {
      emitError(stmt.loc) << "input '" << stmt.name << "' needs at least one dimension besides the batch";
      return failure();
    }
    int id = int(result.inputs.size());
    result.inputs.push_back(std::move(input));
    frame.tensors[stmt.name] = id;
    frame.previous = id;
    frame.previousIsInput = true;
    ++frame.inputCount;
    return success();
  }

  LogicalResult expandFor(const ast::Stmt &stmt, Frame &frame, bool isModel) {
    FailureOr<Constant> from = evaluate(*stmt.from, *frame.constants);
    if (failed(from))
      return failure();
    FailureOr<Constant> to = evaluate(*stmt.to, *frame.constants);
    if (failed(to))
      return failure();
    for (const Constant *bound : {&*from, &*to})
      if (bound->kind != Constant::Kind::Int) {
        emitError(bound->loc) << "loop bounds must be integers, got " << bound->describe();
        return failure();
      }
    if (to->intValue >= from->intValue && to->intValue - from->intValue >= kMaxLoopTrips) {
      emitError(stmt.loc) << "loop runs more than " << kMaxLoopTrips << " times";
      return failure();
    }
    for (int64_t i = from->intValue; i <= to->intValue; ++i) {
      if ((loopTrips += 1) > kMaxLoopTrips) {
        emitError(stmt.loc) << "loops run more than " << kMaxLoopTrips << " times in all";
        return failure();
      }
      Scope scope(frame.constants);
      Constant index(stmt.loc);
      index.intValue = i;
      scope.bind(stmt.name, index);
      const Scope *outer = frame.constants;
      frame.constants = &scope;
      LogicalResult expanded = expandBody(stmt.body, frame, isModel);
      frame.constants = outer;
      if (failed(expanded))
        return failure();
    }
    return success();
  }

  /// The single input of a non-merge layer or block: explicit `(x)` or the
  /// previous statement's value.
  FailureOr<std::vector<int>> layerInputs(const ast::Stmt &stmt, Frame &frame) {
    std::vector<int> inputs;
    if (stmt.inputs) {
      for (const NameRef &ref : *stmt.inputs) {
        FailureOr<int> value = lookupTensor(frame, ref);
        if (failed(value))
          return failure();
        inputs.push_back(*value);
      }
      return inputs;
    }
    if (frame.previous < 0) {
      emitError(stmt.calleeLoc) << "'" << stmt.callee << "' has no input: nothing comes before it";
      return failure();
    }
    if (frame.previousIsInput && frame.inputCount > 1) {
      InFlightDiagnostic diag = emitError(stmt.calleeLoc)
                                << "'" << stmt.callee << "' has no input: the model has "
                                << frame.inputCount << " inputs";
      diag.attachNote() << "apply it to one of them, e.g. " << stmt.callee << "(...)("
                        << result.inputs.front().name << ")";
      return failure();
    }
    inputs.push_back(frame.previous);
    return inputs;
  }

  /// Evaluates the arguments of a layer or block call, taking out the ones
  /// every layer has (name, trainable, weights) and, for merge layers, the
  /// tensors.
  struct CallArgs {
    std::vector<BoundArg> options;
    std::optional<Constant> name, trainable, weights, weightsLayout;
    std::vector<int> tensors;
  };

  FailureOr<CallArgs> evaluateArgs(const ast::Stmt &stmt, Frame &frame, bool merge) {
    CallArgs args;
    for (const ast::Arg &arg : stmt.args) {
      if (merge && arg.keyword.empty()) {
        if (arg.value->kind != ast::Expr::Kind::Name) {
          emitError(arg.loc) << "'" << stmt.callee << "' takes tensors by name, e.g. "
                             << stmt.callee << "(x, y)";
          return failure();
        }
        FailureOr<int> value = lookupTensor(frame, {arg.value->loc, arg.value->text});
        if (failed(value))
          return failure();
        args.tensors.push_back(*value);
        continue;
      }
      FailureOr<Constant> value = evaluate(*arg.value, *frame.constants);
      if (failed(value))
        return failure();
      std::optional<Constant> *common = arg.keyword == "name"        ? &args.name
                                        : arg.keyword == "trainable" ? &args.trainable
                                        : arg.keyword == "weights"   ? &args.weights
                                        : arg.keyword == "weights_layout" ? &args.weightsLayout
                                                                     : nullptr;
      if (!common) {
        args.options.push_back({arg.loc, arg.keyword, std::move(*value)});
        continue;
      }
      if (*common) {
        emitError(arg.loc) << "argument '" << arg.keyword << "' is given twice";
        return failure();
      }
      *common = std::move(*value);
    }
    if (args.name && args.name->kind != Constant::Kind::String) {
      emitError(args.name->loc) << "'name' must be a string, got " << args.name->describe();
      return failure();
    }
    if (args.name && args.name->text.empty()) {
      emitError(args.name->loc) << "'name' must not be empty";
      return failure();
    }
    if (args.name && args.name->text.find('/') != std::string::npos) {
      emitError(args.name->loc) << "layer names cannot contain '/' (it separates layer and parameter)";
      return failure();
    }
    if (args.trainable && args.trainable->kind != Constant::Kind::Bool) {
      emitError(args.trainable->loc) << "'trainable' must be true or false, got "
                                     << args.trainable->describe();
      return failure();
    }
    if (args.weights && (args.weights->kind != Constant::Kind::String || args.weights->text.empty())) {
      emitError(args.weights->loc) << "'weights' must name a weights file (.safetensors, Keras .h5 or .keras), got "
                                   << args.weights->describe();
      return failure();
    }
    if (args.weightsLayout) {
      if (args.weightsLayout->kind != Constant::Kind::Word ||
          (args.weightsLayout->text != "keras" && args.weightsLayout->text != "torch")) {
        emitError(args.weightsLayout->loc)
            << "'weights_layout' is keras (dlc's and Keras' names and layouts) or torch (a PyTorch "
               "state_dict saved as safetensors), got "
            << args.weightsLayout->describe();
        return failure();
      }
      if (!args.weights) {
        emitError(args.weightsLayout->loc) << "'weights_layout' says how to read the file of "
                                              "'weights=' in the same call; give both";
        return failure();
      }
    }
    return args;
  }

  void inherit(const CallArgs &args, Frame &frame, bool &trainable,
               std::optional<WeightsFile> &weightsFile) {
    trainable = frame.trainable && !(args.trainable && args.trainable->intValue == 0);
    weightsFile = frame.weightsFile;
    if (args.weights) {
      llvm::SmallString<256> path(frame.directory);
      llvm::sys::path::append(path, args.weights->text);
      if (llvm::sys::path::is_absolute(args.weights->text))
        path = args.weights->text;
      weightsFile = WeightsFile{path.str().str(),
                                args.weightsLayout && args.weightsLayout->text == "torch"};
    }
  }

  LogicalResult expandLayerStmt(const ast::Stmt &stmt, Frame &frame) {
    int output;
    if (const LayerKind *kind = findLayerKind(stmt.callee)) {
      FailureOr<int> value = expandLayer(stmt, *kind, frame);
      if (failed(value))
        return failure();
      output = *value;
    } else if (auto block = program.blocks.find(stmt.callee); block != program.blocks.end()) {
      FailureOr<int> value = expandBlock(stmt, *block->second, frame);
      if (failed(value))
        return failure();
      output = *value;
    } else {
      InFlightDiagnostic diag = emitError(stmt.calleeLoc) << "unknown layer '" << stmt.callee << "'";
      if (program.models.count(stmt.callee)) {
        diag.attachNote() << "'" << stmt.callee
                          << "' is a model; to reuse its layers, define them as a block";
        return failure();
      }
      std::vector<std::string> blocks;
      for (const auto &entry : program.blocks)
        blocks.push_back(entry.getKey().str());
      if (auto match = suggestLayer(stmt.callee, blocks))
        diag.attachNote() << "did you mean '" << *match << "'?";
      return failure();
    }
    if (stmt.target)
      frame.tensors[stmt.target->name] = output;
    frame.previous = output;
    frame.previousIsInput = false;
    return success();
  }

  FailureOr<int> expandLayer(const ast::Stmt &stmt, const LayerKind &kind, Frame &frame) {
    FailureOr<CallArgs> args = evaluateArgs(stmt, frame, kind.merge);
    if (failed(args))
      return failure();
    std::vector<int> inputs;
    if (kind.merge) {
      if (stmt.inputs) {
        emitError(stmt.loc) << "'" << kind.name << "' takes its tensors as arguments, e.g. "
                            << kind.name << "(x, y)";
        return failure();
      }
      if (args->tensors.size() < 2) {
        emitError(stmt.calleeLoc) << "'" << kind.name << "' needs at least 2 tensors, got "
                                  << args->tensors.size();
        return failure();
      }
      inputs = args->tensors;
    } else {
      FailureOr<std::vector<int>> single = layerInputs(stmt, frame);
      if (failed(single))
        return failure();
      if (single->size() != 1) {
        emitError(stmt.loc) << "'" << kind.name << "' takes one input, got " << single->size();
        return failure();
      }
      inputs = *single;
    }
    FailureOr<NamedAttrList> options = bindOptions(stmt.calleeLoc, kind.name, kind.options, args->options);
    if (failed(options))
      return failure();
    if (result.layers.size() >= kMaxLayers) {
      emitError(stmt.loc) << "model expands to more than " << kMaxLayers << " layers";
      return failure();
    }
    LayerInstance layer{stmt.calleeLoc, &kind, options->getDictionary(stmt.loc.getContext()),
                        std::nullopt, stmt.calleeLoc};
    if (args->name) {
      layer.explicitName = args->name->text;
      layer.nameLoc = args->name->loc;
    }
    inherit(*args, frame, layer.trainable, layer.weightsFile);
    layer.inputs = std::move(inputs);
    layer.output = newValue();
    result.layers.push_back(std::move(layer));
    return result.layers.back().output;
  }

  FailureOr<int> expandBlock(const ast::Stmt &stmt, const ast::Block &block, Frame &frame) {
    if (llvm::is_contained(activeBlocks, block.name)) {
      InFlightDiagnostic diag = emitError(stmt.calleeLoc)
                                << "block '" << block.name << "' applies itself";
      diag.attachNote(block.loc) << "'" << block.name << "' is defined here";
      return failure();
    }
    FailureOr<CallArgs> args = evaluateArgs(stmt, frame, /*merge=*/false);
    if (failed(args))
      return failure();
    if (args->name) {
      emitError(args->name->loc) << "a block application takes no name; name the layers inside";
      return failure();
    }
    // Bind block parameters positionally or by keyword; defaults may use
    // the parameters before them.
    auto scope = std::make_unique<Scope>();
    std::vector<bool> bound(block.params.size(), false);
    size_t position = 0;
    for (BoundArg &arg : args->options) {
      size_t index = position;
      if (arg.keyword.empty()) {
        if (position >= block.params.size()) {
          emitError(arg.loc) << "block '" << block.name << "' takes " << block.params.size()
                             << " argument" << (block.params.size() == 1 ? "" : "s") << ", got more";
          return failure();
        }
        ++position;
      } else {
        auto it = llvm::find_if(block.params, [&](const ast::BlockParam &p) { return p.name == arg.keyword; });
        if (it == block.params.end()) {
          InFlightDiagnostic diag = emitError(arg.loc) << "block '" << block.name
                                                       << "' has no parameter '" << arg.keyword << "'";
          std::vector<std::string> names;
          for (const ast::BlockParam &param : block.params)
            names.push_back(param.name);
          if (auto match = dl::closestMatch(arg.keyword, names))
            diag.attachNote() << "did you mean '" << *match << "'?";
          return failure();
        }
        index = it - block.params.begin();
      }
      if (bound[index]) {
        emitError(arg.loc) << "parameter '" << block.params[index].name << "' is given twice";
        return failure();
      }
      bound[index] = true;
      scope->bind(block.params[index].name, std::move(arg.value));
    }
    for (size_t i = 0; i < block.params.size(); ++i) {
      if (bound[i])
        continue;
      const ast::BlockParam &param = block.params[i];
      if (!param.defaultValue) {
        emitError(stmt.calleeLoc) << "block '" << block.name << "' is missing argument '"
                                  << param.name << "'";
        return failure();
      }
      FailureOr<Constant> value = evaluate(*param.defaultValue, *scope);
      if (failed(value))
        return failure();
      scope->bind(param.name, std::move(*value));
    }

    FailureOr<std::vector<int>> inputs = layerInputs(stmt, frame);
    if (failed(inputs))
      return failure();
    std::vector<const ast::Stmt *> declared;
    for (const ast::Stmt &inner : block.body)
      if (inner.kind == ast::Stmt::Kind::Input)
        declared.push_back(&inner);
    size_t expected = std::max<size_t>(declared.size(), 1);
    if (inputs->size() != expected) {
      emitError(stmt.loc) << "block '" << block.name << "' takes " << expected << " input"
                          << (expected == 1 ? "" : "s") << ", got " << inputs->size();
      return failure();
    }

    Frame inner{scope.get()};
    inner.directory = directoryOf(block.loc);
    inherit(*args, frame, inner.trainable, inner.weightsFile);
    for (size_t i = 0; i < declared.size(); ++i) {
      if (declared[i]->shape) {
        emitError(declared[i]->loc) << "block inputs take their shape from the caller; write `input "
                                    << declared[i]->name << "`";
        return failure();
      }
      inner.tensors[declared[i]->name] = (*inputs)[i];
    }
    inner.previous = inputs->back();
    inner.previousIsInput = true;
    inner.inputCount = 1;
    activeBlocks.push_back(block.name);
    LogicalResult expanded = expandBody(block.body, inner, /*isModel=*/false);
    activeBlocks.pop_back();
    if (failed(expanded))
      return failure();
    if (inner.outputs) {
      FailureOr<int> value = lookupTensor(inner, inner.outputs->front());
      if (failed(value))
        return failure();
      return *value;
    }
    return inner.previous;
  }

  const Program &program;
  Expansion result;
  size_t valueCount = 0;
  int64_t loopTrips = 0;
  std::vector<std::string> activeBlocks;
};
} // namespace

FailureOr<Expansion> dlc::expandModel(const Program &program, const ast::Model &model) {
  return Expander(program).run(model);
}

LogicalResult dlc::assignLayerNames(Expansion &expansion) {
  llvm::StringMap<Location> taken;
  for (LayerInstance &layer : expansion.layers) {
    if (!layer.explicitName)
      continue;
    auto [it, inserted] = taken.try_emplace(*layer.explicitName, layer.nameLoc);
    if (!inserted) {
      InFlightDiagnostic diag = emitError(layer.nameLoc)
                                << "layer name '" << *layer.explicitName << "' is used twice";
      diag.attachNote(it->second) << "first used here";
      return failure();
    }
    layer.name = *layer.explicitName;
  }
  llvm::StringMap<int> counters;
  for (LayerInstance &layer : expansion.layers) {
    if (layer.explicitName)
      continue;
    StringRef base = layer.kind->defaultName;
    std::string candidate;
    do {
      int count = counters[base]++;
      candidate = count == 0 ? base.str() : (base + "_" + Twine(count)).str();
    } while (taken.count(candidate));
    taken.try_emplace(candidate, layer.loc);
    layer.name = candidate;
  }
  return success();
}
