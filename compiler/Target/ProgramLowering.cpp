//===- ProgramLowering.cpp - One function to one runtime program ---------===//
#include "compiler/Target/ProgramLowering.h"

#include "compiler/Analysis/KernelCost.h"
#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "compiler/Kernels/KernelRegistry.h"
#include "compiler/Transforms/PrecisionPolicy.h"
#include "dialects/DL/DLOps.h"
#include "runtime/bundle.h"
#include "runtime/tf32.h"
#include "runtime/utf8.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <limits>

using namespace mlir;
namespace fb = dlc::rt::fb;

namespace dlc {

std::optional<fb::DType> bundleDType(Type elem) {
  if (elem.isF32())
    return fb::DType::F32;
  if (elem.isF16())
    return fb::DType::F16;
  if (elem.isBF16())
    return fb::DType::BF16;
  if (elem.isF64())
    return fb::DType::F64;
  if (elem.isInteger(1))
    return fb::DType::Bool;
  auto integer = dyn_cast<IntegerType>(elem);
  if (!integer)
    return std::nullopt;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 8: return isUnsigned ? fb::DType::U8 : fb::DType::I8;
  case 16: return isUnsigned ? fb::DType::U16 : fb::DType::I16;
  case 32: return isUnsigned ? fb::DType::U32 : fb::DType::I32;
  case 64: return isUnsigned ? fb::DType::U64 : fb::DType::I64;
  default: return std::nullopt;
  }
}

namespace {

constexpr int kNeverUsed = -2;
constexpr int kProgramEnd = std::numeric_limits<int>::max();
constexpr uint64_t kAlignment = rt::kBufferAlignment;

struct Buffer {
  std::string name;
  fb::DType dtype = fb::DType::F32;
  SmallVector<int64_t> shape;
  fb::BufferKind kind = fb::BufferKind::Temp;
  int param = -1, base = -1;
  // Lifetime in kernel indices (Input: from -1), for the memory plan.
  int first = kNeverUsed, last = kNeverUsed;
  uint64_t offset = 0;
  // Where the memory plan is recorded: the function argument or op result
  // the buffer holds, or the group whose scratch it is.
  Value site;
  Operation *scratchOf = nullptr;
  std::string writesParam; // a value the plan writes into this parameter's storage

  uint64_t bytes() const {
    uint64_t n = rt::dtypeSize(rt::fromFbDType(dtype));
    for (int64_t d : shape)
      n *= uint64_t(d);
    return n;
  }
};

struct OpRecord {
  Operation *op;
  SmallVector<uint32_t> inputs, outputs;
};

struct KernelRecord {
  dl::FusedOp fused; // null for a copy the lowering adds
  std::string name;
  SmallVector<OpRecord> ops;
  SmallVector<uint32_t> args; // the group's inputs, then its results
  std::vector<fb::CpuCall> cpu;
};

FailureOr<fb::DType> dtypeOf(Location loc, Type t) {
  Type elem = cast<ShapedType>(t).getElementType();
  if (auto dtype = bundleDType(elem))
    return *dtype;
  return emitError(loc) << "bundles hold f32, f16, bf16, f64, signed and unsigned integers of "
                           "8 to 64 bits and i1, not "
                        << elem;
}

/// The attribute names of the memory plan (dlc-plan-memory), in one place.
constexpr StringLiteral kMemoryAttr = "dl.memory";       // per op result / argument
constexpr StringLiteral kScratchAttr = "dl.scratch";     // [bytes, offset] of a group
constexpr StringLiteral kArenaAttr = "dl.arena_bytes";   // on the function
constexpr StringLiteral kUnstored = "unstored";

/// Builds a program's buffers and kernels from |func|. With a computed
/// plan (dlc-plan-memory) it decides in-place parameter writes and arena
/// offsets and records them in the IR; with a recorded plan (bundle
/// writing) it reads and checks them, then emits the program.
class Lowering {
public:
  enum class Plan { Compute, Recorded };
  Lowering(func::FuncOp func, const llvm::StringMap<int> &parameterIndex,
           const KernelCodeMap &code, bool cudaTarget, Plan plan,
           flatbuffers::FlatBufferBuilder *fbb)
      : func(func), parameterIndex(parameterIndex), code(code), cudaTarget(cudaTarget),
        plan(plan), fbb(fbb) {}

