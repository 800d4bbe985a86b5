//===- DLTrainingOps.td - Losses and gradient ops -------------*- tablegen -*-===//
//
// What reverse-mode autodiff emits. Result types are given by the builder (a
// gradient has the type of the value it is the gradient of), so sizes that
// strides alone do not determine come from the result type.
//
//===----------------------------------------------------------------------===//
#ifndef DL_TRAINING_OPS
#define DL_TRAINING_OPS

class DL_GradOp<string mnemonic, string opSummary, list<Trait> traits = []>
    : DL_Op<mnemonic, traits # [Pure]> {
  let summary = opSummary;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def DL_LossOp : DL_Op<"loss", [Pure, DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "a Keras loss, averaged over the batch";
  let description = [{
    `config` is a loss of the catalog (#dl.config<"categorical_crossentropy",
    {from_logits = ..., label_smoothing = ...}>). Labels have the prediction's
    shape, or are integer class ids without the class axis for
    sparse_categorical_crossentropy. `weight` (absent: 1) multiplies the
    mean: Keras' loss_weights of a model with several outputs, whose loss is
    the sum of their weighted losses. Its gradient rule assumes the loss is
    a root of differentiation (d(total loss) = 1).
  }];
  let arguments = (ins DL_FloatTensor:$prediction, AnyRankedTensor:$labels, DL_ConfigAttr:$config,
                       OptionalAttr<F64Attr>:$weight);
  let results = (outs 0DTensorOf<[F16, BF16, F32, F64]>:$loss);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_LossGradOp : DL_GradOp<"loss_grad", "d(loss)/d(prediction), for the mean loss"> {
  let description = [{
    With `loss_scale` (dynamic loss scaling's state, runtime/loss_scale.h),
    the gradient of the loss multiplied by the state's scale; with `weight`,
    the gradient of dl.loss of that weight.
  }];
  let arguments = (ins DL_FloatTensor:$prediction, AnyRankedTensor:$labels,
                       Optional<1DTensorOf<[F32]>>:$loss_scale, DL_ConfigAttr:$config,
                       OptionalAttr<F64Attr>:$weight);
  let results = (outs DL_FloatTensor:$grad);
  let hasVerifier = 1;
}

def DL_ExampleLossOp : DL_Op<"example_loss", [Pure]> {
  let summary = "a Keras loss of each example: the terms of dl.loss's batch mean";
  let description = [{
    What evaluation sums: the @evaluate program returns it so that the host
    adds up the examples of a batch that are real (the last batch of a
    split may be partly padding). Predictions are [N, classes] or, for a
    sequence of predictions, [N, positions..., classes]: an example's loss is
    then the mean over its positions, so that the mean over examples is
    dl.loss's (`weight` likewise multiplies each example's loss).
  }];
  let arguments = (ins DL_FloatTensor:$prediction, AnyRankedTensor:$labels, DL_ConfigAttr:$config,
                       OptionalAttr<F64Attr>:$weight);
  let results = (outs 1DTensorOf<[F32]>:$losses);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_MetricOp : DL_Op<"metric", [Pure]> {
  let summary = "a metric's score of each example";
  let description = [{
    `rule` is how the score is computed, decided where the program is built
    from the metric and the loss (Keras resolves `accuracy` by the loss):
    `top_k`: 1 when the label's class is among the k largest predictions
    (tf.math.in_top_k's ties; k = 1 is categorical accuracy), else 0, for
    one-hot labels [N, classes] or class ids [N]; `binary`: the fraction of
    the example's outputs where (prediction > threshold) equals the label.
    Predictions are [N, classes] or [N, positions..., classes] (labels
    likewise, class ids without the class axis), where an example's score is
    the mean over its positions. The mean over examples is the metric.
  }];
  let arguments = (ins DL_FloatTensor:$prediction, AnyRankedTensor:$labels, StrAttr:$rule,
                       I64Attr:$k, F64Attr:$threshold);
  let results = (outs 1DTensorOf<[F32]>:$scores);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_ZerosOp : DL_Op<"zeros", [Pure]> {
  let summary = "a tensor of zeros (the gradient of a parameter that does not reach the loss)";
  let results = (outs AnyStaticShapeTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
}

//===----------------------------------------------------------------------===//
// Gradients of layers
//===----------------------------------------------------------------------===//

def DL_Conv2DGradInputOp : DL_GradOp<"conv2d_grad_input",
    "d(conv2d)/d(input); the input's height and width come from the result type"> {
  let arguments = (ins DL_FloatTensor:$dy, DL_FloatTensor:$kernel, DenseI64ArrayAttr:$strides,
                       DL_PaddingAttr:$padding, DenseI64ArrayAttr:$dilation);
  let results = (outs DL_FloatTensor:$dx);
  let hasVerifier = 1;
}

def DL_Conv2DGradKernelOp : DL_GradOp<"conv2d_grad_kernel",
    "d(conv2d)/d(kernel); the kernel size comes from the result type"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy, DenseI64ArrayAttr:$strides,
                       DL_PaddingAttr:$padding, DenseI64ArrayAttr:$dilation);
  let results = (outs DL_FloatTensor:$dkernel);
  let hasVerifier = 1;
}

def DL_BiasGradOp : DL_GradOp<"bias_grad", "dy summed over every axis but the last"> {
  let arguments = (ins DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dbias);
}

def DL_DenseGradInputOp : DL_GradOp<"dense_grad_input", "dy · kernelᵀ"> {
  let arguments = (ins DL_FloatTensor:$dy, DL_FloatTensor:$kernel);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_DenseGradKernelOp : DL_GradOp<"dense_grad_kernel",
    "inputᵀ · dy summed over every leading position"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dkernel);
}

def DL_MaxPool2DGradOp : DL_GradOp<"max_pool2d_grad",
    "routes each window's gradient to its first maximum"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy, DenseI64ArrayAttr:$pool_size,
                       DenseI64ArrayAttr:$strides, DL_PaddingAttr:$padding);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_AvgPool2DGradOp : DL_GradOp<"avg_pool2d_grad",
    "spreads each window's gradient over its real elements; input size from the result type"> {
  let arguments = (ins DL_FloatTensor:$dy, DenseI64ArrayAttr:$pool_size,
                       DenseI64ArrayAttr:$strides, DL_PaddingAttr:$padding);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_GlobalMaxPool2DGradOp : DL_GradOp<"global_max_pool2d_grad", "gradient of global_max_pool2d"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_GlobalAvgPool2DGradOp : DL_GradOp<"global_avg_pool2d_grad",
    "gradient of global_avg_pool2d; input size from the result type"> {
  let arguments = (ins DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dx);
}

// Activation gradients take the forward input x or output y, whichever the
// rule is cheaper from.
def DL_ReluGradOp : DL_GradOp<"relu_grad", "dy where x > 0 (equivalently relu(x) > 0), else 0"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dx);
}
def DL_SigmoidGradOp : DL_GradOp<"sigmoid_grad", "dy · y · (1 - y), from the output y"> {
  let arguments = (ins DL_FloatTensor:$output, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dx);
}
def DL_TanhGradOp : DL_GradOp<"tanh_grad", "dy · (1 - y²), from the output y"> {
  let arguments = (ins DL_FloatTensor:$output, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dx);
}
def DL_GeluGradOp : DL_GradOp<"gelu_grad", "gradient of gelu, from the input x"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy, UnitAttr:$approximate);
  let results = (outs DL_FloatTensor:$dx);
}
def DL_LeakyReluGradOp : DL_GradOp<"leaky_relu_grad", "dy where x > 0, else negative_slope · dy"> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$dy, F64Attr:$negative_slope);
  let results = (outs DL_FloatTensor:$dx);
}
def DL_SoftmaxGradOp : DL_GradOp<"softmax_grad", "y · (dy - sum(dy · y, axis)), from the output y"> {
  let arguments = (ins DL_FloatTensor:$output, DL_FloatTensor:$dy, I64Attr:$axis);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_BatchNormGradOp : DL_GradOp<"batch_norm_grad",
    "training-mode batch_norm gradients of input, gamma and beta"> {
  let arguments = (ins DL_FloatTensor:$input, Optional<DL_FloatTensor>:$gamma, DL_FloatTensor:$dy,
                       I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs DL_FloatTensor:$dx, DL_FloatTensor:$dgamma, DL_FloatTensor:$dbeta);
}

def DL_BatchNormInferenceGradOp : DL_GradOp<"batch_norm_inference_grad",
    "d(input) of an inference-mode batch_norm: dy · gamma / sqrt(moving_variance + epsilon)"> {
  let description = [{
    A frozen BatchNormalization layer (Keras runs it in inference mode) is a
    fixed per-channel affine map; the gradient still flows through it to the
    trainable layers below.
  }];
  let arguments = (ins DL_FloatTensor:$dy, Optional<DL_FloatTensor>:$gamma,
                       DL_FloatTensor:$moving_variance, I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs DL_FloatTensor:$dx);
}

def DL_EmbeddingGradOp : DL_GradOp<"embedding_grad",
    "scatter-adds dy into the rows of the table gradient"> {
  let arguments = (ins DL_IndexTensor:$ids, DL_FloatTensor:$dy);
  let results = (outs DL_FloatTensor:$dtable);
}

def DL_LSTMGradOp : DL_GradOp<"lstm_grad", "backpropagation through time of dl.lstm",
                              [AttrSizedOperandSegments]> {
  let description = [{
    `states`, when given, is the forward's hidden state after every step
    [N, T, units] (dl.lstm's result with `return_sequences`, which
    `dlc-keep-lstm-states` passes): the gates of every step are then
    products over all rows and steps at once, and only the way back through
    time is sequential. Without it the gradient runs the recurrence again.
    The results do not depend on it.
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$kernel,
                       DL_FloatTensor:$recurrent_kernel, Optional<DL_FloatTensor>:$bias,
                       DL_FloatTensor:$dy, Optional<DL_FloatTensor>:$states,
                       UnitAttr:$return_sequences);
  // Two optional operands: each named where present.
  let assemblyFormat = [{
    $input `,` $kernel `,` $recurrent_kernel `,` (`bias` $bias^ `,`)? $dy (`states` $states^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let results = (outs DL_FloatTensor:$dx, DL_FloatTensor:$dkernel,
                      DL_FloatTensor:$drecurrent_kernel, DL_FloatTensor:$dbias);
}

def DL_SliceOp : DL_GradOp<"slice", "the part of a tensor at [start, start + size) along axis"> {
  let arguments = (ins DL_FloatTensor:$input, I64Attr:$axis, I64Attr:$start);
  let results = (outs DL_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Training step
//===----------------------------------------------------------------------===//

def DL_AssignOp : DL_Op<"assign", [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
                                   MemoryEffects<[MemWrite]>]> {
  let summary = "stores a new value into a parameter (or optimizer slot)";
  let description = [{
    ```mlir
    dl.assign @"conv2d/kernel", %updated : tensor<3x3x1x32xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, AnyStaticShapeTensor:$value);
  let assemblyFormat = "$param `,` $value attr-dict `:` type($value)";
}

def DL_OptimizerUpdateOp : DL_Op<"optimizer_update", [Pure, AttrSizedOperandSegments]> {
  let summary = "one optimizer step on one parameter: Keras' update formula";
  let description = [{
    Takes the parameter, its gradient, the step number (0 first; Adam's bias
    correction uses step + 1) and the optimizer's slots for it (sgd with
    momentum: [momentum]; adam/adamw: [m, v] (+ v_hat with amsgrad);
    rmsprop: [velocity] (+ average_gradient if centered) (+ momentum)), and
    returns the new parameter and slots.

    With `loss_scale` (the state dl.loss_scale_update returned this step),
    the gradient is divided by the step's scale, a step whose gradients were
    not all finite leaves the parameter and slots as they are, and the step
    number leaves out the steps skipped so far (Keras' LossScaleOptimizer:
    the inner optimizer counts the steps it applied).

    `grad_norm` is there exactly when the config clips by norm (`clipnorm`,
    `global_clipnorm`): dl.gradient_norm of this gradient alone or of all
    gradients, before the loss-scale division, which the update applies to
    the norm too.
  }];
  let arguments = (ins DL_FloatTensor:$param, DL_FloatTensor:$grad, 0DTensorOf<[I64]>:$step,
                       Variadic<DL_FloatTensor>:$slots, Optional<1DTensorOf<[F32]>>:$loss_scale,
                       Optional<1DTensorOf<[F32]>>:$grad_norm, DL_ConfigAttr:$config);
  let results = (outs DL_FloatTensor:$new_param, Variadic<DL_FloatTensor>:$new_slots);
  let assemblyFormat = [{
    $param `,` $grad `,` $step (`,` $slots^)? (`loss_scale` $loss_scale^)?
    (`grad_norm` $grad_norm^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DL_GradientNormOp : DL_Op<"gradient_norm", [Pure]> {
  let summary = "the L2 norm of one or several gradients taken together";
  let description = [{
    sqrt of the sum of the squares of every element of every operand,
    accumulated in f64, as tensor<1xf32> (for clipnorm: one gradient; for
    global_clipnorm: all of them). NaN or infinity in an operand gives a
    norm that is not finite.

    ```mlir
    %norm = dl.gradient_norm %g1, %g2 : (tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<1xf32>
    ```
  }];
  let arguments = (ins Variadic<DL_FloatTensor>:$grads);
  let results = (outs 1DTensorOf<[F32]>:$norm);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_AugmentOp : DL_Op<"augment", [Pure]> {
  let summary = "one data transform of the training data, applied to a batch";
  let description = [{
    A data transform of the `data` section that keeps an example's shape
    (`config`: rescale, normalize, imagenet_preprocess, random_flip,
    random_rotation, random_zoom, random_translation, random_brightness,
    random_contrast, with runtime/data/transforms.h's semantics), applied to
    each example of the batch as training applies it. dlc-augment-on-device
    puts these at the head of @train_step, so augmentation runs on the
    device that trains, on the uploaded batch.

    Each example's random draws are uniform01(key, epoch, 8 * id + k)
    (runtime/counter_rng.h) with key = mix64(seed ^ mix64(position + 1)),
    `position` the transform's index in the data section, `id` the
    example's index in the dataset (`example_ids`) and (seed, epoch) =
    `augment_seed`: the same draws as the host pipeline's, so where a
    transform runs changes nothing.

    ```mlir
    %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_flip", {mode = "horizontal"}>, position = 1 : i64}
        : (tensor<32x28x28x1xf32>, tensor<32xi64>, tensor<2xi64>) -> tensor<32x28x28x1xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, 1DTensorOf<[I64]>:$example_ids,
                       1DTensorOf<[I64]>:$augment_seed, DL_ConfigAttr:$config,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$position);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_LossScaleUpdateOp : DL_Op<"loss_scale_update", [Pure]> {
  let summary = "dynamic loss scaling's step: checks every gradient, moves the scale";
  let description = [{
    Keras' LossScaleOptimizer rule on the state of runtime/loss_scale.h
    ([scale, good steps, skipped steps, step finite, step scale]): when every
    element of every gradient is finite, the step counts and the
    `growth_steps`-th such step in a row doubles the scale; otherwise the
    step is skipped and the scale halves. The new state also records this
    step's verdict and scale, which the step's optimizer updates read.

    ```mlir
    %new = dl.loss_scale_update %state, %g1, %g2 {growth_steps = 2000 : i64}
        : (tensor<5xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<5xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[F32]>:$state, Variadic<DL_FloatTensor>:$grads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$growth_steps);
  let results = (outs 1DTensorOf<[F32]>:$new_state);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormStatisticsUpdateOp : DL_Op<"batch_norm_statistics_update", [Pure]> {
  let summary = "Keras' moving-average update of batch_norm statistics";
  let description = [{
    new = moving * momentum + batch * (1 - momentum), for the mean and the
    (biased) variance of the batch along every axis but `axis`.
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$moving_mean,
                       DL_FloatTensor:$moving_variance, I64Attr:$axis, F64Attr:$momentum);
  let results = (outs DL_FloatTensor:$new_mean, DL_FloatTensor:$new_variance);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // DL_TRAINING_OPS
