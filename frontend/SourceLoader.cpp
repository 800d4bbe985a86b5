//===- SourceLoader.cpp - Load a .dl file and everything it imports ------===//
#include "frontend/SourceLoader.h"
#include "frontend/Layers.h"
#include "frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace dlc;

namespace {
constexpr size_t kMaxImportDepth = 32;
constexpr uint64_t kMaxFileBytes = 16 << 20;
} // namespace

std::unique_ptr<llvm::MemoryBuffer> dlc::readSourceFile(StringRef path, std::string *error) {
  // stat, not open: opening a FIFO would wait for a writer.
  llvm::sys::fs::file_status status;
  if (std::error_code e = llvm::sys::fs::status(path, status)) {
    *error = "cannot open '" + path.str() + "': " + e.message();
    return nullptr;
  }
  if (status.type() == llvm::sys::fs::file_type::directory_file) {
    *error = "cannot read '" + path.str() + "': it is a directory, not a .dl file";
    return nullptr;
  }
  if (status.type() != llvm::sys::fs::file_type::regular_file) {
    *error = "cannot read '" + path.str() + "': not a regular file (a pipe or device); give a .dl file";
    return nullptr;
  }
  if (status.getSize() > kMaxFileBytes) {
    *error = "'" + path.str() + "' is larger than 16 MiB; .dl files are small text files";
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  if (std::error_code e = buffer.getError()) {
    *error = "cannot open '" + path.str() + "': " + e.message();
    return nullptr;
  }
  if ((*buffer)->getBufferSize() > kMaxFileBytes) { // grew after the stat
    *error = "'" + path.str() + "' is larger than 16 MiB; .dl files are small text files";
    return nullptr;
  }
  return std::move(*buffer);
}

namespace {

class Loader {
public:
  Loader(llvm::SourceMgr &sourceMgr, MLIRContext *context)
      : sourceMgr(sourceMgr), context(context) {}

  /// Loads |path|; |importLoc| is where it was imported (null for the main file).
  LogicalResult load(StringRef path, std::optional<Location> importLoc) {
    llvm::SmallString<256> canonical;
    if (llvm::sys::fs::real_path(path, canonical))
      canonical = path;
    if (llvm::is_contained(active, canonical.str())) {
      InFlightDiagnostic diag = emitError(*importLoc) << "import cycle: '" << path
                                                     << "' is already being imported";
      std::string chain;
      for (const std::string &file : active)
        chain += llvm::sys::path::filename(file).str() + " -> ";
      diag.attachNote() << "import chain: " << chain << llvm::sys::path::filename(path);
      return failure();
    }
    if (loaded.contains(canonical))
      return success();
    if (active.size() >= kMaxImportDepth) {
      emitError(*importLoc) << "imports nest more than " << kMaxImportDepth << " files deep";
      return failure();
    }
    auto report = [&](const Twine &message) {
      if (importLoc)
        emitError(*importLoc) << message;
      else
        emitError(UnknownLoc::get(context)) << message;
      return failure();
    };
    unsigned bufferId = findBuffer(path);
    if (!bufferId) {
      std::string error;
      std::unique_ptr<llvm::MemoryBuffer> buffer = readSourceFile(path, &error);
      if (!buffer)
        return report(error);
      bufferId = sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    }
    std::optional<ast::File> file = parseFile(sourceMgr, bufferId, context);
    if (!file)
      return failure();
    loaded.insert(canonical);
    active.push_back(canonical.str().str());
    program.files.push_back(std::make_unique<ast::File>(std::move(*file)));
    const ast::File &parsed = *program.files.back();
    StringRef directory = llvm::sys::path::parent_path(path);
    for (const ast::Import &import : parsed.imports) {
      llvm::SmallString<256> target(directory);
      if (llvm::sys::path::is_absolute(import.path))
        target = import.path;
      else
        llvm::sys::path::append(target, import.path);
      if (failed(load(target, import.loc)))
        return failure();
    }
    active.pop_back();
    return define(parsed);
  }

  Program take() { return std::move(program); }

private:
  /// A buffer the caller already added (e.g. to scan it for expected
  /// diagnostics before loading), or 0.
  unsigned findBuffer(StringRef path) const {
    for (unsigned id = 1; id <= sourceMgr.getNumBuffers(); ++id)
      if (sourceMgr.getMemoryBuffer(id)->getBufferIdentifier() == path)
        return id;
    return 0;
  }

  template <typename Decl>
  LogicalResult defineName(const Decl &decl, StringRef what) {
    if (findLayerKind(decl.name)) {
      emitError(decl.loc) << what << " '" << decl.name << "' has the name of a built-in layer";
      return failure();
    }
    auto previous = declared.find(decl.name);
    if (previous != declared.end()) {
      InFlightDiagnostic diag = emitError(decl.loc) << "'" << decl.name << "' is defined twice";
      diag.attachNote(previous->second) << "first defined here";
      return failure();
    }
    declared.try_emplace(decl.name, decl.loc);
    return success();
  }

  LogicalResult define(const ast::File &file) {
    for (const ast::Block &block : file.blocks) {
      if (failed(defineName(block, "block")))
        return failure();
      program.blocks[block.name] = &block;
    }
    for (const ast::Model &model : file.models) {
      if (failed(defineName(model, "model")))
        return failure();
      program.models[model.name] = &model;
    }
    return success();
  }

  llvm::SourceMgr &sourceMgr;
  MLIRContext *context;
  Program program;
  llvm::StringSet<> loaded;
  std::vector<std::string> active;
  llvm::StringMap<Location> declared;
};
} // namespace

FailureOr<Program> dlc::loadProgram(StringRef path, llvm::SourceMgr &sourceMgr,
                                    MLIRContext *context) {
  Loader loader(sourceMgr, context);
  if (failed(loader.load(path, std::nullopt)))
    return failure();
  return loader.take();
}