  /// Everything but the emission: buffers, kernels, lifetimes, the plan.
  LogicalResult build();
  flatbuffers::Offset<fb::Program> emit(StringRef name);
  /// Writes the computed plan into the IR.
  void recordPlan();

private:
  FailureOr<int> newBuffer(Value v, fb::BufferKind kind, std::string name);
  int root(int b) const { return buffers[b].base >= 0 ? root(buffers[b].base) : b; }
  void use(int b, int kernel) {
    Buffer &r = buffers[root(b)];
    r.last = std::max(r.last, kernel);
  }
  void define(int b, int kernel) {
    Buffer &r = buffers[root(b)];
    if (r.first == kNeverUsed)
      r.first = kernel;
    r.last = std::max(r.last, kernel);
  }
  LogicalResult lowerFused(dl::FusedOp fused);
  LogicalResult lowerAssign(dl::AssignOp assign);
  void planMemory();
  LogicalResult readPlan();
  /// The plan recorded for |site|, or null.
  Attribute recorded(Value site);

  func::FuncOp func;
  const llvm::StringMap<int> &parameterIndex;
  const KernelCodeMap &code;
  bool cudaTarget;
  Plan plan;
  flatbuffers::FlatBufferBuilder *fbb;
  std::vector<Buffer> buffers;
  DenseMap<Value, int> bufferOf;
  llvm::StringMap<int> paramBuffer;
  std::vector<KernelRecord> kernels;
  SmallVector<uint32_t> inputs, outputs;
  SmallVector<std::string> inputNames, outputNames;
  uint64_t arenaBytes = 0;
};

FailureOr<int> Lowering::newBuffer(Value v, fb::BufferKind kind, std::string name) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return emitError(v.getLoc()) << "code generation needs static shapes, got " << v.getType()
                                 << " (run dlc-infer-shapes with a batch size)";
  auto dtype = dtypeOf(v.getLoc(), type);
  if (failed(dtype))
    return failure();
  Buffer b;
  b.name = std::move(name);
  b.dtype = *dtype;
  b.shape.assign(type.getShape().begin(), type.getShape().end());
  b.kind = kind;
  buffers.push_back(std::move(b));
  bufferOf[v] = int(buffers.size() - 1);
  return int(buffers.size() - 1);
}

std::string valueName(Value v, StringRef fallback) {
  Location loc = v.getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    loc = fused.getLocations().front();
  if (auto named = dyn_cast<NameLoc>(loc))
    return named.getName().str();
  return fallback.str();
}

/// The CPU calls dlc-select-kernels recorded for |fused|, and for each op
/// the index of the call that runs it.
FailureOr<std::vector<fb::CpuCall>> cpuCalls(dl::FusedOp fused, DenseMap<Operation *, int> *callOf) {
  ArrayAttr chosen = fused.getKernelsFor("cpu");
  if (!chosen)
    return fused.emitOpError("has no CPU kernel families (run dlc-select-kernels)");
  SmallVector<Operation *> ops;
  for (Operation &op : fused.getBody().front().without_terminator())
    ops.push_back(&op);
  std::vector<fb::CpuCall> calls;
  unsigned at = 0;
  for (Attribute a : chosen) {
    auto name = dyn_cast<StringAttr>(a);
    const kernels::KernelFamily *family = name ? kernels::findFamily("cpu", name) : nullptr;
    if (!family)
      return fused.emitOpError("names an unknown CPU kernel family ") << a;
    unsigned covered = at < ops.size() ? family->covers(fused, at) : 0;
    if (covered == 0)
      return fused.emitOpError("records CPU kernel family '")
             << family->name << "' for ops it cannot run (op " << at << ")";
    // The CPU families are the runtime's routines, by name.
    auto routine = rt::enumNamed<fb::CpuRoutine>(fb::EnumNamesCpuRoutine(), family->name);
    if (!routine)
      return fused.emitOpError("CPU kernel family '") << family->name << "' is no CPU routine";
    for (unsigned i = at; i < at + covered; ++i)
      (*callOf)[ops[i]] = int(calls.size());
    calls.emplace_back(*routine, covered);
    at += covered;
  }
  if (at != ops.size())
    return fused.emitOpError("has CPU kernel families for ") << at << " of its " << ops.size()
                                                             << " ops";
  return calls;
}

/// A value made and read inside one CPU call of several ops (an
/// activation epilogue's input): the routine never writes it to memory. Or
/// a converting load: a float cast of a group input that only the group
/// reads, which CUDA folds into its loads and the CPU performs as the
/// reading call stages its operands (runtime/cpu/cpu_device.cc).
bool isUnstored(Value v, const DenseMap<Operation *, int> &callOf,
                const std::vector<fb::CpuCall> &calls) {
  Operation *producer = v.getDefiningOp();
  if (auto c = dyn_cast_or_null<dl::CastOp>(producer))
    if (isa<BlockArgument>(c.getInput()) && !v.use_empty() &&
        isa<FloatType>(cast<ShapedType>(c.getInput().getType()).getElementType()) &&
        isa<FloatType>(cast<ShapedType>(v.getType()).getElementType()) &&
        llvm::none_of(v.getUsers(), [](Operation *u) { return isa<dl::YieldOp>(u); }))
      return true;
  auto call = callOf.find(producer);
  if (call == callOf.end() || calls[size_t(call->second)].ops() < 2 || v.use_empty())
    return false;
  return llvm::all_of(v.getUsers(), [&](Operation *user) {
    auto c = callOf.find(user);
    return c != callOf.end() && c->second == call->second;
  });
}

