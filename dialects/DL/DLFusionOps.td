//===- DLFusionOps.td - Kernel groups -------------------------*- tablegen -*-===//
//
// `dlc-fuse` wraps every compute op into a `dl.fused` region: one region is
// one kernel for every backend (a CUDA kernel, a CPU routine), so the fusion
// decision is made once and both code generators follow it.
//
//===----------------------------------------------------------------------===//
#ifndef DL_FUSION_OPS
#define DL_FUSION_OPS

def DL_FusedOp : DL_Op<"fused", [IsolatedFromAbove, SingleBlock,
                                 RecursiveMemoryEffects]> {
  let summary = "a group of ops that runs as one kernel";
  let description = [{
    The body takes the group's external inputs as block arguments and yields
    every value used outside the group; values that stay inside never reach
    memory on backends that can keep them in registers. The location is the
    fused location of the member ops, so a kernel traces back to the model.

    `kernels`, set by `dlc-select-kernels`, says how each target runs the
    group: per target, the kernel families (compiler/Kernels) that run its
    ops in order. A CUDA family runs the whole group as one launch; the CPU
    runs it as a sequence of calls, e.g. `["activation_epilogue", "op"]`
    for conv2d + relu (one oneDNN primitive) then max_pool2d.

    `alternative_kernels`, set by `dlc-select-kernels` under `--kernels auto`
    where a vendor library and dlc's generated code can both run the group:
    per target, the plan that `kernels` did not take. The bundle carries
    both; the device times them on its first run and keeps the faster
    (runtime/cuda/kernel_choice.h).

    `ordered_sums`, also set by `dlc-select-kernels` (under `--deterministic`),
    says that every sum of the group's kernels adds its terms in an order
    fixed at compile time: no float atomics, so the bits do not depend on
    the order in which a GPU runs blocks and threads.

    ```mlir
    %y:2 = dl.fused "conv2d+relu+max_pool2d" (%x, %k, %b)
        {kernels = {cpu = ["activation_epilogue", "op"], cuda = ["gemm"]}} : (...) -> (...) {
    ^bb0(%a: tensor<...>, %kk: tensor<...>, %bb: tensor<...>):
      %0 = dl.conv2d %a, %kk, %bb {...} : ...
      %1 = dl.relu %0 : ...
      %2 = dl.max_pool2d %1 {...} : ...
      dl.yield %1, %2 : tensor<...>, tensor<...>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, StrAttr:$kernel_name,
                       OptionalAttr<DictionaryAttr>:$kernels,
                       OptionalAttr<DictionaryAttr>:$alternative_kernels,
                       UnitAttr:$ordered_sums);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kernel_name `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The kernel families dlc-select-kernels chose for |target| ("cpu",
    /// "cuda"), in the order they run the ops; null when it chose none.
    ::mlir::ArrayAttr getKernelsFor(::llvm::StringRef target) {
      auto kernels = getKernelsAttr();
      return kernels ? kernels.getAs<::mlir::ArrayAttr>(target) : nullptr;
    }
    /// The plan for |target| that `kernels` did not take, measured against
    /// it on the device; null when there is none.
    ::mlir::ArrayAttr getAlternativeKernelsFor(::llvm::StringRef target) {
      auto kernels = getAlternativeKernelsAttr();
      return kernels ? kernels.getAs<::mlir::ArrayAttr>(target) : nullptr;
    }
  }];
}

def DL_YieldOp : DL_Op<"yield", [Pure, Terminator, ReturnLike, HasParent<"FusedOp">]> {
  let summary = "the values of a dl.fused group used outside it";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // DL_FUSION_OPS
