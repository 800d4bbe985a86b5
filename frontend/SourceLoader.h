//===- SourceLoader.h - Load a .dl file and everything it imports --------===//
#pragma once

#include "frontend/AST.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <vector>

namespace dlc {

/// Every file of a program, the main one first, with one namespace of blocks
/// and models across them.
struct Program {
  std::vector<std::unique_ptr<ast::File>> files;
  llvm::StringMap<const ast::Block *> blocks;
  llvm::StringMap<const ast::Model *> models;

  const ast::File &main() const { return *files.front(); }
};

/// The bytes of the .dl file |path|: a regular file of at most 16 MiB (a
/// directory, FIFO, device or huge file is refused with a message in *error
/// before anything is read, so `import "/dev/zero"` cannot eat memory).
std::unique_ptr<llvm::MemoryBuffer> readSourceFile(llvm::StringRef path, std::string *error);

/// Reads |path| and its imports (relative to the importing file) into
/// |sourceMgr| and parses them. Missing files, import cycles, parse errors and
/// names defined twice are reported through the context's diagnostics. A
/// file already in |sourceMgr| under the same name is used as it is.
mlir::FailureOr<Program> loadProgram(llvm::StringRef path, llvm::SourceMgr &sourceMgr,
                                     mlir::MLIRContext *context);

} // namespace dlc
