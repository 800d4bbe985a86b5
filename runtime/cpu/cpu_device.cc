//===- cpu_device.cc - Programs on the CPU --------------------------------===//
#include "runtime/cpu/cpu_device.h"

#include "runtime/cpu/elementwise.h"
#include "runtime/float16.h"
#include "runtime/numerics.h"
#include "runtime/op_attrs.h"
#include "runtime/tf32.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <map>

namespace dlc::rt::cpu {
namespace {

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

/// Below this many floating-point operations per run a program runs on one
/// thread (measured: the MNIST CNN and the LSTM model at batch 1, ~5 MFLOP,
/// are fastest single-threaded; at batch 8 two threads win).
constexpr double kParallelFlops = 12e6;

/// Multiply-adds of the matrix-product ops dominate; the rest count one
/// operation per output element.
double estimatedFlops(const fb::Program &program) {
  const auto &buffers = *program.buffers();
  auto elements = [&](uint32_t i) { return double(numElements(std::vector<int64_t>(
                                        buffers[i]->shape()->begin(), buffers[i]->shape()->end()))); };
  auto dim = [&](uint32_t i, int d) {
    const auto *shape = buffers[i]->shape();
    return double(shape->Get(d < 0 ? shape->size() + d : d));
  };
  double flops = 0;
  for (const fb::Kernel *k : *program.kernels())
    for (const fb::Op *op : *k->ops()) {
      if (!op->outputs() || !op->outputs()->size() || !op->inputs() || !op->inputs()->size())
        continue;
      using K = fb::OpKind;
      K kind = op->kind();
      double out = elements(op->outputs()->Get(0));
      uint32_t in0 = op->inputs()->Get(0);
      bool product = op->inputs()->size() > 1;
      if (kind == K::conv2d && product) // kh * kw * cin per output
        flops += 2 * out * dim(op->inputs()->Get(1), 0) * dim(op->inputs()->Get(1), 1) * dim(in0, -1);
      else if (product && (kind == K::conv2d_grad_input || kind == K::conv2d_grad_kernel ||
                           kind == K::dense || kind == K::dense_grad_input ||
                           kind == K::dense_grad_kernel || kind == K::lstm || kind == K::lstm_grad))
        flops += 2 * elements(in0) * dim(op->inputs()->Get(1), -1);
      else
        flops += out;
    }
  return flops;
}

class CpuProgram : public PreparedProgram {
public:
  Status prepare(const fb::Program &program, std::vector<Parameter> &parameters) {
    program_ = &program;
    uint64_t bytes = (program.arena_bytes() + 63) / 64 * 64;
    arena_.reset(static_cast<uint8_t *>(std::aligned_alloc(64, bytes ? bytes : 64)));
    if (!arena_)
      return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                             "cannot allocate an arena of " + std::to_string(bytes) + " bytes");
    // Poisoned (0xFF bytes read as NaN): a kernel that reads a value nobody
    // wrote gives NaN, not plausible zeros.
    std::memset(arena_.get(), 0xFF, bytes ? bytes : 64);
    const auto &buffers = *program.buffers();
    views_.resize(buffers.size());
    readers_.assign(buffers.size(), 0);
    for (size_t i = 0; i < buffers.size(); ++i) {
      const fb::Buffer *b = buffers[i];
      TensorView &v = views_[i];
      v.dtype = fromFbDType(b->dtype());
      v.shape.assign(b->shape()->begin(), b->shape()->end());
      switch (b->kind()) {
      case fb::BufferKind::Param: {
        Parameter &p = parameters[size_t(b->param())];
        v.data = p.bytes.data();
        break;
      }
      case fb::BufferKind::View:
        v.data = views_[size_t(b->base())].data;
        break;
      case fb::BufferKind::Unstored:
        v.data = nullptr; // made and read inside one call: buildCall checks it
        break;
      default:
        v.data = arena_.get() + b->offset();
      }
    }
    for (const fb::Kernel *k : *program.kernels())
      for (const fb::Op *op : *k->ops())
        if (op->inputs())
          for (uint32_t i : *op->inputs())
            ++readers_[rootOf(i)];
    if (program.outputs())
      for (uint32_t i : *program.outputs())
        ++readers_[rootOf(i)];
    singleThreaded_ = estimatedFlops(program) < kParallelFlops;
    // oneDNN fixes a primitive's thread count when it is created.
    int threads = omp_get_max_threads();
    if (singleThreaded_)
      omp_set_num_threads(1);
    Status built = buildCalls(program);
    if (singleThreaded_)
      omp_set_num_threads(threads);
    return built;
  }