LogicalResult Lowering::lowerFused(dl::FusedOp fused) {
  int k = int(kernels.size());
  KernelRecord kernel{fused, fused.getKernelName().str(), {}};
  DenseMap<Operation *, int> callOf;
  auto calls = cpuCalls(fused, &callOf);
  if (failed(calls))
    return failure();
  kernel.cpu = std::move(*calls);
  Block &body = fused.getBody().front();
  DenseMap<Value, int> inner;
  for (auto [arg, input] : llvm::zip(body.getArguments(), fused.getInputs())) {
    if (!bufferOf.count(input))
      return fused.emitOpError("input has no buffer (an op outside dl.fused groups? run dlc-fuse)");
    inner[arg] = bufferOf[input];
    kernel.args.push_back(uint32_t(bufferOf[input]));
  }
  auto yield = cast<dl::YieldOp>(body.getTerminator());
  DenseMap<Value, Value> yieldedAs;
  for (auto [v, r] : llvm::zip(yield.getValues(), fused.getResults()))
    yieldedAs[v] = r;
  for (Operation &op : body.without_terminator()) {
    OpRecord rec{&op, {}, {}};
    for (Value v : op.getOperands()) {
      int b = inner.lookup(v);
      rec.inputs.push_back(uint32_t(b));
      use(b, k);
    }
    for (Value r : op.getResults()) {
      int b;
      if (Value outer = yieldedAs.lookup(r)) {
        auto created = newBuffer(outer, fb::BufferKind::Temp, valueName(r, kernel.name));
        if (failed(created))
          return failure();
        b = *created;
        buffers[b].site = r;
      } else {
        auto created = newBuffer(r,
                                 isUnstored(r, callOf, kernel.cpu) ? fb::BufferKind::Unstored
                                                                   : fb::BufferKind::Temp,
                                 valueName(r, kernel.name));
        if (failed(created))
          return failure();
        b = *created;
        buffers[b].site = r;
      }
      inner[r] = b;
      rec.outputs.push_back(uint32_t(b));
      define(b, k);
    }
    kernel.ops.push_back(std::move(rec));
  }
  for (Value v : yield.getValues())
    kernel.args.push_back(uint32_t(inner.lookup(v)));
  // The kernel's scratch: arena bytes live during this kernel only.
  int64_t scratchBytes = 0;
  if (plan == Plan::Compute) {
    auto bytes = cuda::scratchBytes(fused);
    if (failed(bytes))
      return failure();
    scratchBytes = *bytes;
  } else if (auto recordedScratch = fused->getAttrOfType<DenseI64ArrayAttr>(kScratchAttr)) {
    if (recordedScratch.size() != 2 || recordedScratch[0] <= 0)
      return fused.emitOpError("has a malformed ") << kScratchAttr;
    scratchBytes = recordedScratch[0];
  }
  if (auto it = code.find(fused.getOperation()); it != code.end()) {
    // Both plans of a group with an alternative share one scratch.
    int64_t needed = it->second.scratchBytes;
    for (const KernelCode &other : it->second.alternative)
      needed = std::max(needed, other.scratchBytes);
    if (needed != scratchBytes)
      return fused.emitOpError("the memory plan gives the CUDA kernel ")
             << scratchBytes << " bytes of scratch, it needs " << needed << " (rerun dlc-plan-memory)";
  }
  if (scratchBytes > 0) {
    Buffer scratch;
    scratch.name = kernel.name + ".scratch";
    scratch.shape = {(scratchBytes + 3) / 4};
    scratch.scratchOf = fused.getOperation();
    buffers.push_back(std::move(scratch));
    int b = int(buffers.size()) - 1;
    define(b, k);
    use(b, k);
    kernel.args.push_back(uint32_t(b));
  }
  kernels.push_back(std::move(kernel));
  return success();
}

