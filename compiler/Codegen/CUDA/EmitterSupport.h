//===- EmitterSupport.h - Shared pieces of the CUDA emitters --------------===//
#pragma once

#include "compiler/Codegen/CUDA/CudaEmitter.h"

namespace dlc::cuda {

/// "12ll": an integer literal of device code (index math in 64 bits).
std::string ll(int64_t v);
/// |code| (whole lines) two spaces deeper.
std::string indented(const std::string &code);
/// "in<k>": the kernel parameter of group input |blockArgument|.
std::string inputName(mlir::Value blockArgument);
/// "out<k>" for the group result that yields |v|, or "" when none does.
std::string resultName(dl::FusedOp group, mlir::Value v);
/// The index of the group result that yields |v|, or -1.
int resultIndex(dl::FusedOp group, mlir::Value v);

/// A bias gradient (a per-channel sum) with at most this many channels sums
/// each block's part in shared memory first; a wider one adds straight into
/// its (zeroed) result in global memory.
constexpr int64_t kMaxSharedChannelSums = 8192;

/// --deterministic, recorded by dlc-select-kernels as the group's
/// ordered_sums: every sum of its kernel adds its terms in an order fixed at
/// compile time (no float atomics), so the bits do not depend on the order
/// in which the GPU runs blocks and threads.
bool orderedSums(dl::FusedOp group);

/// Output size and leading padding of one spatial axis of a window op, by
/// TF's rule: `valid` drops a ragged tail; `same` gives ceil(in / stride)
/// outputs with the odd padding element after. The emitters' own: the
/// reference evaluator, which judges them, keeps an independent one.
struct WindowAxis {
  int64_t out, padBefore;
};
WindowAxis windowAxis(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same);

/// A tensor seen around one axis as [outer, size, inner].
struct AxisSplit {
  int64_t outer = 1, size = 1, inner = 1;
  /// Device code for the flat index of element (o, c, i).
  std::string at(const std::string &o, const std::string &c, const std::string &i) const;
};
AxisSplit splitAt(llvm::ArrayRef<int64_t> shape, int64_t axis);

/// How device code holds and computes in one element type (DeviceTypes.cpp).
struct DeviceType {
  const char *storage;       // the C type of a buffer element
  const char *compute;       // the C type arithmetic on it uses
  const char *toCompute;     // device function from storage to compute ("": a C cast does)
  const char *toStorage;     // device function storing to an element, rounding ("": a C cast does)
  const char *literalSuffix; // of a literal of the compute type ("f" for float)
  // For a type that is its own compute type:
  const char *mathSuffix;  // of its C math functions ("f": expf, fmaxf)
  const char *vector;      // the vector type loads and stores move ("float4")
  int vectorWidth;         // elements per vector
  const char *negInfinity; // an expression of -infinity
  int digits;              // significant decimal digits that round-trip (9 for f32)
  int bytes;               // the compute type's size (of shared memory arrays)
};

/// Device code in one compute type, written from the type table: the
/// emitters spell every register type, literal, math function and vector
/// of their arithmetic through one (tinygrad's renderer keeps dtypes as
/// data the same way), never as `float` text.
class ComputeType {
public:
  explicit ComputeType(const DeviceType &type) : type_(&type) {}
  /// The C type: "float".
  std::string name() const { return type_->compute; }
  /// A literal from its digits: lit("0.5") is "0.5f" for float.
  std::string lit(llvm::StringRef digits) const { return digits.str() + type_->literalSuffix; }
  /// A literal of |v| rounded to the type's precision ("0.200000003f").
  std::string rounded(double v) const;
  /// |v| exactly, converted by the compiler: "(float)0.10000000000000001".
  std::string exact(double v) const;
  /// |expression| converted: "(float)(x)" without parentheses added.
  std::string cast(const std::string &expression) const { return "(" + name() + ")" + expression; }
  /// A C math function by its double name: fn("exp") is "expf" for float.
  std::string fn(llvm::StringRef name) const { return name.str() + type_->mathSuffix; }
  std::string negInfinity() const { return type_->negInfinity; }
  int digits() const { return type_->digits; }
  int bytes() const { return type_->bytes; }
  std::string vector() const { return type_->vector; }
  int vectorWidth() const { return type_->vectorWidth; }

private:
  const DeviceType *type_;
};
/// The type the arithmetic of |group| computes in: that of its first float
/// result (or input), f32 for 16-bit storage.
ComputeType computeType(dl::FusedOp group);

/// The second pass of an ordered two-pass sum over a grid (OrderedSums.cpp).
/// The first pass is the kernel's own: each block writes its partial sums of
/// `columns` values as whole rows of a `parts` x `columns` table in the
/// kernel's scratch (from element `base` on), each row by one block, each
/// row's sums in a fixed order. Then every block of the grid takes a ticket
/// (an integer atomic, after the table), and the last to arrive adds the
/// rows in row order into the outputs. The runtime zeroes the scratch
/// before the launch (CudaKernel::zeroedScratch), which resets the ticket.
struct OrderedSumTable {
  int64_t base = 0;  // scratch elements before the table
  int64_t parts = 1; // rows
  /// The outputs the columns are, in order: (pointer name, values).
  std::vector<std::pair<std::string, int64_t>> outputs;
  int64_t columns() const;
  /// Scratch elements up to the table's end, ticket included.
  int64_t scratchElements() const { return base + parts * columns() + 1; }
  /// Device code, at the end of the kernel body (no thread may have
  /// returned): the ticket, then the last block's sums. |blocks| is the
  /// grid's size.
  std::string finish(const ComputeType &t, int64_t blocks) const;
};
/// Device code after a block's part of a grid-wide pass: once the block's
/// writes are done, thread 0 takes a ticket (an atomicAdd on |ticket|, an
/// unsigned * expression into zeroed scratch) and every thread learns in
/// `lastBlock` whether the block is the last of |arrivals| to finish, so
/// that every other block's writes are visible to it.
std::string takeTicket(const std::string &ticket, int64_t arrivals);
/// How many rows an OrderedSumTable of |columns| columns should have so the
/// last block reads no more than about a megabyte of partial sums, with at
/// most |most| (the rows the work has) and at least one.
int64_t orderedSumParts(int64_t columns, int64_t most);

/// The device type of a tensor's (or a scalar type's) elements, or null when
/// the emitters do not support it.
const DeviceType *deviceType(mlir::Type t);
/// The C element type a buffer of |t| stores ("float", "unsigned short",
/// "int", ...), or "" when the emitters do not support it.
std::string cType(mlir::Type t);
/// |stored| (an element of a buffer of |t|) in |t|'s compute type.
std::string loadAsCompute(mlir::Type t, const std::string &stored);
/// The statement storing |computed| (any arithmetic type) into |element|, an
/// element of a buffer of |t|, rounding once.
std::string storeStatement(mlir::Type t, const std::string &element, const std::string &computed);
/// Whether |t| (a tensor type or an element type) is f16 or bf16.
bool isSixteenBit(mlir::Type t);
/// |computed| (f32) rounded to |t| where |t| is f16 or bf16: how a kernel
/// keeps a 16-bit value in registers exactly as storing it would round it.
std::string roundedTo(mlir::Type t, const std::string &computed);
/// The conversion functions and buffer views the element types of |group|
/// need (the 16-bit types and what bufferViews() declares).
std::string deviceTypeHelpers(dl::FusedOp group);

/// "const float *__restrict__ in0, ..., float *__restrict__ out0, ..."
/// |restrictPointers| false for kernels whose results alias their inputs.
/// A buffer that holds another type than its value's compute type (16-bit
/// storage, a folded cast) is passed as in<k>_raw / out<k>_raw and seen
/// through a view of the plain name (bufferViews).
/// |scratch|, when not "": the C element type of the scratch parameter,
/// which follows the results.
std::string parameterList(dl::FusedOp group, bool takesStep, bool restrictPointers = true,
                          const std::string &scratch = "");
/// The view declarations opening every kernel body: in<k> and out<k> for
/// the buffers parameterList passes raw, indexed like float arrays
/// (dlc_in reads convert and round, dlc_out stores round and convert).
std::string bufferViews(dl::FusedOp group);
/// Whether any buffer of |group| is seen through a view (no vector loads).
bool hasBufferViews(dl::FusedOp group);
/// Whether a cast folded into |group|'s loads or stores makes a buffer hold
/// another type than the value the group computes with (foldBoundaryCasts).
bool foldsCasts(dl::FusedOp group);
/// Whether |v| is an f32 value that, if it leaves the group, is stored as
/// f32 without a view: what float atomics (sums into a zeroed result) need.
bool isPlainF32(dl::FusedOp group, mlir::Value v);
/// The opening of a kernel's source: a comment naming its group, .dl
/// locations and launch, then the device functions that the elementwise
/// expressions of the group's ops call (so every family can hold any of them).
std::string header(dl::FusedOp group, const CudaKernel &kernel);

/// The CUDA expressions of sigmoid and tanh of |x|: the one definition each
/// that the sigmoid and tanh ops, GELU's tanh form, the LSTM's gates and the
/// binary cross-entropy of logits all use, so they give the same bits.
std::string sigmoidOf(const ComputeType &t, const std::string &x);
std::string tanhOf(const ComputeType &t, const std::string &x);

/// The expression computing elementwise |op| from its operands' names, or ""
/// when |op| is not elementwise; sets *usesStep for training-mode dropout,
/// whose mask is drawn by |index|, the element's flat index in the tensor.
std::string elementwiseExpression(const ComputeType &t, mlir::Operation *op,
                                  llvm::ArrayRef<std::string> operands, bool *usesStep,
                                  const std::string &index = "i");
/// The device functions elementwiseExpression's results for |group| call.
std::string elementwiseHelpers(dl::FusedOp group);

/// The counter-based generator of runtime/counter_rng.h as device functions
/// dlc_mix64(z) and dlc_uniform01(seed, stream, index).
const char *counterRngSource();

/// Whether |op| is a pooling op or a pooling gradient.
bool isGatherOp(mlir::Operation *op);
/// A device function |name|(operand pointers..., long long i) computing
/// element i of pooling op |op|'s result.
std::string gatherFunction(const ComputeType &t, mlir::Operation *op, const std::string &name);

/// Whether a conv2d kernel can end in |pool|, pooling inside its output
/// tile: windows no larger than a tile and no gaps between them.
bool poolJoinsConvolution(mlir::Operation *pool);
/// Whether a dense kernel can end in |softmax| as a row epilogue: it
/// normalizes along the last axis, the rows of the product.
bool softmaxJoinsDense(mlir::Operation *softmax);

/// Whether |group| is one dl.cast between supported types.
bool isCastGroup(dl::FusedOp group);
mlir::LogicalResult emitCast(dl::FusedOp group, CudaKernel &kernel);

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
bool isMetricGroup(dl::FusedOp group);
mlir::LogicalResult emitMetric(dl::FusedOp group, CudaKernel &kernel);
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

/// A dense (its bias, then relu or tanh-form GELU), dense_grad_input or
/// dense_grad_kernel whose operands are stored as the product reads them:
/// one call of the library routine "matmul" (EmitLibraryMatmul.cpp).
bool isLibraryMatmulGroup(dl::FusedOp group);
mlir::LogicalResult emitLibraryMatmul(dl::FusedOp group, CudaKernel &kernel);
/// Whether the cost model prefers cuBLASLt for |group| (--kernels auto).
bool libraryMatmulWorthCalling(dl::FusedOp group);
/// Whether a library call of |flops| outruns the generated kernel (the cost
/// model of --kernels auto, EmitLibraryMatmul.cpp).
bool libraryPays(double flops);

/// A library call's op and the activation its epilogue applies (null when
/// none): the group's ops when they are |op| alone or followed by an
/// activation of its result that |epilogue| accepts, where the one result
/// leaving the group is the last op's.
struct LibraryOps {
  mlir::Operation *op = nullptr, *activation = nullptr;
};
std::optional<LibraryOps> libraryOps(dl::FusedOp group, llvm::function_ref<bool(mlir::Operation *)> isOp,
                                     llvm::function_ref<bool(mlir::Operation *op, mlir::Operation *next)> epilogue);
/// The source text that names a library call (kernels of equal text are one
/// kernel; nothing is compiled): "// <kernel>: <title> <ints> <texts> type=<t>".
std::string librarySource(dl::FusedOp group, const std::string &title, const LibraryCallCode &call,
                          mlir::Type element);

/// Whether |op| is a product marked dl.tf32 whose matrix operands are f32:
/// it reads them rounded to TF32 (runtime/tf32.h states the rounding).
bool readsTf32(mlir::Operation *op);
/// Where a library call of product |op| over |element| runs: tensor cores
/// for 16-bit, or for f32 under dl.tf32; else the CUDA cores.
TensorCores libraryTensorCores(mlir::Operation *op, mlir::Type element);

/// A conv2d (its bias, then relu), conv2d_grad_input or conv2d_grad_kernel
/// in one stored type whose padding is symmetric: one call of the library
/// routine "convolution" (EmitLibraryConvolution.cpp).
bool isLibraryConvolutionGroup(dl::FusedOp group);
mlir::LogicalResult emitLibraryConvolution(dl::FusedOp group, CudaKernel &kernel);
/// Whether the cost model prefers cuDNN for |group| (--kernels auto).
bool libraryConvolutionWorthCalling(dl::FusedOp group);

/// A dl.lstm or dl.lstm_grad (its weight gradients used) in one stored type:
/// one call of the library routine "lstm" (EmitLibraryRecurrent.cpp).
bool isLibraryLstmGroup(dl::FusedOp group);
mlir::LogicalResult emitLibraryLstm(dl::FusedOp group, CudaKernel &kernel);
bool libraryLstmWorthCalling(dl::FusedOp group);

/// A single dl.optimizer_update (in place on parameter storage).
bool isOptimizerGroup(dl::FusedOp group);
mlir::LogicalResult emitOptimizer(dl::FusedOp group, CudaKernel &kernel);
bool isLossScaleGroup(dl::FusedOp group);
mlir::LogicalResult emitLossScale(dl::FusedOp group, CudaKernel &kernel);
/// A single dl.gradient_norm.
bool isGradientNormGroup(dl::FusedOp group);
mlir::LogicalResult emitGradientNorm(dl::FusedOp group, CudaKernel &kernel);

/// A single dl.augment (one data transform of the batch).
bool isAugmentGroup(dl::FusedOp group);
mlir::LogicalResult emitAugment(dl::FusedOp group, CudaKernel &kernel);

} // namespace dlc::cuda
