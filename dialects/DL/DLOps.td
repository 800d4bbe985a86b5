//===- DLOps.td - Operations of the dl dialect ----------------*- tablegen -*-===//
#ifndef DL_OPS
#define DL_OPS

include "dialects/DL/DLDialect.td"
include "dialects/DL/DLInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

// Operands may be unranked before shape inference has run; the shape
// functions then leave results unranked and `dlc-infer-shapes` fills them.
def DL_FloatTensor : TensorOf<[F16, BF16, F32, F64]>;
def DL_IndexTensor : TensorOf<[I32, I64]>;

// Every layer op infers its result types from its operands and attributes
// (DLShapes.cpp). Results may be written less refined than inferred (a `?`
// where the shape function knows 26); `dlc-infer-shapes` refines them.
class DL_LayerOp<string mnemonic, list<Trait> traits = []>
    : DL_Op<mnemonic, traits # [Pure, InferTypeOpAdaptorWithIsCompatible,
                                DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

class DL_UnaryLayerOp<string mnemonic, string opSummary, list<Trait> traits = []>
    : DL_LayerOp<mnemonic, traits> {
  let summary = opSummary;
  let arguments = (ins DL_FloatTensor:$input);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Parameters and training setup
//===----------------------------------------------------------------------===//

def DL_ParamOp : DL_Op<"param", [Symbol, HasParent<"mlir::ModuleOp">]> {
  let summary = "a trainable or frozen parameter of the model";
  let description = [{
    Declares one parameter by its Keras name (`<layer>/<parameter>`), its
    type, how it is initialised, and whether the optimizer updates it.

    ```mlir
    dl.param @"conv2d/kernel" : tensor<3x3x1x32xf32> init glorot_uniform
    dl.param @"block1_conv1/bias" : tensor<64xf32> init zeros frozen from "vgg16.h5" class "conv2d"
    dl.param @"conv2d/kernel/m" : tensor<3x3x1x32xf32> init zeros frozen slot of "conv2d/kernel"
    ```
    A `slot of` parameter is optimizer state (Adam's m and v ...), frozen
    for the optimizer and left out of the model's parameter counts; the
    optimizer's own state (the loss scale) is `slot of "optimizer"`. The
    `constant` initializer gives the values:
    `init constant(dense<[...]> : tensor<5xf32>)`. A parameter loaded `from` a
    weights file records its layer's Keras `class` (snake case), by which
    Keras 3 files address layers (conv2d, conv2d_1, ... in model order).
    `layout "torch"` reads the file as a PyTorch state_dict
    (runtime/torch_layout.h); `image_rows = array<i64: H, W, C>` marks a
    dense kernel whose input is a flattened [H, W, C] image, whose PyTorch
    columns are in (C, H, W) order.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<AnyStaticShapeTensor>:$type,
                       DL_InitializerAttr:$initializer,
                       UnitAttr:$frozen,
                       OptionalAttr<StrAttr>:$weights_file,
                       OptionalAttr<StrAttr>:$slot_of,
                       OptionalAttr<FloatElementsAttr<32>>:$initial_value,
                       OptionalAttr<StrAttr>:$layer_class,
                       OptionalAttr<StrAttr>:$weights_layout,
                       OptionalAttr<DenseI64ArrayAttr>:$image_rows);
  let assemblyFormat = [{
    $sym_name `:` $type `init` custom<Initializer>($initializer, $initial_value) (`frozen` $frozen^)?
    (`from` $weights_file^)? (`layout` $weights_layout^)? (`class` $layer_class^)?
    (`slot` `of` $slot_of^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    bool isTrainable() { return !getFrozen(); }
    /// Optimizer state (`slot of` a parameter) rather than part of the model.
    bool isOptimizerSlot() { return getSlotOf().has_value(); }
  }];
}

def DL_WeightOp : DL_Op<"weight", [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a parameter inside a function";
  let description = [{
    ```mlir
    %k = dl.weight @"conv2d/kernel" : tensor<3x3x1x32xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs AnyStaticShapeTensor:$value);
  let assemblyFormat = "$param attr-dict `:` type($value)";
}

def DL_TrainSetupOp : DL_Op<"train_setup", [HasParent<"mlir::ModuleOp">]> {
  let summary = "how the module's model is trained: model.compile + model.fit";
  let description = [{
    Every option is explicit; the frontend fills Keras' defaults. The verifier
    checks each `#dl.config` against the catalog of known kinds and options.

    ```mlir
    dl.train_setup {batch_size = 32 : i64, epochs = 3 : i64,
        loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>,
        metrics = [#dl.config<"accuracy", {}>],
        optimizer = #dl.config<"adam", {...}>, precision = #dl<precision fp32>,
        shuffle = true, validation = "test", data_transforms = []}
    ```
    `loss_scale` (#dl.config<"dynamic", {growth_steps, initial_scale}> or
    <"none">), when absent, is dynamic under mixed_fp16 and none otherwise
    (dlc-scale-loss). `callbacks` (early_stopping, model_checkpoint) act at
    each epoch's end in the runtime's trainer. `device_transforms_from`
    (dlc-augment-on-device) is the index of the first data transform that
    @train_step applies itself (dl.augment); the trainer applies the ones
    before it while it loads a batch. `data_transform_locations`, when
    present, says where each data transform is spelt (its dl.augment op, and
    the kernel and errors that come of it, are located there).

    A model with several outputs (@forward's results) trains on the sum of
    their losses: `loss` is one config for every output or an array of one
    per output, `loss_weights` (absent: 1 each) one factor per output, and
    `metric_outputs` the output each metric scores (absent: the first).
  }];
  let arguments = (ins AnyAttrOf<[DL_ConfigAttr, TypedArrayAttrBase<DL_ConfigAttr, "losses">]>:$loss,
                       DL_ConfigAttr:$optimizer,
                       TypedArrayAttrBase<DL_ConfigAttr, "metrics">:$metrics,
                       ConfinedAttr<I64Attr, [IntPositive]>:$batch_size,
                       ConfinedAttr<I64Attr, [IntPositive]>:$epochs,
                       DL_PrecisionAttr:$precision,
                       OptionalAttr<DL_ConfigAttr>:$data_source,
                       TypedArrayAttrBase<DL_ConfigAttr, "data transforms">:$data_transforms,
                       AnyAttrOf<[StrAttr, F64Attr]>:$validation,
                       BoolAttr:$shuffle,
                       OptionalAttr<DL_ConfigAttr>:$loss_scale,
                       OptionalAttr<TypedArrayAttrBase<DL_ConfigAttr, "callbacks">>:$callbacks,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$device_transforms_from,
                       OptionalAttr<TypedArrayAttrBase<LocationAttr, "locations">>:$data_transform_locations,
                       OptionalAttr<DenseF64ArrayAttr>:$loss_weights,
                       OptionalAttr<DenseI64ArrayAttr>:$metric_outputs);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The loss of @forward's result |output|.
    ConfigAttr lossOf(unsigned output);
    /// The factor of that loss in the loss that training minimizes.
    double lossWeightOf(unsigned output);
    /// The metrics that score @forward's result |output|.
    llvm::SmallVector<ConfigAttr> metricsOf(unsigned output);
  }];
}

//===----------------------------------------------------------------------===//
// Convolution, pooling, dense
//===----------------------------------------------------------------------===//

def DL_Conv2DOp : DL_LayerOp<"conv2d"> {
  let summary = "2-D convolution, NHWC input, kernel [kh, kw, in, out]";
  let description = [{
    Keras Conv2D without its activation (that follows as its own op).
    `valid` padding yields `floor((in - dilation*(k-1) - 1) / stride) + 1`,
    `same` yields `ceil(in / stride)`.

    ```mlir
    %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>,
                               strides = array<i64: 1, 1>}
        : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<?x26x26x32xf32>
    ```
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$kernel,
                       Optional<DL_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DL_PaddingAttr:$padding,
                       DenseI64ArrayAttr:$dilation);
  let results = (outs DL_FloatTensor:$output);
}

class DL_Pool2DOp<string mnemonic, string opSummary> : DL_LayerOp<mnemonic> {
  let summary = opSummary;
  let description = [{
    Windowed reduction over H and W of an NHWC tensor; output sizes follow the
    same rule as conv2d with the window as kernel.
  }];
  let arguments = (ins DL_FloatTensor:$input, DenseI64ArrayAttr:$pool_size,
                       DenseI64ArrayAttr:$strides, DL_PaddingAttr:$padding);
  let results = (outs DL_FloatTensor:$output);
}
def DL_MaxPool2DOp : DL_Pool2DOp<"max_pool2d", "2-D max pooling (Keras MaxPooling2D)">;
def DL_AvgPool2DOp : DL_Pool2DOp<"avg_pool2d",
    "2-D average pooling (Keras AveragePooling2D); `same` padding averages only real elements">;

def DL_GlobalMaxPool2DOp : DL_UnaryLayerOp<"global_max_pool2d",
    "maximum over H and W: [N, H, W, C] -> [N, C]">;
def DL_GlobalAvgPool2DOp : DL_UnaryLayerOp<"global_avg_pool2d",
    "mean over H and W: [N, H, W, C] -> [N, C]">;

def DL_DenseOp : DL_LayerOp<"dense"> {
  let summary = "x · kernel + bias on the last axis, kernel [in, units]";
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$kernel,
                       Optional<DL_FloatTensor>:$bias);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Shape and regularisation layers
//===----------------------------------------------------------------------===//

def DL_FlattenOp : DL_UnaryLayerOp<"flatten", "[N, d1, ..., dk] -> [N, d1·...·dk]">;

def DL_ReshapeOp : DL_LayerOp<"reshape"> {
  let summary = "reshape all but the batch dimension; one -1 is inferred";
  let arguments = (ins DL_FloatTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs DL_FloatTensor:$output);
}

def DL_CastOp : DL_LayerOp<"cast"> {
  let summary = "converts every element to element type `to`";
  let description = [{
    Floats narrow by rounding to nearest, ties to even (overflow gives
    infinity); integers convert by value. Float to integer is not a cast
    dl has. Keras layers cast their inputs to the compute type (float32 in
    an fp32 program): the frontend inserts `dl.cast` after each model input
    declared `float16`, `bfloat16` or `float64`.

    ```mlir
    %x = dl.cast %image {to = f32} : (tensor<?x28x28x1xbf16>) -> tensor<?x28x28x1xf32>
    ```
    The gradient of a float input is the result's gradient cast back.
  }];
  let arguments = (ins AnyTypeOf<[DL_FloatTensor, DL_IndexTensor]>:$input, TypeAttr:$to);
  let results = (outs AnyTypeOf<[DL_FloatTensor, DL_IndexTensor]>:$output);
}

def DL_DropoutOp : DL_LayerOp<"dropout"> {
  let summary = "zeroes a fraction `rate` of elements in training, scales the rest by 1/(1-rate)";
  let description = [{
    The identity unless `training` is set (autodiff sets it in the training
    functions). The mask of element i is uniform01(seed, step, i) >= rate
    (runtime/counter_rng.h), the same on every backend.
  }];
  let arguments = (ins DL_FloatTensor:$input, F64Attr:$rate, OptionalAttr<I64Attr>:$seed,
                       UnitAttr:$training);
  let results = (outs DL_FloatTensor:$output);
}

def DL_BatchNormOp : DL_LayerOp<"batch_norm", [AttrSizedOperandSegments]> {
  let summary = "batch normalization over every axis but `axis`";
  let description = [{
    Keras BatchNormalization: gamma and beta are optional (scale/center),
    the moving statistics are always present, all of shape [C]. With
    `training`, the batch's own statistics (biased variance) normalize.
  }];
  let arguments = (ins DL_FloatTensor:$input, Optional<DL_FloatTensor>:$gamma,
                       Optional<DL_FloatTensor>:$beta, DL_FloatTensor:$moving_mean,
                       DL_FloatTensor:$moving_variance, I64Attr:$axis,
                       F64Attr:$momentum, F64Attr:$epsilon, UnitAttr:$training);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Sequence layers
//===----------------------------------------------------------------------===//

def DL_EmbeddingOp : DL_LayerOp<"embedding"> {
  let summary = "looks up rows of a table [vocab, dim] by integer ids";
  let arguments = (ins DL_IndexTensor:$ids, DL_FloatTensor:$table);
  let results = (outs DL_FloatTensor:$output);
}

def DL_LSTMOp : DL_LayerOp<"lstm"> {
  let summary = "Keras LSTM over [N, T, F]; gates i, f, c, o";
  let description = [{
    kernel [F, 4·units], recurrent_kernel [units, 4·units], bias [4·units],
    tanh activation and sigmoid recurrent activation. The result is the last
    hidden state [N, units], or every state [N, T, units] with
    `return_sequences`.
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$kernel,
                       DL_FloatTensor:$recurrent_kernel, Optional<DL_FloatTensor>:$bias,
                       UnitAttr:$return_sequences);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def DL_ReluOp : DL_UnaryLayerOp<"relu", "max(x, 0)">;
def DL_SigmoidOp : DL_UnaryLayerOp<"sigmoid", "1 / (1 + exp(-x))">;
def DL_TanhOp : DL_UnaryLayerOp<"tanh", "hyperbolic tangent">;

def DL_GeluOp : DL_LayerOp<"gelu"> {
  let summary = "x·Φ(x), or its tanh approximation";
  let arguments = (ins DL_FloatTensor:$input, UnitAttr:$approximate);
  let results = (outs DL_FloatTensor:$output);
}

def DL_LeakyReluOp : DL_LayerOp<"leaky_relu"> {
  let summary = "x if x > 0 else negative_slope·x";
  let arguments = (ins DL_FloatTensor:$input, F64Attr:$negative_slope);
  let results = (outs DL_FloatTensor:$output);
}

def DL_SoftmaxOp : DL_LayerOp<"softmax"> {
  let summary = "exp(x) / sum(exp(x)) along `axis`";
  let arguments = (ins DL_FloatTensor:$input, I64Attr:$axis);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Merge layers
//===----------------------------------------------------------------------===//

def DL_AddOp : DL_LayerOp<"add"> {
  let summary = "elementwise sum of two or more tensors of one shape";
  let arguments = (ins Variadic<DL_FloatTensor>:$inputs);
  let results = (outs DL_FloatTensor:$output);
}

def DL_ConcatOp : DL_LayerOp<"concat"> {
  let summary = "joins two or more tensors along `axis`";
  let arguments = (ins Variadic<DL_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs DL_FloatTensor:$output);
}

include "dialects/DL/DLTrainingOps.td"
include "dialects/DL/DLFusionOps.td"

#endif // DL_OPS
