//===- PrecisionPolicy.cpp - What each op computes in under a policy -------===//
#include "compiler/Transforms/PrecisionPolicy.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace dlc::precision {
namespace {

using O = Operands;
using R = Results;

constexpr const char *kProduct =
    "a matrix product: 16-bit operands, f32 accumulation (Keras mixed policy; torch.autocast's "
    "lower-precision list)";
constexpr const char *kWeightGradient =
    "a matrix product whose result is a parameter gradient: 16-bit operands, accumulated and "
    "stored in f32";
constexpr const char *kElementwise =
    "elementwise: runs in its operands' type (the widest when they differ), computing in f32";
constexpr const char *kWindow = "a pool: follows its input; sums and maxima are taken in f32";
constexpr const char *kView = "moves or selects elements: follows its input";

constexpr Rule kRules[] = {
    {"conv2d", O::kLow, R::kLikeOperands, kProduct, /*tf32=*/true},
    {"dense", O::kLow, R::kLikeOperands, kProduct, /*tf32=*/true},
    {"lstm", O::kLow, R::kLikeOperands,
     "its gate products take 16-bit operands with f32 accumulation; the cell state stays f32 "
     "inside the op"},
    {"conv2d_grad_input", O::kLow, R::kLikeOperands, kProduct, /*tf32=*/true},
    {"dense_grad_input", O::kLow, R::kLikeOperands, kProduct, /*tf32=*/true},
    {"conv2d_grad_kernel", O::kLow, R::kF32, kWeightGradient, /*tf32=*/true},
    {"dense_grad_kernel", O::kLow, R::kF32, kWeightGradient, /*tf32=*/true},
    {"lstm_grad", O::kLow, R::kFirstLikeOperands,
     "backpropagation through the gate products with 16-bit operands; the input gradient "
     "follows them, the parameter gradients are accumulated and stored in f32"},
    {"bias_grad", O::kAsStored, R::kF32,
     "a sum over the batch: reads the gradient as stored, accumulates and stores in f32"},
    {"embedding_grad", O::kAsStored, R::kF32,
     "a scatter-add into the table's gradient: accumulated and stored in f32"},
    {"embedding", O::kWidest, R::kLikeOperands, "a gather of table rows: follows the f32 table"},
    {"relu", O::kWidest, R::kLikeOperands, kElementwise},
    {"sigmoid", O::kWidest, R::kLikeOperands, kElementwise},
    {"tanh", O::kWidest, R::kLikeOperands, kElementwise},
    {"gelu", O::kWidest, R::kLikeOperands, kElementwise},
    {"leaky_relu", O::kWidest, R::kLikeOperands, kElementwise},
    {"dropout", O::kWidest, R::kLikeOperands, kElementwise},
    {"add", O::kWidest, R::kLikeOperands, kElementwise},
    {"relu_grad", O::kWidest, R::kLikeOperands, kElementwise},
    {"sigmoid_grad", O::kWidest, R::kLikeOperands, kElementwise},
    {"tanh_grad", O::kWidest, R::kLikeOperands, kElementwise},
    {"gelu_grad", O::kWidest, R::kLikeOperands, kElementwise},
    {"leaky_relu_grad", O::kWidest, R::kLikeOperands, kElementwise},
    {"max_pool2d", O::kWidest, R::kLikeOperands, kWindow},
    {"avg_pool2d", O::kWidest, R::kLikeOperands, kWindow},
    {"global_max_pool2d", O::kWidest, R::kLikeOperands, kWindow},
    {"global_avg_pool2d", O::kWidest, R::kLikeOperands, kWindow},
    {"max_pool2d_grad", O::kWidest, R::kLikeOperands, kWindow},
    {"avg_pool2d_grad", O::kWidest, R::kLikeOperands, kWindow},
    {"global_max_pool2d_grad", O::kWidest, R::kLikeOperands, kWindow},
    {"global_avg_pool2d_grad", O::kWidest, R::kLikeOperands, kWindow},
    {"flatten", O::kWidest, R::kLikeOperands, kView},
    {"reshape", O::kWidest, R::kLikeOperands, kView},
    {"concat", O::kWidest, R::kLikeOperands, kView},
    {"slice", O::kWidest, R::kLikeOperands, kView},
    {"softmax", O::kF32, R::kF32,
     "exponentials and a row sum overflow and lose digits in 16 bits (torch.autocast's f32 list)"},
    {"softmax_grad", O::kF32, R::kF32, "the gradient of an f32 softmax"},
    {"batch_norm", O::kF32, R::kF32, "batch statistics (a mean and a variance) need f32"},
    {"batch_norm_grad", O::kF32, R::kF32, "the gradient of an f32 batch_norm"},
    {"batch_norm_inference_grad", O::kF32, R::kF32, "the gradient of an f32 batch_norm"},
    {"batch_norm_statistics_update", O::kF32, R::kF32, "moving statistics are f32 state"},
    {"loss", O::kF32, R::kF32, "a logarithm and a mean over the batch"},
    {"loss_grad", O::kF32, R::kF32, "the gradient of the f32 loss"},
    {"example_loss", O::kF32, R::kF32, "a logarithm per example"},
    {"metric", O::kF32, R::kF32, "scores compared across classes"},
    {"optimizer_update", O::kF32, R::kF32, "updates the f32 master weights and their slots"},
    {"loss_scale_update", O::kF32, R::kF32,
     "checks the f32 gradients the optimizer reads; the loss scale is f32 state"},
    {"augment", O::kF32, R::kF32,
     "data augmentation of the f32 batch the loader gives, as the host pipeline does it"},
    {"gradient_norm", O::kF32, R::kF32, "the norm of the f32 gradients the optimizer reads"},
};

} // namespace

const Rule kUnlistedRule = {"", O::kF32, R::kF32, "not on the policy's lists: f32"};

ArrayRef<Rule> rules() { return kRules; }

const Rule &ruleFor(Operation *op) {
  StringRef name = op->getName().stripDialect();
  for (const Rule &r : kRules)
    if (name == r.op)
      return r;
  return kUnlistedRule;
}

Type lowType(MLIRContext *context, dl::Precision policy) {
  Builder b(context);
  switch (policy) {
  case dl::Precision::mixed_fp16: return b.getF16Type();
  case dl::Precision::mixed_bf16: return b.getBF16Type();
  case dl::Precision::fp32:
  case dl::Precision::tf32: break;
  }
  return b.getF32Type();
}

} // namespace dlc::precision