/// dl.assign @p, %v: the kernel producing %v writes the parameter's storage
/// directly, unless a later kernel still reads the old value; then a copy
/// kernel at the end of the program writes it.
LogicalResult Lowering::lowerAssign(dl::AssignOp assign) {
  StringRef param = assign.getParam();
  auto it = parameterIndex.find(param);
  if (it == parameterIndex.end())
    return assign.emitOpError("assigns unknown parameter '") << param << "'";
  int value = bufferOf.lookup(assign.getValue());
  int pb = paramBuffer.count(param) ? paramBuffer[param] : -1;
  Buffer &v = buffers[value];
  bool inPlace;
  if (plan == Plan::Compute) {
    inPlace = v.kind == fb::BufferKind::Temp && v.base < 0 && v.first >= 0 &&
              (pb < 0 || buffers[pb].last <= v.first);
  } else {
    auto target = dyn_cast_or_null<FlatSymbolRefAttr>(v.site ? recorded(v.site) : Attribute());
    if (target && target.getValue() != param)
      return assign.emitOpError("the memory plan writes its value into parameter ")
             << target << ", not '" << param << "'";
    inPlace = bool(target);
  }
  if (inPlace) {
    v.kind = fb::BufferKind::Param;
    v.param = it->second;
    v.writesParam = param.str();
    return success();
  }
  if (pb < 0) {
    Buffer b;
    b.name = param.str();
    b.dtype = v.dtype;
    b.shape = v.shape;
    b.kind = fb::BufferKind::Param;
    b.param = it->second;
    buffers.push_back(b);
    pb = int(buffers.size() - 1);
    paramBuffer[param] = pb;
  }
  KernelRecord copy{nullptr, "assign." + param.str(), {}};
  copy.ops.push_back(OpRecord{assign, {uint32_t(value)}, {uint32_t(pb)}});
  copy.cpu = {fb::CpuCall(fb::CpuRoutine::op, 1)};
  use(value, int(kernels.size()));
  kernels.push_back(std::move(copy));
  return success();
}

LogicalResult Lowering::build() {
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    std::string argName = "arg" + std::to_string(i);
    if (auto n = func.getArgAttrOfType<StringAttr>(i, "dl.name"))
      argName = n.str();
    auto b = newBuffer(arg, fb::BufferKind::Input, argName);
    if (failed(b))
      return failure();
    buffers[*b].first = -1;
    buffers[*b].site = arg;
    inputs.push_back(uint32_t(*b));
    inputNames.push_back(argName);
  }
  SmallVector<dl::AssignOp> assigns;
  for (Operation &op : func.getBody().front()) {
    if (auto weight = dyn_cast<dl::WeightOp>(op)) {
      StringRef param = weight.getParam();
      auto it = parameterIndex.find(param);
      if (it == parameterIndex.end())
        return weight.emitOpError("reads unknown parameter '") << param << "'";
      if (paramBuffer.count(param)) {
        bufferOf[weight.getResult()] = paramBuffer[param];
        continue;
      }
      auto b = newBuffer(weight.getResult(), fb::BufferKind::Param, param.str());
      if (failed(b))
        return failure();
      buffers[*b].param = it->second;
      paramBuffer[param] = *b;
    } else if (isa<dl::FlattenOp, dl::ReshapeOp>(op)) {
      int base = bufferOf.lookup(op.getOperand(0));
      auto b = newBuffer(op.getResult(0), fb::BufferKind::View, buffers[base].name);
      if (failed(b))
        return failure();
      buffers[*b].base = root(base);
    } else if (auto fused = dyn_cast<dl::FusedOp>(op)) {
      if (failed(lowerFused(fused)))
        return failure();
    } else if (auto assign = dyn_cast<dl::AssignOp>(op)) {
      assigns.push_back(assign);
    } else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        int b = bufferOf.lookup(v);
        use(b, kProgramEnd);
        outputs.push_back(uint32_t(b));
        std::string outName = "output" + std::to_string(i);
        if (auto n = func.getResultAttrOfType<StringAttr>(i, "dl.name"))
          outName = n.str();
        outputNames.push_back(outName);
      }
    } else {
      return op.emitOpError("is not part of a kernel; run dlc-fuse before writing a bundle");
    }
  }
  for (dl::AssignOp assign : assigns)
    if (failed(lowerAssign(assign)))
      return failure();
  if (plan == Plan::Recorded)
    return readPlan();
  planMemory();
  return success();
}

Attribute Lowering::recorded(Value site) {
  if (auto arg = dyn_cast<BlockArgument>(site))
    return func.getArgAttr(arg.getArgNumber(), kMemoryAttr);
  auto result = cast<OpResult>(site);
  auto list = result.getOwner()->getAttrOfType<ArrayAttr>(kMemoryAttr);
  return list && list.size() == result.getOwner()->getNumResults()
             ? list[result.getResultNumber()]
             : Attribute();
}

