//===- CudaEmitter.cpp - Kernel signature and dispatch by group kind ------===//
#include "compiler/Codegen/CUDA/CudaEmitter.h"

#include "compiler/Codegen/CUDA/EmitterSupport.h"
#include "compiler/Transforms/PrecisionPolicy.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

using namespace mlir;

namespace dlc::cuda {
namespace {

std::string identifier(StringRef name) {
  std::string id = "k_";
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return id;
}

/// FNV-1a: names kernels by their code, so equal kernels share a name (and
/// a compiled image) and a kernel keeps its name when others change.
uint64_t fnv1a(const std::string &text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr const char *kPlaceholder = "DLC_KERNEL_NAME";

void collectLocations(Location loc, std::vector<std::string> &out) {
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location l : fused.getLocations())
      collectLocations(l, out);
  } else if (auto named = dyn_cast<NameLoc>(loc)) {
    collectLocations(named.getChildLoc(), out);
  } else if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    std::string text = file.getFilename().str() + ":" + std::to_string(file.getLine()) + ":" +
                       std::to_string(file.getColumn());
    if (std::find(out.begin(), out.end(), text) == out.end())
      out.push_back(text);
  }
}

} // namespace

namespace {
constexpr const char *kInputStorageAttr = "dl.input_storage", *kResultStorageAttr = "dl.result_storage";

Type elementOf(Type t) { return isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t; }

Type storageAt(dl::FusedOp group, const char *attr, unsigned i, Type value) {
  if (auto list = group->getAttrOfType<ArrayAttr>(attr))
    if (i < list.size())
      if (auto type = dyn_cast<TypeAttr>(list[i]))
        return type.getValue();
  return elementOf(value);
}

/// Whether a buffer holding |storage| for a value of |value| is read and
/// written through a view: 16-bit storage, or a folded cast to round.
bool viewed(Type storage, Type value) {
  return isSixteenBit(storage) || elementOf(storage) != elementOf(value);
}

/// R of dlc_round<R> for values of |t|.
int roundingOf(Type t) { return elementOf(t).isF16() ? 1 : elementOf(t).isBF16() ? 2 : 0; }
} // namespace

/// The values the kernel computes with: block arguments and yielded values
/// (in a folded copy their types differ from the buffers').
SmallVector<Value> inputValues(dl::FusedOp group) {
  return SmallVector<Value>(group.getBody().front().getArguments());
}
SmallVector<Value> resultValues(dl::FusedOp group) {
  return SmallVector<Value>(cast<dl::YieldOp>(group.getBody().front().getTerminator()).getValues());
}

Type inputStorage(dl::FusedOp group, unsigned i) {
  return storageAt(group, kInputStorageAttr, i, inputValues(group)[i].getType());
}

Type resultStorage(dl::FusedOp group, unsigned i) {
  return storageAt(group, kResultStorageAttr, i, resultValues(group)[i].getType());
}

dl::FusedOp foldBoundaryCasts(dl::FusedOp group) {
  OpBuilder b(group.getContext());
  auto copy = cast<dl::FusedOp>(b.clone(*group.getOperation()));
  Block &body = copy.getBody().front();
  SmallVector<Attribute> inputs, results;
  for (BlockArgument arg : body.getArguments())
    inputs.push_back(TypeAttr::get(elementOf(arg.getType())));
  auto yield = cast<dl::YieldOp>(body.getTerminator());
  for (Value v : yield.getValues())
    results.push_back(TypeAttr::get(elementOf(v.getType())));
  bool folded = false;
  // A group of casts alone is the cast family's: nothing would be left.
  if (llvm::all_of(body.without_terminator(), [](Operation &op) { return isa<dl::CastOp>(op); }))
    return copy;
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    auto c = dyn_cast<dl::CastOp>(op);
    if (!c || !isa<FloatType>(elementOf(c.getInput().getType())) ||
        !isa<FloatType>(elementOf(c.getResult().getType())))
      continue;
    // Views compute in f32: between f64 and a 16-bit type that would round
    // twice, so such a cast stays an op (the elementwise family rounds once).
    Type from = elementOf(c.getInput().getType()), to = elementOf(c.getResult().getType());
    if ((from.isF64() && isSixteenBit(to)) || (to.isF64() && isSixteenBit(from)))
      continue;
    auto arg = dyn_cast<BlockArgument>(c.getInput());
    if (arg && arg.hasOneUse()) { // a load that rounds
      arg.setType(c.getResult().getType());
      c.getResult().replaceAllUsesWith(arg);
      c->erase();
      folded = true;
      continue;
    }
    Value source = c.getInput();
    if (!arg && llvm::all_of(c.getResult().getUsers(), [&](Operation *u) { return u == yield; }) &&
        llvm::none_of(source.getUsers(), [&](Operation *u) { return u == yield; })) {
      for (OpOperand &use : yield->getOpOperands())
        if (use.get() == c.getResult()) { // a store that converts
          results[use.getOperandNumber()] = TypeAttr::get(elementOf(c.getResult().getType()));
          use.set(source);
        }
      c->erase();
      folded = true;
    }
  }
  if (folded) {
    copy->setAttr(kInputStorageAttr, b.getArrayAttr(inputs));
    copy->setAttr(kResultStorageAttr, b.getArrayAttr(results));
  }
  return copy;
}

