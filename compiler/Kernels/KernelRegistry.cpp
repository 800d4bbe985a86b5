//===- KernelRegistry.cpp - Every way a target runs a kernel group --------===//
#include "compiler/Kernels/KernelRegistry.h"

#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "runtime/bundle.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace dlc::kernels {
namespace {

/// The element type of a value of |group|, or of the storage of one of its
/// buffers, outside |set| (ElementType bits), if there is one.
Type typeOutside(dl::FusedOp group, unsigned set) {
  SmallVector<Type> types;
  Block &body = group.getBody().front();
  for (auto [i, v] : llvm::enumerate(body.getArguments())) {
    types.push_back(v.getType());
    types.push_back(cuda::inputStorage(group, unsigned(i)));
  }
  for (auto [i, v] : llvm::enumerate(body.getTerminator()->getOperands())) {
    types.push_back(v.getType());
    types.push_back(cuda::resultStorage(group, unsigned(i)));
  }
  for (Type t : types)
    if (!(cuda::elementTypeBit(t) & set))
      return isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  return {};
}

std::vector<KernelFamily> buildRegistry() {
  std::vector<KernelFamily> all = cpuFamilies();
  for (const cuda::CudaFamily &f : cuda::cudaFamilies()) {
    auto matches = f.matches;
    auto worthCalling = f.worthCalling;
    unsigned types = f.elementTypes;
    all.push_back({"cuda", f.name, f.runs, f.launch, f.limits, cuda::describeElementTypes(types),
                   [matches, types](dl::FusedOp group, unsigned first) -> unsigned {
                     if (first != 0)
                       return 0;
                     // Matched as emitted: boundary casts folded into loads and stores.
                     dl::FusedOp folded = cuda::foldBoundaryCasts(group);
                     bool runs = !typeOutside(folded, types) && matches(folded);
                     folded->erase();
                     if (!runs)
                       return 0;
                     return unsigned(std::distance(group.getBody().front().begin(),
                                                   group.getBody().front().end())) - 1;
                   },
                   f.library,
                   [worthCalling](dl::FusedOp group) {
                     if (!worthCalling)
                       return false;
                     dl::FusedOp folded = cuda::foldBoundaryCasts(group);
                     bool worth = worthCalling(folded);
                     folded->erase();
                     return worth;
                   }});
  }
  return all;
}

} // namespace

std::optional<KernelSource> kernelSourceNamed(StringRef name) {
  if (name == "generated")
    return KernelSource::kGenerated;
  if (name == "library")
    return KernelSource::kLibrary;
  if (name == "auto")
    return KernelSource::kAuto;
  return std::nullopt;
}

ArrayRef<StringRef> targets() {
  static const StringRef names[] = {"cpu", "cuda"};
  return names;
}

ArrayRef<KernelFamily> kernelFamilies() {
  static const std::vector<KernelFamily> registry = buildRegistry();
  return registry;
}

const KernelFamily *findFamily(StringRef target, StringRef name) {
  for (const KernelFamily &f : kernelFamilies())
    if (f.target == target && f.name == name)
      return &f;
  return nullptr;
}

std::optional<rt::fb::OpKind> opKindOf(Operation *op) {
  if (!isa_and_nonnull<dl::DLDialect>(op->getDialect()))
    return std::nullopt;
  StringRef name = op->getName().stripDialect();
  return rt::enumNamed<rt::fb::OpKind>(rt::fb::EnumNamesOpKind(),
                                       std::string_view(name.data(), name.size()));
}

namespace {
/// The library family |source| lets run all of |group| on |target|, or null.
const KernelFamily *libraryFamilyFor(StringRef target, dl::FusedOp group, KernelSource source) {
  if (source == KernelSource::kGenerated)
    return nullptr;
  const unsigned ops = unsigned(std::distance(group.getBody().front().begin(), group.getBody().front().end())) - 1;
  for (const KernelFamily &f : kernelFamilies())
    if (f.target == target && f.library && f.covers(group, 0) == ops &&
        (source == KernelSource::kLibrary || f.worthCalling(group)))
      return &f;
  return nullptr;
}
} // namespace

bool libraryRuns(StringRef target, dl::FusedOp group, KernelSource source) {
  return libraryFamilyFor(target, group, source) != nullptr;
}

FailureOr<SmallVector<const KernelFamily *>> planGroup(StringRef target, dl::FusedOp group,
                                                       std::string *why, KernelSource source) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBody().front().without_terminator())
    ops.push_back(&op);
  SmallVector<const KernelFamily *> plan;
  for (unsigned at = 0; at < ops.size();) {
    const KernelFamily *chosen = nullptr;
    unsigned covered = 0;
    // A library family that may run the group first, then the generated ones.
    if (const KernelFamily *f = at == 0 ? libraryFamilyFor(target, group, source) : nullptr)
      chosen = f, covered = unsigned(ops.size());
    for (const KernelFamily &f : kernelFamilies())
      if (!chosen && f.target == target && !f.library && (covered = f.covers(group, at)) > 0) {
        chosen = &f;
        break;
      }
    if (!chosen) {
      llvm::raw_string_ostream os(*why);
      if (Type t = target == "cuda" ? typeOutside(group, cuda::kComputeTypes) : Type()) {
        // Which families read or write |t|, from their own sets.
        std::string families;
        for (const cuda::CudaFamily &f : cuda::cudaFamilies())
          if (f.elementTypes & cuda::elementTypeBit(t))
            families += std::string(families.empty() ? "" : ", ") + f.name;
        os << "CUDA kernels compute with " << cuda::describeElementTypes(cuda::kComputeTypes)
           << " tensors, not " << t << " (only these kernel families take " << t << ": "
           << (families.empty() ? "none" : families) << ")";
      }
      else if (target == "cuda")
        os << "no CUDA kernel family runs these ops at these shapes";
      else {
        os << "no " << target << " kernel family runs '" << ops[at]->getName() << "'";
        if (Type t = typeOutside(group, cuda::kComputeTypes))
          os << " on " << t << " tensors (the CPU routines compute f32 values, stored as f32, f16 "
                "or bf16, with i32 and i64 ids; only cast converts others)";
      }
      return failure();
    }
    plan.push_back(chosen);
    at += covered;
  }
  return plan;
}

bool runsOnEveryTarget(dl::FusedOp group) {
  std::string why;
  for (StringRef target : targets())
    if (failed(planGroup(target, group, &why)))
      return false;
  return true;
}

} // namespace dlc::kernels
