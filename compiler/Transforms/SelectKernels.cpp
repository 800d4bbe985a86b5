//===- SelectKernels.cpp - Record which kernel families run each group ----===//
#include "compiler/Transforms/Passes.h"

#include "compiler/Kernels/KernelRegistry.h"

#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_SELECTKERNELSPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

struct SelectKernelsPass : dlc::impl::SelectKernelsPassBase<SelectKernelsPass> {
  using SelectKernelsPassBase::SelectKernelsPassBase;

  void runOnOperation() override {
    SmallVector<std::string> chosenTargets(targets.begin(), targets.end());
    if (chosenTargets.empty())
      for (StringRef t : kernels::targets())
        chosenTargets.push_back(t.str());
    for (const std::string &t : chosenTargets)
      if (!llvm::is_contained(kernels::targets(), StringRef(t))) {
        getOperation().emitError("dlc-select-kernels: unknown target '") << t << "'";
        return signalPassFailure();
      }
    std::optional<kernels::KernelSource> source = kernels::kernelSourceNamed(kernels);
    if (!source) {
      getOperation().emitError("dlc-select-kernels: kernels '")
          << kernels << "' is not generated, library or auto";
      return signalPassFailure();
    }
    bool ok = true;
    Builder b(&getContext());
    getOperation().walk([&](dl::FusedOp group) {
      NamedAttrList record, alternatives;
      if (auto existing = group.getKernelsAttr())
        record.append(existing.getValue());
      if (auto existing = group.getAlternativeKernelsAttr())
        alternatives.append(existing.getValue());
      for (const std::string &target : chosenTargets) {
        std::string why;
        auto plan = kernels::planGroup(target, group, &why, *source);
        if (failed(plan)) {
          group.emitError("no ") << StringRef(target).upper() << " code generation for the kernel group '"
                                 << group.getKernelName() << "': " << why;
          ok = false;
          continue;
        }
        auto names = [&](ArrayRef<const kernels::KernelFamily *> families) {
          SmallVector<Attribute> out;
          for (const kernels::KernelFamily *f : families)
            out.push_back(b.getStringAttr(f->name));
          return b.getArrayAttr(out);
        };
        record.set(target, names(*plan));
        alternatives.erase(target);
        // Where the cost model chose between a library and generated code,
        // the device measures the other too. Not under --deterministic:
        // there the kernels, and so the bits, are fixed when compiling.
        if (*source == kernels::KernelSource::kAuto && !deterministic &&
            kernels::libraryRuns(target, group, kernels::KernelSource::kLibrary)) {
          bool libraryChosen = kernels::libraryRuns(target, group, kernels::KernelSource::kAuto);
          std::string ignored;
          auto other = kernels::planGroup(target, group, &ignored,
                                          libraryChosen ? kernels::KernelSource::kGenerated
                                                        : kernels::KernelSource::kLibrary);
          if (succeeded(other))
            alternatives.set(target, names(*other));
        }
      }
      group.setKernelsAttr(record.getDictionary(&getContext()));
      if (alternatives.empty())
        group.removeAlternativeKernelsAttr();
      else
        group.setAlternativeKernelsAttr(alternatives.getDictionary(&getContext()));
      group.setOrderedSums(deterministic);
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