std::string parameterList(dl::FusedOp group, bool takesStep, bool restrictPointers,
                          const std::string &scratch) {
  std::string restrict = restrictPointers ? " *__restrict__ " : " *";
  std::string params;
  auto add = [&](const std::string &p) { params += (params.empty() ? "" : ", ") + p; };
  for (auto [i, v] : llvm::enumerate(inputValues(group))) {
    Type storage = inputStorage(group, unsigned(i));
    add("const " + cType(storage) + restrict + "in" + std::to_string(i) +
        (viewed(storage, v.getType()) ? "_raw" : ""));
  }
  for (auto [i, v] : llvm::enumerate(resultValues(group))) {
    Type storage = resultStorage(group, unsigned(i));
    add(cType(storage) + restrict + "out" + std::to_string(i) +
        (viewed(storage, v.getType()) ? "_raw" : ""));
  }
  if (!scratch.empty())
    add(scratch + restrict + "scratch");
  if (takesStep) // the training step, in device memory
    add("const unsigned long long" + restrict + "step");
  return params;
}

std::string bufferViews(dl::FusedOp group) {
  std::string views;
  // One view: |kind| (dlc_in, dlc_out) of buffer |name| holding |storage|
  // for a value of type |value|, rounding reads or writes to |value|'s type
  // when a folded cast made them differ.
  auto view = [&](const char *kind, const std::string &name, Type storage, Type value) {
    if (!viewed(storage, value))
      return;
    int rounding = elementOf(storage) == elementOf(value) ? 0 : roundingOf(value);
    views += "  const " + std::string(kind) + "<" + cType(storage) + ", " + std::to_string(rounding) +
             "> " + name + "{" + name + "_raw};\n";
  };
  for (auto [i, v] : llvm::enumerate(inputValues(group)))
    view("dlc_in", "in" + std::to_string(i), inputStorage(group, unsigned(i)), v.getType());
  for (auto [i, v] : llvm::enumerate(resultValues(group)))
    view("dlc_out", "out" + std::to_string(i), resultStorage(group, unsigned(i)), v.getType());
  return views;
}

bool hasBufferViews(dl::FusedOp group) { return !bufferViews(group).empty(); }

std::optional<LibraryOps> libraryOps(dl::FusedOp group, function_ref<bool(Operation *)> isOp,
                                     function_ref<bool(Operation *op, Operation *next)> epilogue) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBody().front().without_terminator())
    ops.push_back(&op);
  if (ops.empty() || ops.size() > 2 || !isOp(ops[0]))
    return std::nullopt;
  LibraryOps found{ops[0], nullptr};
  if (ops.size() == 2) {
    // One output: the op's own result must not leave the group.
    if (ops[1]->getNumOperands() < 1 || ops[1]->getOperand(0) != ops[0]->getResult(0) ||
        !epilogue(ops[0], ops[1]) || resultIndex(group, ops[0]->getResult(0)) >= 0)
      return std::nullopt;
    found.activation = ops[1];
  }
  // The call writes that result, which something must read.
  if (resultIndex(group, ops.back()->getResult(0)) < 0)
    return std::nullopt;
  return found;
}