  /// The 16-bit float buffers the ops of one call read or write: the CPU
  /// routines compute in f32, so each gets an f32 copy in the staging area,
  /// filled before the call (what it reads) and rounded back after it (what
  /// it writes): conversion at kernel boundaries, rounding where the
  /// program's types say. So does each f32 matrix operand of a product
  /// marked tf32, read as a copy rounded to TF32.
  struct Staged {
    uint32_t buffer;
    uint64_t offset; // in the staging area
    bool read, written;
    bool tf32 = false; // an f32 matrix operand of a tf32 product: read rounded (tf32.h)
  };

  /// A converting load: an unstored buffer a float cast makes from |source|
  /// (a program input or parameter the kernel reads), which the compiler
  /// leaves to the reading call: the cast call does nothing and the reader's
  /// staging rounds the source to |type| (ProgramLowering's isUnstored).
  struct ConvertingLoad {
    uint32_t source;
    DType type;
  };
  std::map<uint32_t, ConvertingLoad> convertingLoads_;

  std::vector<Staged> stagedBuffers(const std::vector<const fb::Op *> &ops, uint64_t *bytes,
                                    Status *status) {
    std::vector<Staged> staged;
    *bytes = 0;
    if (ops.size() == 1 && ops[0]->kind() == fb::OpKind::cast) // converts by itself
      return staged;
    // The TF32 copies serve every op of the call, so only the tf32 product
    // may use those buffers: anything else would read rounded values.
    std::map<uint32_t, int> tf32Reads, uses;
    for (const fb::Op *op : ops) {
      for (uint32_t i = 0; op->inputs() && i < op->inputs()->size(); ++i) {
        uint32_t b = op->inputs()->Get(i);
        ++uses[b];
        if (i < 2 && hasAttr(*op, kTf32OpAttr) && views_[b].dtype == DType::kF32 &&
            !convertingLoads_.count(b))
          ++tf32Reads[b];
      }
      if (op->outputs())
        for (uint32_t o : *op->outputs())
          ++uses[o];
    }
    for (const auto &[b, reads] : tf32Reads)
      if (uses[b] != reads) {
        *status = DLC_MAKE_STATUS(StatusCode::kInternal,
                                  "a TF32 operand (buffer " + std::to_string(b) +
                                      ") is also used unrounded in the same CPU call");
        return staged;
      }
    for (const auto &[b, reads] : tf32Reads) {
      staged.push_back({b, *bytes, true, false, true});
      *bytes += (uint64_t(views_[b].numel()) * sizeof(float) + 63) / 64 * 64;
    }
    auto note = [&](uint32_t b, bool read) {
      if (tf32Reads.count(b))
        return;
      const TensorView &v = views_[b];
      bool load = convertingLoads_.count(b) > 0;
      if ((!load && v.dtype != DType::kF16 && v.dtype != DType::kBF16) || (load && !read))
        return;
      for (Staged &s : staged)
        if (s.buffer == b) {
          // Read after an op of this call wrote it: already in the copy.
          s.read |= read && !s.written;
          s.written |= !read;
          return;
        }
      staged.push_back({b, *bytes, read, !read});
      *bytes += (uint64_t(v.numel()) * sizeof(float) + 63) / 64 * 64;
    };
    for (const fb::Op *op : ops) {
      if (op->inputs())
        for (uint32_t i : *op->inputs())
          note(i, true);
      if (op->outputs())
        for (uint32_t o : *op->outputs())
          note(o, false);
    }
    return staged;
  }