void Lowering::recordPlan() {
  Builder b(func.getContext());
  DenseMap<Operation *, SmallVector<Attribute>> perOp;
  for (const Buffer &buf : buffers) {
    if (buf.scratchOf) {
      buf.scratchOf->setAttr(kScratchAttr,
                             b.getDenseI64ArrayAttr({int64_t(buf.bytes()), int64_t(buf.offset)}));
      continue;
    }
    if (!buf.site)
      continue;
    Attribute a = buf.kind == fb::BufferKind::Unstored ? Attribute(b.getStringAttr(kUnstored))
                  : buf.kind == fb::BufferKind::Param  ? Attribute(FlatSymbolRefAttr::get(
                                                            func.getContext(), buf.writesParam))
                                                       : Attribute(b.getI64IntegerAttr(int64_t(buf.offset)));
    if (auto arg = dyn_cast<BlockArgument>(buf.site)) {
      func.setArgAttr(arg.getArgNumber(), kMemoryAttr, a);
      continue;
    }
    auto result = cast<OpResult>(buf.site);
    auto &list = perOp[result.getOwner()];
    list.resize(result.getOwner()->getNumResults());
    list[result.getResultNumber()] = a;
  }
  for (auto &[op, list] : perOp)
    op->setAttr(kMemoryAttr, b.getArrayAttr(list));
  func->setAttr(kArenaAttr, b.getI64IntegerAttr(int64_t(arenaBytes)));
}

/// Takes the recorded plan and checks it as the bundle loader checks a
/// bundle: every arena buffer placed, aligned, inside the arena, and no two
/// buffers live at once sharing bytes.
LogicalResult Lowering::readPlan() {
  auto arena = func->getAttrOfType<IntegerAttr>(kArenaAttr);
  if (!arena || arena.getInt() < 0)
    return func.emitOpError("has no memory plan (run dlc-plan-memory)");
  arenaBytes = uint64_t(arena.getInt());
  std::vector<int> placed;
  for (auto [i, buf] : llvm::enumerate(buffers)) {
    if (buf.kind != fb::BufferKind::Temp && buf.kind != fb::BufferKind::Input &&
        buf.kind != fb::BufferKind::Unstored)
      continue;
    if (buf.base >= 0)
      continue;
    Attribute a;
    if (buf.scratchOf) {
      a = IntegerAttr::get(IntegerType::get(func.getContext(), 64),
                           buf.scratchOf->getAttrOfType<DenseI64ArrayAttr>(kScratchAttr)[1]);
    } else if (buf.site) {
      a = recorded(buf.site);
    }
    Location loc = buf.site ? buf.site.getLoc() : func.getLoc();
    if (buf.kind == fb::BufferKind::Unstored) {
      auto text = dyn_cast_or_null<StringAttr>(a);
      if (!text || text.getValue() != kUnstored)
        return emitError(loc) << "the memory plan stores '" << buf.name
                              << "', which its CPU call never writes";
      continue;
    }
    auto offset = dyn_cast_or_null<IntegerAttr>(a);
    if (!offset)
      return emitError(loc) << "'" << buf.name << "' has no place in the memory plan";
    if (offset.getInt() < 0 || uint64_t(offset.getInt()) % kAlignment ||
        uint64_t(offset.getInt()) > arenaBytes || buf.bytes() > arenaBytes - uint64_t(offset.getInt()))
      return emitError(loc) << "the memory plan puts '" << buf.name << "' (" << buf.bytes()
                            << " bytes) at " << offset.getInt() << ", outside the "
                            << kAlignment << "-byte aligned arena of " << arenaBytes << " bytes";
    buf.offset = uint64_t(offset.getInt());
    if (buf.first == kNeverUsed)
      buf.first = buf.last = 0;
    placed.push_back(int(i));
  }
  for (size_t x = 0; x < placed.size(); ++x)
    for (size_t y = x + 1; y < placed.size(); ++y) {
      const Buffer &a = buffers[placed[x]], &b = buffers[placed[y]];
      bool live = a.first <= b.last && b.first <= a.last;
      bool shared = a.offset < b.offset + b.bytes() && b.offset < a.offset + a.bytes();
      if (live && shared && a.bytes() && b.bytes())
        return func.emitOpError("the memory plan gives '")
               << a.name << "' and '" << b.name << "', live at once, the same bytes";
    }
  for (Buffer &b : buffers)
    if (b.kind == fb::BufferKind::View)
      b.offset = buffers[b.base].offset;
  return success();
}

/// Greedy best fit, largest buffers first: each arena buffer takes the lowest
/// offset not overlapping any already placed buffer whose lifetime overlaps.
void Lowering::planMemory() {
  std::vector<int> arena;
  for (auto [i, b] : llvm::enumerate(buffers))
    if ((b.kind == fb::BufferKind::Temp || b.kind == fb::BufferKind::Input) && b.base < 0) {
      if (b.first == kNeverUsed)
        b.first = b.last = 0;
      arena.push_back(int(i));
    }
  std::stable_sort(arena.begin(), arena.end(),
                   [&](int a, int b) { return buffers[a].bytes() > buffers[b].bytes(); });
  std::vector<int> placed;
  for (int i : arena) {
    Buffer &b = buffers[i];
    std::vector<std::pair<uint64_t, uint64_t>> taken;
    for (int j : placed) {
      const Buffer &o = buffers[j];
      if (o.first <= b.last && b.first <= o.last)
        taken.push_back({o.offset, o.offset + o.bytes()});
    }
    std::sort(taken.begin(), taken.end());
    uint64_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + b.bytes() <= lo)
        break;
      offset = std::max(offset, (hi + kAlignment - 1) / kAlignment * kAlignment);
    }
    b.offset = offset;
    arenaBytes = std::max(arenaBytes, offset + b.bytes());
    placed.push_back(i);
  }
  for (Buffer &b : buffers)
    if (b.kind == fb::BufferKind::View)
      b.offset = buffers[b.base].offset;
}