std::string librarySource(dl::FusedOp group, const std::string &title, const LibraryCallCode &call, Type element) {
  std::string text = "// " + std::string(group.getKernelName()) + ": " + title;
  for (const auto &[name, value] : call.ints)
    text += " " + name + "=" + std::to_string(value);
  for (const auto &[name, value] : call.texts)
    text += " " + name + "=" + value;
  std::string type;
  llvm::raw_string_ostream(type) << element;
  return text + " type=" + type + "\n";
}

bool readsTf32(Operation *op) {
  return op->hasAttr(precision::kTf32Attr) && op->getNumOperands() >= 2 &&
         elementOf(op->getOperand(0).getType()).isF32() && elementOf(op->getOperand(1).getType()).isF32();
}

TensorCores libraryTensorCores(Operation *op, Type element) {
  return !element.isF32() ? TensorCores::k16Bit : readsTf32(op) ? TensorCores::kTf32 : TensorCores::kNone;
}

bool foldsCasts(dl::FusedOp group) {
  for (auto [i, v] : llvm::enumerate(inputValues(group)))
    if (elementOf(inputStorage(group, unsigned(i))) != elementOf(v.getType()))
      return true;
  for (auto [i, v] : llvm::enumerate(resultValues(group)))
    if (elementOf(resultStorage(group, unsigned(i))) != elementOf(v.getType()))
      return true;
  return false;
}

bool isPlainF32(dl::FusedOp group, Value v) {
  // (|v| is a value inside the group; resultIndex finds where it leaves.)
  if (!elementOf(v.getType()).isF32())
    return false;
  int i = resultIndex(group, v);
  return i < 0 || resultStorage(group, unsigned(i)).isF32();
}

std::string indented(const std::string &code) {
  std::string out;
  for (size_t at = 0; at < code.size();) {
    size_t end = code.find('\n', at);
    end = end == std::string::npos ? code.size() : end + 1;
    out += "  " + code.substr(at, end - at);
    at = end;
  }
  return out;
}

std::string ll(int64_t v) { return std::to_string(v) + "ll"; }

std::string inputName(Value blockArgument) {
  return "in" + std::to_string(cast<BlockArgument>(blockArgument).getArgNumber());
}

int resultIndex(dl::FusedOp group, Value v) {
  auto yield = cast<dl::YieldOp>(group.getBody().front().getTerminator());
  for (auto [i, y] : llvm::enumerate(yield.getValues()))
    if (y == v)
      return int(i);
  return -1;
}

std::string resultName(dl::FusedOp group, Value v) {
  int i = resultIndex(group, v);
  return i < 0 ? "" : "out" + std::to_string(i);
}

std::string AxisSplit::at(const std::string &o, const std::string &c, const std::string &i) const {
  return "((" + o + ") * " + ll(size) + " + (" + c + ")) * " + ll(inner) + " + (" + i + ")";
}

WindowAxis windowAxis(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same) {
  int64_t span = dilation * (window - 1) + 1;
  if (!same)
    return {(in - span) / stride + 1, 0};
  int64_t out = (in + stride - 1) / stride;
  return {out, std::max<int64_t>((out - 1) * stride + span - in, 0) / 2};
}

AxisSplit splitAt(ArrayRef<int64_t> shape, int64_t axis) {
  int64_t a = axis < 0 ? axis + int64_t(shape.size()) : axis;
  AxisSplit s{1, shape[a], 1};
  for (int64_t i = 0; i < a; ++i)
    s.outer *= shape[i];
  for (int64_t i = a + 1; i < int64_t(shape.size()); ++i)
    s.inner *= shape[i];
  return s;
}

std::string header(dl::FusedOp group, const CudaKernel &kernel) {
  std::vector<std::string> locations;
  collectLocations(group.getLoc(), locations);
  std::string text = "// " + group.getKernelName().str() + " from";
  for (const std::string &l : locations)
    text += " " + l;
  text += "\n// launch: grid (" + std::to_string(kernel.grid[0]) + ", " +
          std::to_string(kernel.grid[1]) + ", " + std::to_string(kernel.grid[2]) + "), block (" +
          std::to_string(kernel.block[0]) + ", " + std::to_string(kernel.block[1]) + ", " +
          std::to_string(kernel.block[2]) + "), shared " + std::to_string(kernel.sharedBytes) +
          " bytes\n";
  return text + deviceTypeHelpers(group) + elementwiseHelpers(group);
}

