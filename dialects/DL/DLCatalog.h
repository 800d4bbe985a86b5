//===- DLCatalog.h - Known kinds and options of the training setup -------===//
//
// One table says which losses, optimizers, metrics, data sources and data
// steps exist, their options, Keras' defaults and the legal ranges. The
// frontend fills defaults and reports misspellings from it; the verifier of
// dl.train_setup checks IR against it. The same OptionSpec describes layer
// arguments in the frontend.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/settings.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace dlc::dl {
class ConfigAttr;

enum class OptionType {
  Int,        // i64
  Float,      // f64 (an integer is accepted and converted)
  Bool,       // bool
  Word,       // one of OptionSpec::words, stored as a string
  String,     // any string
  Path,       // a file or directory: in a .dl file, relative to that file (made absolute)
  FloatOrList, // f64 or a list of f64 (per-channel values)
  IntOrPair,  // an integer or a pair (h, w), stored as [h, w]
  IntList,    // a list of integers (shapes)
  Rate,       // a positive f64, or a learning-rate schedule (a nested #dl.config)
};

/// A default value; Kind::None marks a required option, Kind::Absent an
/// optional one that stays unset (e.g. dropout's seed).
struct OptionDefault {
  enum class Kind { None, Absent, Int, Float, Bool, String };
  Kind kind = Kind::None;
  int64_t intValue = 0;
  double floatValue = 0;
  const char *text = "";

  static OptionDefault required() { return {}; }
  static OptionDefault absent() { return {Kind::Absent}; }
  static OptionDefault of(int64_t v) { return {Kind::Int, v}; }
  static OptionDefault of(int v) { return {Kind::Int, v}; }
  static OptionDefault of(double v) { return {Kind::Float, 0, v}; }
  static OptionDefault of(bool v) { return {Kind::Bool, v ? 1 : 0}; }
  static OptionDefault of(const char *v) { return {Kind::String, 0, 0, v}; }
};

/// A numeric range; each bound may be open or closed.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool minOpen = false, maxOpen = false;

  bool contains(double v) const;
  /// "in (0, 1]", "at least 1", "greater than 0" ...
  std::string describe() const;
};

struct OptionSpec {
  const char *name;
  OptionType type;
  OptionDefault defaultValue;
  Range range = {};
  std::vector<const char *> words = {};
};

struct KindSpec {
  const char *name;
  std::vector<OptionSpec> options;

  const OptionSpec *find(llvm::StringRef option) const;
};

enum class Category { Loss, Optimizer, Metric, DataSource, DataTransform, LossScale, Callback, Schedule };

/// "loss", "optimizer", "metric", "data source", "data transform".
llvm::StringRef categoryName(Category category);
llvm::ArrayRef<KindSpec> kindsOf(Category category);
const KindSpec *findKind(Category category, llvm::StringRef kind);

/// Whether data transform |kind| changes an example's shape (resize,
/// random_crop). The others keep it, so dl.augment runs them inside the
/// training step, on the device that trains (dlc-augment-on-device).
bool changesExampleShape(llvm::StringRef kind);

/// Whether data source |sourceKind| gives each example's target as a class
/// id, whatever its files hold (runtime/data/source.h): Fashion-MNIST, IDX
/// labels, the next word of a text, an image folder's sub-folder. The
/// others (npz, csv, ...) may hold one-hot rows or regression values.
bool givesClassIds(llvm::StringRef sourceKind);

/// Checks that |config| names a known kind of |category| and holds exactly its
/// options, each typed and in range. Reports the first problem through
/// |emitError|.
llvm::LogicalResult verifyConfig(Category category, ConfigAttr config,
                                 llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

/// |config| as the runtime's Setting (runtime/settings.h), which the
/// trainer, the CPU backend and the CUDA emitter decode with one decoder per
/// category (booleans as 0 or 1; other option types are left out).
rt::Setting settingOf(ConfigAttr config);

/// The state an optimizer keeps per parameter, in order (rt::optimizerSlots:
/// the one list); empty when |optimizer| does not decode.
std::vector<std::string> optimizerSlots(ConfigAttr optimizer);

/// An element type a model input may declare: its .dl name and how the
/// IR spells it. Float inputs other than float32 are cast to float32 where
/// they enter (an fp32 program computes in float32).
struct ElementTypeSpec {
  const char *name; // "bfloat16"
  mlir::Type (*type)(mlir::MLIRContext *context);
};
llvm::ArrayRef<ElementTypeSpec> elementTypes();
/// The element type called |name|, or null.
mlir::Type elementTypeNamed(llvm::StringRef name, mlir::MLIRContext *context);

/// The candidate closest to |word| by edit distance, if close enough to be a
/// plausible misspelling (for "did you mean ...?" hints).
std::optional<std::string> closestMatch(llvm::StringRef word,
                                        llvm::ArrayRef<std::string> candidates);

} // namespace dlc::dl
