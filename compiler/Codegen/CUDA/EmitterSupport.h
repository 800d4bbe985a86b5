//===- EmitterSupport.h - Shared pieces of the CUDA emitters --------------===//
#pragma once

#include "compiler/Codegen/CUDA/CudaEmitter.h"

namespace dlc::cuda {

/// The C element type of a tensor type ("float", "int", "long long"), or ""
/// when the emitters do not support it.
std::string cType(mlir::Type t);
/// "const float *__restrict__ in0, ..., float *__restrict__ out0, ..."
/// |restrictPointers| false for kernels whose results alias their inputs.
std::string parameterList(dl::FusedOp group, bool takesStep, bool restrictPointers = true);
/// The comment that opens a kernel: its group, .dl locations and launch.
std::string header(dl::FusedOp group, const CudaKernel &kernel);

/// The expression computing elementwise |op| from its operands' names, or ""
/// when |op| is not elementwise; sets *usesStep for training-mode dropout.
std::string elementwiseExpression(mlir::Operation *op, llvm::ArrayRef<std::string> operands,
                                  bool *usesStep);

/// Whether |op| is a pooling op or a pooling gradient.
bool isGatherOp(mlir::Operation *op);
/// A device function |name|(operand pointers..., long long i) computing
/// element i of pooling op |op|'s result.
std::string gatherFunction(mlir::Operation *op, const std::string &name);

/// Whether every op of |group| is elementwise over one shape (a trailing
/// bias_grad of the chain allowed, as a per-channel reduction).
bool isElementwiseGroup(dl::FusedOp group);
mlir::LogicalResult emitElementwise(dl::FusedOp group, CudaKernel &kernel);

/// Whether |group| is a matrix product (dense, conv2d, their gradients) with
/// at most one activation, or a dense whose softmax row fits one tile.
bool isGemmGroup(dl::FusedOp group);
mlir::LogicalResult emitGemm(dl::FusedOp group, CudaKernel &kernel);

/// Cross-entropy from logits (categorical or sparse), its gradient, and the
/// gradient followed by a bias_grad.
bool isLossGroup(dl::FusedOp group);
mlir::LogicalResult emitLoss(dl::FusedOp group, CudaKernel &kernel);

/// A single embedding (gather) or embedding_grad (scatter-add).
bool isEmbeddingGroup(dl::FusedOp group);
mlir::LogicalResult emitEmbedding(dl::FusedOp group, CudaKernel &kernel);

/// A single dl.lstm or dl.lstm_grad whose state fits shared memory.
bool isRecurrentGroup(dl::FusedOp group);
mlir::LogicalResult emitRecurrent(dl::FusedOp group, CudaKernel &kernel);

/// A single softmax / softmax_grad (reduced along its axis) or batch_norm
/// op (reduced over every other axis).
bool isNormalizationGroup(dl::FusedOp group);
mlir::LogicalResult emitNormalization(dl::FusedOp group, CudaKernel &kernel);

/// A single dl.optimizer_update (in place on parameter storage).
bool isOptimizerGroup(dl::FusedOp group);
mlir::LogicalResult emitOptimizer(dl::FusedOp group, CudaKernel &kernel);

} // namespace dlc::cuda