  Status buildCalls(const fb::Program &program) {
    const auto &buffers = *program.buffers();
    for (const fb::Kernel *k : *program.kernels())
      for (const fb::Op *op : *k->ops())
        if (op->kind() == fb::OpKind::cast && op->inputs() && op->inputs()->size() == 1 &&
            op->outputs() && op->outputs()->size() == 1) {
          uint32_t in = op->inputs()->Get(0), out = op->outputs()->Get(0);
          DType from = views_[in].dtype, to = views_[out].dtype;
          if (buffers[out]->kind() == fb::BufferKind::Unstored && isFloatDType(from) && isFloatDType(to))
            convertingLoads_[out] = {in, to};
        }
    std::vector<std::vector<const fb::Op *>> callOps;
    std::vector<const fb::CpuCall *> records;
    std::vector<const fb::Kernel *> callKernels;
    for (const fb::Kernel *k : *program.kernels()) {
      const auto &ops = *k->ops();
      size_t at = 0; // the bundle loader checked that the calls cover the ops
      for (const fb::CpuCall *record : *k->cpu()) {
        std::vector<const fb::Op *> covered;
        for (size_t i = at; i < at + record->ops(); ++i)
          covered.push_back(ops[uint32_t(i)]);
        at += record->ops();
        callOps.push_back(std::move(covered));
        records.push_back(record);
        callKernels.push_back(k);
      }
    }
    // One staging area serves every call in turn: the largest call's need.
    std::vector<std::vector<Staged>> staging(callOps.size());
    uint64_t stagingBytes = 0;
    for (size_t c = 0; c < callOps.size(); ++c) {
      uint64_t bytes;
      Status status = okStatus();
      staging[c] = stagedBuffers(callOps[c], &bytes, &status);
      DLC_RETURN_IF_ERROR(status, "kernel '" + callKernels[c]->name()->str() + "'");
      stagingBytes = std::max(stagingBytes, bytes);
    }
    if (stagingBytes) {
      staging_.reset(static_cast<uint8_t *>(std::aligned_alloc(64, stagingBytes)));
      if (!staging_)
        return DLC_MAKE_STATUS(StatusCode::kUnavailable, "cannot allocate " +
                                   std::to_string(stagingBytes) + " bytes to convert 16-bit floats");
    }
    for (size_t c = 0; c < callOps.size(); ++c) {
      const fb::Kernel *k = callKernels[c];
      std::vector<TensorView> originals;
      for (const Staged &s : staging[c]) {
        originals.push_back(views_[s.buffer]);
        TensorView &v = views_[s.buffer];
        // A value made and read inside the call stays unstored, now in f32;
        // a converting load is staged from its source.
        bool staged = v.data || convertingLoads_.count(s.buffer);
        v = TensorView{staged ? staging_.get() + s.offset : nullptr, DType::kF32, v.shape};
      }
      OpContext ctx{*callOps[c].front(), program, views_, readers_, shared_};
      PreparedCall call;
      const fb::Op &first = *callOps[c].front();
      bool deferredCast = callOps[c].size() == 1 && first.kind() == fb::OpKind::cast &&
                          convertingLoads_.count(first.outputs()->Get(0));
      Status built = deferredCast ? okStatus() : buildCall(records[c]->routine(), ctx, callOps[c], &call);
      if (deferredCast) // its readers round as they stage
        call = [](const RunOptions &) { return okStatus(); };
      std::vector<std::pair<TensorView, TensorView>> widen, narrow; // (from, to)
      std::vector<std::tuple<TensorView, DType, TensorView>> rounded; // converting loads
      std::vector<std::pair<TensorView, TensorView>> tf32; // (from, to)
      for (size_t i = 0; i < staging[c].size(); ++i) {
        const Staged &s = staging[c][i];
        auto load = convertingLoads_.find(s.buffer);
        if (s.tf32)
          tf32.push_back({originals[i], views_[s.buffer]});
        else if (load != convertingLoads_.end() && s.read)
          rounded.push_back({views_[load->second.source], load->second.type, views_[s.buffer]});
        else if (originals[i].data && s.read)
          widen.push_back({originals[i], views_[s.buffer]});
        if (originals[i].data && s.written)
          narrow.push_back({views_[s.buffer], originals[i]});
        views_[s.buffer] = originals[i];
      }
      DLC_RETURN_IF_ERROR(built, "kernel '" + k->name()->str() + "', op " +
                                     fb::EnumNameOpKind(callOps[c].front()->kind()));
      if (!widen.empty() || !narrow.empty() || !rounded.empty() || !tf32.empty())
        call = [call = std::move(call), widen, narrow, rounded, tf32](const RunOptions &options) {
          for (const auto &[from, to] : widen)
            convertFloats(from, to);
          for (const auto &[from, to] : tf32)
            roundToTf32(static_cast<const float *>(from.data), static_cast<float *>(to.data),
                        from.numel());
          for (const auto &[from, type, to] : rounded)
            roundFloats(from, type, to);
          DLC_RETURN_IF_ERROR(call(options), "");
          for (const auto &[from, to] : narrow)
            convertFloats(from, to);
          return okStatus();
        };
      calls_.push_back(std::move(call));
      callKernel_.push_back(k->name()->str());
      // A kernel's outputs are complete after its last call.
      bool last = c + 1 == callOps.size() || callKernels[c + 1] != k;
      checked_.push_back(last ? floatBuffersWritten(program, *k) : std::vector<uint32_t>());
      callKernelRecord_.push_back(k);
    }
    return okStatus();
  }

  // The arena's input buffers may share bytes with the outputs of the run
  // before (the memory plan reuses them), which the caller may still read
  // while staging: the next inputs wait in their own storage.
  Status stage(const std::vector<TensorView> &inputs) override {
    staged_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto *data = static_cast<const uint8_t *>(inputs[i].data);
      staged_[i].assign(data, data + inputs[i].bytes());
    }
    hasStaged_ = true;
    return okStatus();
  }

