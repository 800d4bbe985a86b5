//===- AST.h - Syntax tree of the .dl model language --------------------===//
//
// The parser's output: a faithful tree of one .dl file, with an MLIR location
// (file:line:col) on every node. No names are resolved and no defaults are
// filled here; ModelBuilder does that while emitting the dl dialect.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Location.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument: positional when |keyword| is empty.
struct Arg {
  mlir::Location loc;
  std::string keyword;
  ExprPtr value;
};

/// An expression: literals, names, lists/tuples, dicts, calls and arithmetic.
struct Expr {
  enum class Kind { Int, Float, String, Bool, Name, List, Tuple, Dict, Call, Neg, Binary };
  Kind kind;
  mlir::Location loc;
  int64_t intValue = 0;   // Int; Bool (0/1)
  double floatValue = 0;  // Float
  std::string text;       // String value, Name, Call callee, Binary operator ("+", "-", "*", "/")
  std::vector<ExprPtr> operands; // List/Tuple items, Neg operand, Binary lhs and rhs
  std::vector<Arg> args;  // Call arguments; Dict entries (the key as keyword)

  Expr(Kind kind, mlir::Location loc) : kind(kind), loc(loc) {}
};

/// A reference to a named value, e.g. the `x` in `conv2d(32, 3)(x)`.
struct NameRef {
  mlir::Location loc;
  std::string name;
};

struct Stmt;
using StmtList = std::vector<Stmt>;

/// One statement of a model or block body.
///   Input:  `input image: [28, 28, 1]`, `input tokens: int32[20]`, in a block `input x`
///   Output: `output y, z`
///   Layer:  `[target =] callee(args) [(inputs)]`, e.g. `h = dense(64)(x)`, `flatten()`,
///           `y = add(a, b)`
///   For:    `for i in 1..n { ... }` (inclusive bounds)
struct Stmt {
  enum class Kind { Input, Output, Layer, For };
  Kind kind;
  mlir::Location loc;

  // Input
  std::string name;                  // also the For loop variable
  std::string dtype;                 // empty when not written (float32)
  mlir::Location dtypeLoc;
  std::optional<std::vector<ExprPtr>> shape; // absent for block inputs

  // Output
  std::vector<NameRef> outputs;

  // Layer
  std::optional<NameRef> target;     // `target =`
  mlir::Location calleeLoc;
  std::string callee;
  std::vector<Arg> args;
  std::optional<std::vector<NameRef>> inputs; // explicit `(x, y)` application

  // For
  ExprPtr from, to;
  StmtList body;

  Stmt(Kind kind, mlir::Location loc)
      : kind(kind), loc(loc), dtypeLoc(loc), calleeLoc(loc) {}
};

/// `block name(param, param = default) { body }`
struct BlockParam {
  mlir::Location loc;
  std::string name;
  ExprPtr defaultValue; // may be null
};

struct Block {
  mlir::Location loc;
  std::string name;
  std::vector<BlockParam> params;
  StmtList body;
};

/// `model name { body }`
struct Model {
  mlir::Location loc;
  std::string name;
  StmtList body;
};

/// `key = value` inside `train` or `data`.
struct Setting {
  mlir::Location loc;
  std::string key;
  ExprPtr value;
};

/// `data { settings and steps }`; steps are calls such as `random_flip(horizontal)`,
/// kept in source order.
struct DataSection {
  mlir::Location loc;
  std::vector<Setting> settings;
  std::vector<ExprPtr> steps; // each of Kind::Call
};

/// `train model_name { settings; data { ... } }`
struct Train {
  mlir::Location loc;
  std::string model;
  mlir::Location modelLoc;
  std::vector<Setting> settings;
  std::optional<DataSection> data;
};

/// `import "path.dl"`
struct Import {
  mlir::Location loc;
  std::string path;
};

/// One parsed .dl file, declarations in source order per kind.
struct File {
  std::string path;
  std::vector<Import> imports;
  std::vector<Block> blocks;
  std::vector<Model> models;
  std::vector<Train> trains;
};

/// Writes an indented dump of |file| with every node's location (for `dlc --emit=ast`).
void dump(const File &file, llvm::raw_ostream &os);

} // namespace dlc::ast
