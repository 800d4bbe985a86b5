//===- Passes.td - dlc compiler passes ------------------------*- tablegen -*-===//
#ifndef DLC_TRANSFORMS_PASSES
#define DLC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

def ClassIdLabelsPass : Pass<"dlc-class-id-labels", "mlir::ModuleOp"> {
  let summary = "Train on class ids where the data source gives them";
  let description = [{
    Runs before dlc-autodiff. Where the training setup's data source gives
    class ids (fashion_mnist, idx, text, image_folder) and the loss is
    categorical_crossentropy without label smoothing, the loss becomes
    sparse_categorical_crossentropy (same from_logits): the same function of
    the same ids, with int32 labels [N] instead of one-hot rows [N, classes].
  }];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def AutodiffPass : Pass<"dlc-autodiff", "mlir::ModuleOp"> {
  let summary = "Derive the loss and the gradient of every trainable parameter";
  let description = [{
    Adds `func.func @grad(inputs..., labels) -> (loss, d(param)...)` next to
    `@forward`: the forward pass in training mode (dropout drops, trainable
    batch_norm uses batch statistics), the loss of the module's training
    setup, and the reverse sweep built from each op's gradient rule
    (DifferentiableOpInterface). Only values on a path from a trainable
    parameter to the loss get gradients, so a frozen base costs its forward
    pass and nothing more. softmax or sigmoid followed by a cross-entropy on
    probabilities becomes the cross-entropy on logits (log-softmax), which
    is exact where Keras clips probabilities at 1e-7.

    Also adds `@train_step(inputs..., labels, step) -> (loss, prediction)`
    (the loss operand, named `logits` when the loss takes logits): the same
    computation followed by the optimizer's update of every trainable
    parameter and of its slots (Adam's m and v ...), which become module-level
    `dl.param ... slot of` declarations; updates are `dl.assign` ops.
  }];
  let dependentDialects = ["::dlc::dl::DLDialect", "::mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Precision
//===----------------------------------------------------------------------===//

def SelectPrecisionPass : Pass<"dlc-select-precision", "mlir::ModuleOp"> {
  let summary = "Give every op the storage and compute types of the precision policy";
  let description = [{
    Runs after dlc-autodiff and before dlc-fuse. Under `mixed_fp16` or
    `mixed_bf16`, matrix products (conv2d, dense, the LSTM, their gradients)
    read 16-bit operands and accumulate in f32; softmax, losses, metrics,
    batch_norm and the optimizer run in f32; elementwise ops, pools and
    views follow their operands; parameter gradients are f32. The rules are
    one table (compiler/Transforms/PrecisionPolicy.cpp). `dl.cast` is
    inserted where a value changes type; parameters stay f32 master weights
    and function signatures keep their types. Each op records what it runs
    in and why as `dl.precision` (`dlc compile --emit=precision`). Under
    `fp32` nothing changes but the records. Under `tf32` every value stays
    f32, and conv2d, dense and their gradients are marked `dl.tf32`: their
    matrix operands are rounded to TF32 where they are read (tensor cores).
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"\"",
           "fp32, mixed_fp16, mixed_bf16 or tf32; default: the training setup's (fp32 without one)">,
  ];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def AugmentOnDevicePass : Pass<"dlc-augment-on-device", "mlir::ModuleOp"> {
  let summary = "Run the data section's shape-keeping transforms in @train_step (dl.augment)";
  let description = [{
    Runs after dlc-autodiff. The data transforms after the last one that
    changes an example's shape (resize, random_crop) become dl.augment ops at
    the head of @train_step, reading the first input; @train_step gains the
    inputs `example_ids` (each example's index in the dataset) and
    `augment_seed` (seed, epoch) that key their random draws. The training
    setup records `device_transforms_from`: the loader applies the
    transforms before it. A transform that does not fit the model's first
    input is an error here.

    With `in-step=false` every transform stays with the loader: on the CPU
    the loader's worker threads overlap them with the step, which shares
    those cores, so they run there (runKernelPipeline decides by target).
  }];
  let options = [
    Option<"inStep", "in-step", "bool", /*default=*/"true",
           "apply the shape-keeping transforms in @train_step (false: all in the loader)">,
  ];
  let dependentDialects = ["::dlc::dl::DLDialect", "::mlir::func::FuncDialect"];
}

def ScaleLossPass : Pass<"dlc-scale-loss", "mlir::ModuleOp"> {
  let summary = "Dynamic loss scaling in @train_step (Keras' LossScaleOptimizer)";
  let description = [{
    Runs after dlc-select-precision. When the training setup's `loss_scale`
    is dynamic (its default under mixed_fp16), @train_step keeps the state of
    runtime/loss_scale.h in the parameter `optimizer/loss_scale` (optimizer
    state, saved in checkpoints): loss_grad multiplies by the scale, one
    dl.loss_scale_update checks every parameter gradient and moves the
    scale, and each optimizer_update divides its gradient by the step's
    scale and is skipped when a gradient was not finite. All of it on the
    device: no host round trip per step. The setup records the loss scaling
    applied.
  }];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def KeepLstmStatesPass : Pass<"dlc-keep-lstm-states", "mlir::ModuleOp"> {
  let summary = "Give each LSTM gradient the forward's hidden states";
  let description = [{
    Runs after dlc-select-precision. Each dl.lstm_grad whose forward dl.lstm
    is in the same function gets the forward's hidden state after every
    step as its `states` operand, so the gradient computes every step's
    gates at once instead of running the recurrence again; a forward without
    `return_sequences` is made to return every state, and its old result
    becomes a slice of the last step. Only where the states are f32. The
    kernel pipeline runs it where dlc's CUDA kernels may run the gradient
    (the GPU is a target, and `--kernels` is not `library`).
  }];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def FuseKernelsPass : Pass<"dlc-fuse", "mlir::ModuleOp"> {
  let summary = "Group ops into dl.fused kernels, one decision for every backend";
  let description = [{
    Wraps every compute op into a `dl.fused` region. Greedy along
    producer->consumer chains: conv2d/dense and gradient anchors take the
    elementwise ops that follow them, conv2d (+activation) takes the pooling
    after it, dense takes a softmax, an elementwise chain takes the bias_grad
    of its result; across chains, the optimizer updates of one optimizer
    (same rule, step, loss scale and norm) share kernels of up to 32
    parameters, their parameter writes moved after them. An op joins a
    group only when every target can run the group (the kernel-family
    registry, compiler/Kernels). Views and
    parameter reads/writes stay outside. With `kernels=library` (or `auto`)
    a join that would take from a vendor library a group it runs (as
    dlc-select-kernels would choose under the same option) is refused: the
    pool after a cuDNN convolution, the softmax after a cuBLASLt matmul and
    the casts around either then run as kernels of their own.
  }];
  let options = [
    Option<"kernels", "kernels", "std::string", /*default=*/"\"generated\"",
           "generated, library or auto, as dlc-select-kernels takes it">,
  ];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def SelectKernelsPass : Pass<"dlc-select-kernels", "mlir::ModuleOp"> {
  let summary = "Record on each dl.fused group which kernel families run it, per target";
  let description = [{
    Sets each group's `kernels` attribute: for every target of `targets`,
    the families of the kernel-family registry (compiler/Kernels) that run
    its ops in order, each target's preferred family first. A CUDA family
    runs the whole group as one launch; the CPU may need several calls
    (`["activation_epilogue", "op"]`: conv2d with its relu, then a pool).
    A group that some target cannot run is an error at its location. Code
    generation and program lowering read this record and nothing else.
    With `kernels=library` (or `auto`, where the cost model prefers it) a
    vendor library's family (cublaslt_matmul, cudnn_conv) is chosen for the
    groups it runs. Under `auto`, a group that both a library family and
    generated code can run also gets `alternative_kernels`, the plan not
    chosen, which the device times against the chosen one on its first run
    (not with `deterministic`). With `deterministic`, it also sets `ordered_sums` on every group: code
    generation then sums in an order fixed at compile time (no float
    atomics), so runs are bit for bit the same on a GPU.
  }];
  let options = [
    ListOption<"targets", "targets", "std::string",
               "Targets to choose kernels for (cpu, cuda); default: every target">,
    Option<"deterministic", "deterministic", "bool", /*default=*/"false",
           "Sum in an order fixed at compile time (no float atomics)">,
    Option<"kernels", "kernels", "std::string", /*default=*/"\"generated\"",
           "generated (dlc's own kernels), library (a vendor library's routine, "
           "cuBLASLt or cuDNN, wherever one runs the group) or auto (where the "
           "cost model prefers it)">,
  ];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def InferShapesPass : Pass<"dlc-infer-shapes", "mlir::ModuleOp"> {
  let summary = "Fill every result type of the dl ops from the input shapes";
  let description = [{
    Walks each function in order and replaces every dl op's result types by
    what its shape function computes from the (possibly refined) operand
    types, keeping any dimension the IR already knew. Function result types
    follow. With `batch-size`, a dynamic batch dimension of every function
    argument is first fixed to that size, so the whole model becomes static
    (what code generation wants).
  }];
  let options = [
    Option<"batchSize", "batch-size", "int64_t", /*default=*/"0",
           "Fix dynamic batch dimensions of function arguments to this size (0 keeps them)">,
  ];
}

#endif // DLC_TRANSFORMS_PASSES