namespace {
std::string launchLimitError(const std::array<int64_t, 3> &g, const std::array<int64_t, 3> &b,
                             int64_t sharedBytes) {
  using L = LaunchLimits;
  auto text = [](const std::array<int64_t, 3> &d) {
    return "(" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " + std::to_string(d[2]) + ")";
  };
  for (int i = 0; i < 3; ++i)
    if (g[i] < 1 || b[i] < 1)
      return "grid " + text(g) + " or block " + text(b) + " has an empty dimension";
  if (g[0] > L::kGridX || g[1] > L::kGridYZ || g[2] > L::kGridYZ)
    return "grid " + text(g) + " exceeds CUDA's (2^31 - 1, 65535, 65535)";
  if (b[0] > L::kBlockXY || b[1] > L::kBlockXY || b[2] > L::kBlockZ ||
      b[0] * b[1] * b[2] > L::kThreadsPerBlock)
    return "block " + text(b) + " exceeds CUDA's 1024 threads (1024, 1024, 64)";
  if (sharedBytes > L::kStaticSharedBytes)
    return std::to_string(sharedBytes) + " bytes of static shared memory exceed 48 KiB";
  return "";
}
} // namespace

std::string launchLimitError(const CudaKernel &kernel) {
  std::string error = launchLimitError(kernel.grid, kernel.block, kernel.sharedBytes);
  for (const CudaStage &stage : kernel.then)
    if (error.empty() && !(error = launchLimitError(stage.grid, stage.block, stage.sharedBytes)).empty())
      error = "stage " + stage.entry + ": " + error;
  return error;
}