/// Attributes become (name, ints | floats | text) triples without per-op
/// code: enums as their keyword, a #dl.config as `config` = its kind plus one
/// entry per option; an option that is itself a config (a learning-rate
/// schedule) as its name = its kind plus `name.option` entries.
void appendAttr(flatbuffers::FlatBufferBuilder &fbb, StringRef name, Attribute a,
                std::vector<flatbuffers::Offset<fb::Attr>> &out) {
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::string text;
  if (auto b = dyn_cast<BoolAttr>(a))
    ints.push_back(b.getValue());
  else if (auto i = dyn_cast<IntegerAttr>(a))
    ints.push_back(i.getInt());
  else if (auto f = dyn_cast<FloatAttr>(a))
    floats.push_back(f.getValueAsDouble());
  else if (auto arr = dyn_cast<DenseI64ArrayAttr>(a))
    ints.assign(arr.asArrayRef().begin(), arr.asArrayRef().end());
  else if (auto arr = dyn_cast<DenseI32ArrayAttr>(a)) // operandSegmentSizes
    ints.assign(arr.asArrayRef().begin(), arr.asArrayRef().end());
  else if (auto s = dyn_cast<StringAttr>(a))
    text = s.str();
  else if (isa<UnitAttr>(a))
    ints.push_back(1);
  else if (auto p = dyn_cast<dl::PaddingAttr>(a))
    text = dl::stringifyPadding(p.getValue()).str();
  else if (auto list = dyn_cast<ArrayAttr>(a)) {
    for (Attribute e : list)
      if (auto f = dyn_cast<FloatAttr>(e))
        floats.push_back(f.getValueAsDouble());
      else if (auto i = dyn_cast<IntegerAttr>(e))
        ints.push_back(i.getInt());
  } else if (auto config = dyn_cast<dl::ConfigAttr>(a)) {
    text = config.getKind().str();
    std::string prefix = name == "config" ? "" : (name + ".").str();
    for (NamedAttribute option : config.getOptions())
      appendAttr(fbb, prefix + option.getName().str(), option.getValue(), out);
  } else {
    llvm::raw_string_ostream os(text);
    a.print(os);
  }
  out.push_back(fb::CreateAttrDirect(fbb, name.str().c_str(), ints.empty() ? nullptr : &ints,
                                     floats.empty() ? nullptr : &floats,
                                     text.empty() ? nullptr : text.c_str()));
}

std::string locationText(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return locationText(named.getChildLoc());
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().str() + ":" + std::to_string(file.getLine()) + ":" +
            std::to_string(file.getColumn()));
  return "";
}

/// Where |group|'s CUDA kernel computes: tensor cores when its emitter
/// used them, the f64 units for a chain computing in f64.
fb::ComputeUnit computeUnitOf(dl::FusedOp group, const KernelCode &code) {
  if (code.tensorCores == cuda::TensorCores::k16Bit)
    return fb::ComputeUnit::tensor_16bit;
  if (code.tensorCores == cuda::TensorCores::kTf32)
    return fb::ComputeUnit::tensor_tf32;
  bool f64 = false;
  group.getBody().walk([&](Operation *op) {
    for (Type t : op->getResultTypes())
      f64 |= isa<ShapedType>(t) && cast<ShapedType>(t).getElementType().isF64();
  });
  return f64 ? fb::ComputeUnit::fp64 : fb::ComputeUnit::fp32;
}