  // The CPU runs the whole program here; finish() only hands out its outputs.
  Status start(const RunOptions &options) override {
    if (!hasStaged_)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "a run was started with no inputs staged");
    hasStaged_ = false;
    ++counts_.issued;
    // A small program (batch-1 inference) loses more to waking threads at
    // every kernel than it gains from them.
    int threads = omp_get_max_threads();
    if (singleThreaded_)
      omp_set_num_threads(1);
    finished_ = runCalls(options, &outputs_);
    if (singleThreaded_)
      omp_set_num_threads(threads);
    started_ = true;
    return okStatus();
  }

  Status finish(std::vector<TensorView> *outputs) override {
    if (!started_)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "no run was started");
    started_ = false;
    DLC_RETURN_IF_ERROR(finished_, "");
    *outputs = outputs_;
    return okStatus();
  }

  Status runCalls(const RunOptions &options, std::vector<TensorView> *outputs) {
    const auto *indices = program_->inputs();
    for (size_t i = 0; i < staged_.size(); ++i) {
      const TensorView &dst = views_[indices->Get(uint32_t(i))];
      std::memcpy(dst.data, staged_[i].data(), dst.bytes());
    }
    if (times_.empty())
      for (const std::string &name : callKernel_)
        if (times_.empty() || times_.back().kernel != name)
          times_.push_back({name, 0, 0});
    size_t kernel = 0;
    for (size_t s = 0; s < calls_.size(); ++s) {
      if (s && callKernel_[s] != callKernel_[s - 1])
        ++kernel;
      auto start = std::chrono::steady_clock::now();
      DLC_RETURN_IF_ERROR(calls_[s](options), "in kernel '" + callKernel_[s] + "'");
      if (options.checkNumerics)
        for (uint32_t b : checked_[s])
          DLC_RETURN_IF_ERROR(checkFinite(*program_, *callKernelRecord_[s], b, views_[b].data), "");
      if (options.profile) {
        times_[kernel].seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        times_[kernel].runs += s + 1 == calls_.size() || callKernel_[s + 1] != callKernel_[s];
      }
    }
    outputs->clear();
    if (program_->outputs())
      for (uint32_t i : *program_->outputs())
        outputs->push_back(views_[i]);
    return okStatus();
  }

  uint64_t arenaBytes() const override { return program_->arena_bytes(); }
  std::vector<KernelTime> kernelTimes() const override { return times_; }
  ExecutionCounts executionCounts() const override { return counts_; }

private:
  uint32_t rootOf(uint32_t i) const {
    const fb::Buffer *b = program_->buffers()->Get(i);
    return b->kind() == fb::BufferKind::View ? rootOf(uint32_t(b->base())) : i;
  }

  const fb::Program *program_ = nullptr;
  std::unique_ptr<uint8_t, FreeDeleter> arena_;
  std::unique_ptr<uint8_t, FreeDeleter> staging_; // f32 copies of 16-bit buffers, per call
  std::vector<TensorView> views_;
  std::vector<int> readers_;
  std::map<std::string, std::shared_ptr<std::vector<float>>> shared_;
  std::vector<PreparedCall> calls_;
  std::vector<std::string> callKernel_;
  std::vector<const fb::Kernel *> callKernelRecord_;
  std::vector<std::vector<uint32_t>> checked_; // per call: what --check-numerics reads after it
  std::vector<KernelTime> times_;
  ExecutionCounts counts_;
  std::vector<std::vector<uint8_t>> staged_; // the next run's inputs
  bool hasStaged_ = false, started_ = false;
  Status finished_;                  // of the started run
  std::vector<TensorView> outputs_;  // of the started run
  bool singleThreaded_ = false;
};

class CpuDevice : public Device {
public:
  std::string name() const override { return "cpu"; }
  // Programs read and write the session's host copy of the parameters
  // directly: there is no second copy to keep coherent.
  Status attach(const Bundle &, std::vector<Parameter> &) override { return okStatus(); }
  Status uploadParameters(const std::vector<Parameter> &) override { return okStatus(); }
  Status downloadParameters(std::vector<Parameter> &) override { return okStatus(); }
  Status prepare(const fb::Program &program, std::vector<Parameter> &parameters,
                 std::unique_ptr<PreparedProgram> *out) override {
    auto p = std::make_unique<CpuProgram>();
    DLC_RETURN_IF_ERROR(p->prepare(program, parameters), "");
    *out = std::move(p);
    return okStatus();
  }
};

} // namespace
} // namespace dlc::rt::cpu

namespace dlc::rt {
std::unique_ptr<Device> createCpuDevice() { return std::make_unique<cpu::CpuDevice>(); }
} // namespace dlc::rt
