//===- KernelRegistry.h - Every way a target runs a kernel group ----------===//
//
// The one registry of kernel families: for each target, the implementations
// that can run the ops of a dl.fused group, what each runs, its launch shape
// and its limits. dlc-fuse asks it whether a group may be formed (every
// target can run it), dlc-select-kernels records on each group which
// families run it, and code generation and program lowering read that
// record: nothing downstream matches op names to rediscover the choice.
//
// A family runs consecutive ops of a group as one call. A CUDA family runs a
// whole group as one launch (its families: Codegen/CUDA/CudaEmitter.h); the
// CPU runs a group as a sequence of routines (CpuFamilies.cpp), one per op
// except where one routine does several (an activation as a convolution's
// epilogue).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLOps.h"
#include "runtime/schemas/bundle_generated.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <optional>
#include <string>

namespace dlc::kernels {

/// The targets dlc compiles for, in the order `dlc catalog` lists them.
llvm::ArrayRef<llvm::StringRef> targets();

struct KernelFamily {
  std::string target; // one of targets()
  std::string name;   // what dlc-select-kernels records
  std::string runs;   // the ops it runs
  std::string launch; // how it runs them
  std::string limits; // what it cannot run
  std::string elementTypes; // the element types it reads and writes, in words
  /// How many ops of |group|, from op |first| on, it runs as one call; 0
  /// when it cannot run them.
  std::function<unsigned(dl::FusedOp group, unsigned first)> covers;
  /// A vendor library's routine (cuBLASLt, cuDNN) rather than dlc's own code: used
  /// only as KernelSource allows.
  bool library = false;
  /// For a library family: whether the cost model prefers it for |group|.
  std::function<bool(dl::FusedOp group)> worthCalling;
};

/// Which kernels may run a group (--kernels): dlc's own generated code
/// only; a library family wherever one runs the group; or a library family
/// where the cost model prefers it.
enum class KernelSource { kGenerated, kLibrary, kAuto };
/// The KernelSource named "generated", "library" or "auto".
std::optional<KernelSource> kernelSourceNamed(llvm::StringRef name);

/// Every family of every target, each target's in the order
/// dlc-select-kernels prefers them.
llvm::ArrayRef<KernelFamily> kernelFamilies();

/// The family |name| of |target|, or null.
const KernelFamily *findFamily(llvm::StringRef target, llvm::StringRef name);

/// The families that run the ops of |group| on |target|, in op order, each
/// taking the ops its `covers` says; fails, with the reason in *why, when
/// some op is left that no family runs. Library families come first where
/// |source| lets them run the group, and are left out otherwise.
mlir::FailureOr<llvm::SmallVector<const KernelFamily *>>
planGroup(llvm::StringRef target, dl::FusedOp group, std::string *why,
          KernelSource source = KernelSource::kGenerated);

/// Whether every target can run |group|: the groups dlc-fuse may form.
bool runsOnEveryTarget(dl::FusedOp group);
/// Whether |source| lets a library family run all of |group| on |target|
/// (where dlc-select-kernels would choose it).
bool libraryRuns(llvm::StringRef target, dl::FusedOp group, KernelSource source);

/// The runtime's kind of |op| (the bundle's OpKind of the same name), or
/// none when the runtime has no such op.
std::optional<rt::fb::OpKind> opKindOf(mlir::Operation *op);

/// The CPU families (CpuFamilies.cpp).
std::vector<KernelFamily> cpuFamilies();

} // namespace dlc::kernels