namespace {
constexpr CudaFamily kFamilies[] = {
    {"cast", "one cast between f16, bf16, f32, f64, i32 and i64",
     "a grid-stride loop over the elements, 256 threads", "", 0.5, isCastGroup, emitCast,
     /*mayUseScratch=*/false, kEveryElementType},
    {"embedding", "one embedding (a gather of rows) or embedding_grad (a scatter-add)",
     "a grid-stride loop over the gathered elements, 256 threads", "", 0.5, isEmbeddingGroup,
     emitEmbedding},
    {"metric", "one metric score of each example (top_k or binary)",
     "a warp per example, its lanes across the classes", "", 0.5, isMetricGroup, emitMetric},
    {"loss", "a cross-entropy from logits (categorical or sparse), its gradient, the gradient then bias_grad, "
             "or each example's loss",
     "a warp per row; the loss's blocks add their rows' sums in a fixed order, the last block the "
     "blocks' sums", "", 0.5,
     isLossGroup, emitLoss, /*mayUseScratch=*/true},
    {"optimizer", "optimizer_updates of one optimizer (dlc-fuse merges up to 32), in place on each parameter "
                  "and its slots",
     "a grid-stride loop over every parameter's elements, one parameter after another", "", 0.5,
     isOptimizerGroup, emitOptimizer},
    {"loss_scale", "one loss_scale_update: whether every gradient is finite, and the next loss scale",
     "one block of 256 threads over every gradient", "", 0.5, isLossScaleGroup, emitLossScale},
    {"gradient_norm", "one gradient_norm: the L2 norm of one or all gradients, for clipping by norm",
     "one block of 256 threads over every gradient, f64 sums added in a fixed order", "", 0.5,
     isGradientNormGroup, emitGradientNorm},
    {"augment", "one augment: a data transform of the training batch (flip, rotation, zoom, ...)",
     "a grid-stride loop over the elements, 256 threads; a block per image for random_contrast", "", 0.5,
     isAugmentGroup, emitAugment},
    {"recurrent", "one lstm or lstm_grad over the whole sequence",
     "every step's input product at once (a tiled product over all rows and steps), then the time loop inside "
     "one launch: on sm_90 a thread-block cluster of 8 blocks per few batch rows, each block a slice of the units "
     "(h exchanged through distributed shared memory, one cluster barrier a step), before sm_90 a block per "
     "batch row (up to 8 rows per block when they fit and the blocks still cover 132 SMs); lstm_grad's "
     "recurrence likewise (each block's parts of dh sent to the blocks owning the units, added in rank order), "
     "then its weight gradients and dx as two more tiled products (no atomics)",
     "a step's arrays go to the kernel's scratch when they exceed shared memory",
     // A block per batch row's time loop: each step waits on the last and
     // reads the recurrent kernel from L2 (the clusters and the tiled
     // products: their own estimates, CudaStage::efficiency).
     0.1, isRecurrentGroup,
     emitRecurrent, /*mayUseScratch=*/true},
    {"normalization", "one softmax or softmax_grad along its axis, or one batch_norm op over the other axes",
     "a warp per line (softmax) or a block per channel (batch_norm)", "", 0.5, isNormalizationGroup,
     emitNormalization},
    {"gemm",
     "dense, conv2d or a gradient product, then elementwise epilogue ops, then a max or avg pool "
     "(conv2d) or a trailing bias_grad; or dense then a softmax of its rows",
     "64x64 output tiles, 256 threads each, 4x4 adjacent outputs a thread (128x64 or 128x128 tiles, 8x4 or 8x8, "
     "where a product has 264 of them; on tensor cores 2x2 or 4x2 fragments a warp), the next k-step's tiles loaded "
     "during this one's products (double-buffered); a long K over few tiles "
     "split over grid.z (with an epilogue or under --deterministic serially: the tile's last split adds "
     "the parts in order); with a softmax, the last tile of each row strip normalises it",
     "a pool only when its window fits a tile and windows leave no gaps (stride <= window)",
     // Per k-step of 16 each thread does 256 FMAs against 32 float4 shared
     // loads, the next tile's global loads in flight meanwhile (registers,
     // not cp.async): an estimate of 15-25 of an H200's 67 f32 TFLOP/s,
     // until the GPU check measures. The larger tiles' own: EmitGemm.cpp's
     // Tiling.
     0.3, isGemmGroup, emitGemm, /*mayUseScratch=*/true},
    {"cublaslt_matmul",
     "dense (with its bias, then relu or tanh-form GELU), dense_grad_input or dense_grad_kernel, "
     "operands stored as the product reads them",
     "one cuBLASLt matmul call (the emulation: a reference with its contract, runtime/cuda/matmul.h)",
     "only under --kernels library or auto; one element type (f32, f16 or bf16) throughout",
     // cuBLASLt's SGEMM and HGEMM kernels, as PyTorch measures them on Hopper.
     0.7, isLibraryMatmulGroup, emitLibraryMatmul, /*mayUseScratch=*/false, kF32 | kF16 | kBF16,
     /*library=*/true, libraryMatmulWorthCalling},
    {"cudnn_conv",
     "conv2d (with its bias, then relu), conv2d_grad_input or conv2d_grad_kernel, operands stored as "
     "the convolution reads them",
     "one cuDNN convolution call, the filter transposed to cuDNN's layout in its scratch (the emulation: "
     "a reference with its contract, runtime/cuda/convolution.h)",
     "only under --kernels library or auto; one element type (f32, f16 or bf16) throughout; symmetric "
     "padding (valid, or same with an even total)",
     // cuDNN's implicit-GEMM convolutions, as PyTorch measures them on Hopper.
     0.7, isLibraryConvolutionGroup, emitLibraryConvolution, /*mayUseScratch=*/true, kF32 | kF16 | kBF16,
     /*library=*/true, libraryConvolutionWorthCalling},
    {"cudnn_lstm", "one lstm or lstm_grad (its weight gradients used), its tensors in one type",
     "cuDNN's RNN over the whole sequence, the weights transposed into cuDNN's weight space per call (the "
     "emulation: a reference with its contract, runtime/cuda/lstm.h)",
     "only under --kernels library or auto; one element type (f32, f16 or bf16) throughout",
     // cuDNN's persistent-free standard LSTM: its gate products are GEMMs
     // over the batch, the recurrence kept on chip.
     0.5, isLibraryLstmGroup, emitLibraryLstm, /*mayUseScratch=*/false, kF32 | kF16 | kBF16,
     /*library=*/true, libraryLstmWorthCalling},
    {"elementwise", "elementwise ops over one shape, pools and gathers of group inputs, a trailing bias_grad",
     "a grid-stride loop over the elements, 256 threads", "a pool reads group inputs only", 0.5,
     isElementwiseGroup, emitElementwise, /*mayUseScratch=*/false, kComputeTypes | kF64},
};
} // namespace