flatbuffers::Offset<fb::Program> Lowering::emit(StringRef name) {
  flatbuffers::FlatBufferBuilder &fbb = *this->fbb;
  std::vector<flatbuffers::Offset<fb::Buffer>> fbBuffers;
  for (const Buffer &b : buffers) {
    std::vector<int64_t> shape(b.shape.begin(), b.shape.end());
    fbBuffers.push_back(fb::CreateBufferDirect(fbb, b.name.c_str(), b.dtype, &shape, b.kind,
                                               b.offset, b.param, b.base));
  }
  std::vector<flatbuffers::Offset<fb::Kernel>> fbKernels;
  for (const KernelRecord &k : kernels) {
    std::vector<flatbuffers::Offset<fb::Op>> ops;
    std::vector<flatbuffers::Offset<flatbuffers::String>> locations;
    for (const OpRecord &rec : k.ops) {
      std::vector<flatbuffers::Offset<fb::Attr>> attrs;
      if (k.fused)
        for (NamedAttribute a : rec.op->getAttrs())
          if (!a.getName().strref().starts_with("dl.")) // the passes' records, not op attributes
            appendAttr(fbb, a.getName().strref(), a.getValue(), attrs);
      // A decision the runtime's routines keep (the CPU rounds the operands).
      if (k.fused && rec.op->hasAttr(precision::kTf32Attr))
        appendAttr(fbb, rt::kTf32OpAttr, UnitAttr::get(rec.op->getContext()), attrs);
      fb::OpKind kind = k.fused ? *kernels::opKindOf(rec.op) : fb::OpKind::copy;
      std::vector<uint32_t> in(rec.inputs.begin(), rec.inputs.end());
      std::vector<uint32_t> out(rec.outputs.begin(), rec.outputs.end());
      auto why = rec.op->getAttrOfType<StringAttr>("dl.precision");
      ops.push_back(fb::CreateOpDirect(fbb, kind, &in, &out, &attrs,
                                       why ? rt::toValidUtf8(why.str()).c_str() : nullptr));
      std::string where = locationText(rec.op->getLoc());
      if (!where.empty())
        locations.push_back(fbb.CreateString(rt::toValidUtf8(where))); // paths may be any bytes
    }
    dl::FusedOp fused = k.fused;
    auto it = fused ? code.find(fused.getOperation()) : code.end();
    auto cpu = fbb.CreateVectorOfStructs(k.cpu);
    auto name = fbb.CreateString(k.name);
    auto opsVector = fbb.CreateVector(ops);
    auto locationsVector = fbb.CreateVector(locations);
    if (!fused && cudaTarget) { // a copy the lowering added
      std::vector<uint32_t> from, to;
      for (const OpRecord &rec : k.ops) {
        from.push_back(rec.inputs.front());
        to.push_back(rec.outputs.front());
      }
      auto copy = fb::CreateDeviceCopyDirect(fbb, &from, &to);
      fbKernels.push_back(fb::CreateKernel(fbb, name, opsVector, locationsVector, 0, 0, 0,
                                           fb::CudaExecution::DeviceCopy, copy.Union(), cpu));
      continue;
    }
    if (it == code.end()) {
      fbKernels.push_back(fb::CreateKernel(fbb, name, opsVector, locationsVector, 0, 0, 0,
                                           fb::CudaExecution::NONE, 0, cpu));
      continue;
    }
    const KernelCode &c = it->second;
    KernelCost counted = costOf(fused);
    auto costFor = [&](const KernelCode &code) {
      return fb::CreateKernelCost(fbb, counted.flops, counted.bytes, computeUnitOf(fused, code),
                                  float(code.efficiency), uint64_t(code.globalAtomics));
    };
    // A library routine's call, or a launch of the generated source.
    auto executionOf = [&](const KernelCode &code) -> std::pair<fb::CudaExecution, flatbuffers::Offset<void>> {
      if (code.library) {
        std::vector<flatbuffers::Offset<fb::Attr>> descriptor;
        for (const auto &[attr, value] : code.library->ints) {
          std::vector<int64_t> ints = {value};
          descriptor.push_back(fb::CreateAttrDirect(fbb, attr.c_str(), &ints));
        }
        for (const auto &[attr, value] : code.library->texts)
          descriptor.push_back(fb::CreateAttrDirect(fbb, attr.c_str(), nullptr, nullptr, value.c_str()));
        std::vector<uint32_t> args; // group inputs, then results, then the scratch, in k.args
        using From = cuda::LibraryCallCode::Arg::From;
        for (const cuda::LibraryCallCode::Arg &a : code.library->args)
          args.push_back(a.from == From::kScratch
                             ? k.args.back()
                             : k.args[(a.from == From::kResult ? fused.getNumOperands() : 0) + a.index]);
        const fb::Library library = code.library->library == cuda::LibraryCallCode::Library::kCudnn
                                        ? fb::Library::cudnn
                                        : fb::Library::cublas;
        auto call = fb::CreateLibraryCallDirect(fbb, library, code.library->routine.c_str(), &descriptor,
                                                &args, 0, code.family.c_str());
        return {fb::CudaExecution::LibraryCall, call.Union()};
      }
      // The launch passes the scratch only when its own kernel has one.
      std::vector<uint32_t> args(k.args.begin(), k.args.end()), zeroed;
      if (code.scratchBytes == 0 && !k.args.empty() && buffers[k.args.back()].scratchOf)
        args.pop_back();
      for (int r : code.zeroedResults) // the results follow the inputs
        zeroed.push_back(k.args[fused.getNumOperands() + size_t(r)]);
      if (code.zeroedScratch) // the scratch follows the results
        zeroed.push_back(k.args.back());
      std::vector<uint32_t> grid(code.grid.begin(), code.grid.end()), block(code.block.begin(), code.block.end());
      std::vector<flatbuffers::Offset<fb::CudaStage>> stages;
      for (const cuda::CudaStage &stage : code.then) {
        std::vector<uint32_t> stageGrid(stage.grid.begin(), stage.grid.end()),
            stageBlock(stage.block.begin(), stage.block.end());
        auto part = fb::CreateKernelCost(fbb, uint64_t(stage.flops), uint64_t(stage.bytes),
                                         computeUnitOf(fused, code), float(stage.efficiency), 0);
        stages.push_back(fb::CreateCudaStageDirect(fbb, stage.entry.c_str(), &stageGrid, &stageBlock,
                                                   /*shared_bytes=*/0, part, // its shared memory is static
                                                   uint32_t(stage.clusterBlocks)));
      }
      auto launch = fb::CreateCudaLaunchDirect(fbb, code.entry.c_str(), &args, &grid, &block, 0,
                                               code.takesStep, &zeroed, code.family.c_str(),
                                               stages.empty() ? nullptr : &stages);
      return {fb::CudaExecution::CudaLaunch, launch.Union()};
    };
    // The generated code's source and images, whichever of the two it is.
    const KernelCode *generated = !c.library ? &c : !c.alternative.empty() && !c.alternative[0].library
                                                        ? &c.alternative[0]
                                                        : nullptr;
    std::vector<flatbuffers::Offset<fb::CudaImage>> images;
    if (generated)
      for (const KernelCode::Image &i : generated->images)
        images.push_back(fb::CreateCudaImageDirect(fbb, i.arch.c_str(), i.ptxOffset, i.ptxBytes,
                                                   i.cubinOffset, i.cubinBytes, i.registers,
                                                   i.spillBytes, i.sharedBytes, i.stackBytes));
    auto imagesVector = generated ? fbb.CreateVector(images) : 0;
    auto [type, execution] = executionOf(c);
    auto cost = costFor(c);
    std::pair<fb::CudaExecution, flatbuffers::Offset<void>> alternative = {fb::CudaExecution::NONE, 0};
    flatbuffers::Offset<fb::KernelCost> alternativeCost = 0;
    if (!c.alternative.empty()) {
      alternative = executionOf(c.alternative[0]);
      alternativeCost = costFor(c.alternative[0]);
    }
    fb::KernelBuilder kernel(fbb);
    kernel.add_name(name);
    kernel.add_ops(opsVector);
    kernel.add_locations(locationsVector);
    if (generated) {
      kernel.add_cuda_source_offset(generated->sourceOffset);
      kernel.add_cuda_source_bytes(generated->sourceBytes);
      kernel.add_cuda_images(imagesVector);
    }
    kernel.add_cuda_type(type);
    kernel.add_cuda(execution);
    kernel.add_cpu(cpu);
    kernel.add_cost(cost);
    if (!c.alternative.empty()) {
      kernel.add_alternative_type(alternative.first);
      kernel.add_alternative(alternative.second);
      kernel.add_alternative_cost(alternativeCost);
    }
    fbKernels.push_back(kernel.Finish());
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> inNames, outNames;
  for (const std::string &s : inputNames)
    inNames.push_back(fbb.CreateString(s));
  for (const std::string &s : outputNames)
    outNames.push_back(fbb.CreateString(s));
  std::vector<uint32_t> in(inputs.begin(), inputs.end()), out(outputs.begin(), outputs.end());
  return fb::CreateProgramDirect(fbb, name.str().c_str(), &fbBuffers, &fbKernels, &in, &inNames,
                                 &out, &outNames, arenaBytes);
}

} // namespace

FailureOr<flatbuffers::Offset<fb::Program>>
lowerProgram(func::FuncOp func, StringRef name, const llvm::StringMap<int> &parameterIndex,
             const KernelCodeMap &code, bool cudaTarget, flatbuffers::FlatBufferBuilder &fbb) {
  Lowering lowering(func, parameterIndex, code, cudaTarget, Lowering::Plan::Recorded, &fbb);
  if (failed(lowering.build()))
    return failure();
  return lowering.emit(name);
}

LogicalResult planProgramMemory(func::FuncOp func, const llvm::StringMap<int> &parameterIndex) {
  KernelCodeMap none;
  Lowering lowering(func, parameterIndex, none, false, Lowering::Plan::Compute, nullptr);
  if (failed(lowering.build()))
    return failure();
  lowering.recordPlan();
  return success();
}

} // namespace dlc