ArrayRef<CudaFamily> cudaFamilies() { return kFamilies; }

FailureOr<int64_t> scratchBytes(dl::FusedOp group) {
  int64_t most = 0;
  for (Plan plan : {Plan::kChosen, Plan::kAlternative}) {
    ArrayAttr chosen = plan == Plan::kChosen ? group.getKernelsFor("cuda") : group.getAlternativeKernelsFor("cuda");
    if (!chosen || chosen.size() != 1 || !isa<StringAttr>(chosen[0]))
      continue;
    bool none = false;
    for (const CudaFamily &f : kFamilies)
      none |= cast<StringAttr>(chosen[0]).getValue() == f.name && !f.mayUseScratch && !orderedSums(group);
    if (none)
      continue;
    FailureOr<CudaKernel> kernel = emitKernel(group, plan);
    if (failed(kernel))
      return failure();
    most = std::max(most, kernel->scratchBytes);
  }
  return most;
}

FailureOr<CudaKernel> emitKernel(dl::FusedOp group, Plan plan) {
  ArrayAttr chosen = plan == Plan::kChosen ? group.getKernelsFor("cuda") : group.getAlternativeKernelsFor("cuda");
  if (!chosen && plan == Plan::kAlternative)
    return group.emitError("the kernel group '") << group.getKernelName() << "' has no alternative CUDA plan";
  if (!chosen || chosen.size() != 1 || !isa<StringAttr>(chosen[0]))
    return group.emitError("the kernel group '")
           << group.getKernelName()
           << "' has no CUDA kernel family chosen (run dlc-select-kernels with target cuda)";
  StringRef name = cast<StringAttr>(chosen[0]).getValue();
  const CudaFamily *family = nullptr;
  for (const CudaFamily &f : kFamilies)
    if (name == f.name)
      family = &f;
  if (!family)
    return group.emitError("unknown CUDA kernel family '") << name << "'";
  CudaKernel kernel;
  kernel.name = kPlaceholder;
  kernel.family = family->name;
  kernel.efficiency = family->efficiency;
  // The family writes the group with its boundary casts folded into loads
  // and stores, against views of the buffers that need converting.
  dl::FusedOp folded = foldBoundaryCasts(group);
  LogicalResult emitted = family->emit(folded, kernel);
  std::string views = bufferViews(folded);
  folded->erase();
  if (failed(emitted))
    return failure();
  // A library call reads its buffers as they are stored: no code to view them.
  std::vector<std::string> entries = {kPlaceholder};
  for (const CudaStage &stage : kernel.then)
    entries.push_back(stage.entry);
  for (const std::string &entry : entries) {
    if (views.empty() || kernel.library)
      break;
    // Every definition (an entry may have one per architecture).
    size_t signature = kernel.source.find(entry + "(");
    if (signature == std::string::npos)
      return group.emitError("the CUDA kernel of group '") << group.getKernelName()
                                                          << "' has no body to open with its buffer views";
    for (; signature != std::string::npos; signature = kernel.source.find(entry + "(", signature + 1)) {
      size_t body = kernel.source.find(") {\n", signature);
      if (body == std::string::npos)
        return group.emitError("the CUDA kernel of group '") << group.getKernelName()
                                                            << "' has no body to open with its buffer views";
      kernel.source.insert(body + 4, views);
    }
  }
  // Caught here, the launch fails at compile time at the layer, not on the GPU.
  if (std::string error = launchLimitError(kernel); !error.empty())
    return group.emitError("the CUDA kernel of group '")
           << group.getKernelName() << "' cannot be launched: " << error;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a(kernel.source));
  kernel.name = identifier(group.getKernelName()) + "_" + std::string(hash, 10);
  auto rename = [&](std::string &text) {
    for (size_t at = text.find(kPlaceholder); at != std::string::npos; at = text.find(kPlaceholder, at))
      text.replace(at, std::strlen(kPlaceholder), kernel.name);
  };
  rename(kernel.source);
  for (CudaStage &stage : kernel.then)
    rename(stage.entry);
  return kernel;
}

} // namespace dlc::cuda
