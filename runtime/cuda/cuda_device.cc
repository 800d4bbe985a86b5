//===- cuda_device.cc - Bundles run as CUDA kernels -----------------------===//
//
// The device of every CudaBackend (the GPU's is driver_backend.cc, the
// emulation's runtime/cuda_sim/sim_module.cc): programs prepared as
// commands, run issued or as a captured graph, a kernel's two executions
// chosen on the first run.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/cuda_device.h"

#include "runtime/numerics.h"

#include "runtime/cuda/kernel_cache.h"

#include <algorithm>
#include <limits>
#include <cstdlib>
#include <map>

namespace dlc::rt::cuda {
namespace {

Status invalid(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

/// One kernel of a prepared program, as the device executes it: a launch
/// (its arguments fixed at preparation: buffers, and the address of the
/// program's step word), a library call, or (neither) device copies.
struct DeviceCommand {
  std::string kernel; // the bundle's kernel name: errors and profiles use it
  struct Launch {
    KernelHandle handle;
    LaunchConfig config;
  };
  std::vector<Launch> launches; // in order, on the same arguments
  std::vector<uint64_t> args;   // device addresses
  std::vector<void *> argPointers;
  std::vector<std::pair<DevicePtr, size_t>> zeroed;
  struct Copy {
    DevicePtr dst, src;
    size_t bytes;
  };
  std::vector<Copy> copies;
  LibraryHandle library = nullptr; // a prepared library call of this routine:
  enum class Routine { kMatmul, kConvolution, kLstm } routine = Routine::kMatmul;
  DevicePtr libraryArgs[4] = {}; // matmul: A, B, bias (or 0), D
  ConvolutionBuffers<DevicePtr> convolutionArgs;
  LstmBuffers<DevicePtr> lstmArgs;
  std::vector<uint32_t> written; // float buffers its ops write (--check-numerics)
  std::string execution;         // what runs it, in words: "generated gemm", "library call cublas matmul"
  /// The kernel's other execution (a --kernels auto bundle), until the
  /// first run chooses between them; then the one not chosen.
  std::unique_ptr<DeviceCommand> alternative;
  bool chosen = false;
  /// Why the two may not be timed against each other, if they may not.
  std::string unmeasurable;
};

/// Timed runs of each execution when choosing between them (the fastest
/// counts), after one untimed run that loads and warms it.
constexpr int kTimedChoiceRuns = 5;

/// What the device's programs share for choosing between executions.
struct ChoiceContext {
  const Bundle *bundle = nullptr;
  const CudaBackend *backend = nullptr;
  ChoicePolicy policy = ChoicePolicy::kCompiled;
  ChoiceCache cache{KernelCache::defaultDirectory()};
  /// CudaBackend::identity, asked the first time a choice is measured (it
  /// loads cuBLASLt and cuDNN to name their versions).
  const std::string &identity() const {
    if (identity_.empty())
      identity_ = backend->identity();
    return identity_;
  }

private:
  mutable std::string identity_;
};

class CudaProgram : public PreparedProgram {
public:
  CudaProgram(CudaBackend &backend, const ChoiceContext &choices) : backend_(backend), choices_(choices) {}
  ~CudaProgram() override { // nothing to report to
    for (GraphHandle g : graphs_)
      if (g)
        backend_.destroyGraph(g);
    (void)backend_.free(arena_);
    for (DevicePtr p : deviceSlotMemory_)
      (void)backend_.free(p);
    if (stepWord_)
      (void)backend_.free(stepWord_);
    for (void *p : staging_)
      backend_.freeHost(p);
  }

  Status prepare(const fb::Program &program, const std::vector<DevicePtr> &parameters) {
    program_ = &program;
    name_ = program.name()->str();
    DLC_RETURN_IF_ERROR(backend_.alloc(std::max<uint64_t>(program.arena_bytes(), 1),
                                       "arena of program '" + name_ + "'", &arena_),
                        "");
    // Poisoned (0xFF bytes read as NaN): a kernel that reads a value nobody
    // wrote gives NaN, not plausible zeros.
    DLC_RETURN_IF_ERROR(backend_.memset(arena_, 0xFF, std::max<uint64_t>(program.arena_bytes(), 1)),
                        "poisoning the arena of program '" + name_ + "'");
    const auto &buffers = *program.buffers();
    address_.resize(buffers.size());
    for (uint32_t i = 0; i < buffers.size(); ++i)
      DLC_RETURN_IF_ERROR(resolve(i, parameters, &address_[i]), "");
    for (const fb::Kernel *k : *program.kernels())
      DLC_RETURN_IF_ERROR(addCommand(*k), "kernel '" + k->name()->str() + "'");
    for (DeviceCommand &c : commands_)
      for (DeviceCommand *e : {&c, c.alternative.get()})
        if (e) {
          for (uint64_t &a : e->args)
            e->argPointers.push_back(&a);
          e->argPointers.push_back(nullptr);
        }
    // Page-locked host staging: each input, each output (the views handed
    // out point into it), the step.
    auto stage = [&](size_t bytes, void **out) {
      DLC_RETURN_IF_ERROR(backend_.allocHost(bytes, out),
                          "page-locked staging of program '" + name_ + "'");
      staging_.push_back(*out);
      return okStatus();
    };
    if (program.inputs())
      for (uint32_t i : *program.inputs())
        slotBytes_.push_back(bufferBytes(*buffers[i]));
    for (int s = 0; s < 2; ++s) {
      // One allocation per slot and side, each input at an aligned offset.
      uint64_t total = 0;
      std::vector<uint64_t> offsets;
      for (uint64_t bytes : slotBytes_) {
        offsets.push_back(total);
        total += (bytes + 255) / 256 * 256;
      }
      void *host = nullptr;
      DLC_RETURN_IF_ERROR(stage(total, &host), "");
      DevicePtr device = 0;
      DLC_RETURN_IF_ERROR(backend_.alloc(std::max<uint64_t>(total, 1),
                                         "input slot of program '" + name_ + "'", &device),
                          "");
      deviceSlotMemory_.push_back(device);
      for (size_t i = 0; i < slotBytes_.size(); ++i) {
        hostSlots_[s].push_back(static_cast<uint8_t *>(host) + offsets[i]);
        deviceSlots_[s].push_back(device + offsets[i]);
        DevicePtr arena = address_[program.inputs()->Get(uint32_t(i))];
        if (arena && slotBytes_[i])
          loadInputs_[s].copies.push_back({arena, deviceSlots_[s][i], size_t(slotBytes_[i])});
      }
      loadInputs_[s].kernel = "inputs";
    }
    if (program.outputs())
      for (uint32_t i : *program.outputs()) {
        const fb::Buffer *b = buffers[i];
        void *p = nullptr;
        DLC_RETURN_IF_ERROR(stage(bufferBytes(*b), &p), "");
        views_.push_back(TensorView{p, fromFbDType(b->dtype()),
                                    std::vector<int64_t>(b->shape()->begin(), b->shape()->end())});
      }
    if (stepWord_) {
      void *p = nullptr;
      DLC_RETURN_IF_ERROR(stage(sizeof(uint64_t), &p), "");
      stepStaging_ = static_cast<uint64_t *>(p);
    }
    for (const DeviceCommand &c : commands_)
      times_.push_back({c.kernel, 0, 0});
    return okStatus();
  }

  // Inputs travel through two slots, each page-locked on the host and
  // allocated on the device: while a run reads one (its first commands copy
  // the slot into the arena), the next inputs go up into the other on the
  // upload queue.
  Status stage(const std::vector<TensorView> &inputs) override {
    int s = nextSlot_;
    // The slot of the run in flight may still be copied into the arena.
    if (started_ && s == runningSlot_)
      return invalid("the inputs of '" + name_ + "' were staged twice during one run");
    for (size_t i = 0; i < inputs.size() && i < slotBytes_.size(); ++i) {
      std::memcpy(hostSlots_[s][i], inputs[i].data, slotBytes_[i]);
      DLC_RETURN_IF_ERROR(backend_.upload(deviceSlots_[s][i], hostSlots_[s][i], slotBytes_[i]),
                          "uploading input " + std::to_string(i) + " of '" + name_ + "'");
    }
    stagedSlot_ = s;
    nextSlot_ = 1 - s;
    return okStatus();
  }

  Status start(const RunOptions &options) override {
    if (stagedSlot_ < 0)
      return invalid("a run of '" + name_ + "' was started with no inputs staged");
    if (started_)
      return invalid("a run of '" + name_ + "' was started before the last one finished");
    int s = stagedSlot_;
    stagedSlot_ = -1;
    runningSlot_ = s;
    DLC_RETURN_IF_ERROR(backend_.awaitUploads(), "");
    // The training step lives in device memory: launches read it there, so
    // their arguments never change from run to run.
    if (stepWord_) {
      *stepStaging_ = options.step;
      DLC_RETURN_IF_ERROR(backend_.copyToDevice(stepWord_, stepStaging_, sizeof options.step),
                          "setting the step of '" + name_ + "'");
    }
    if (options.profile || options.checkNumerics || !issuedOnce_) {
      KernelTime unused;
      DLC_RETURN_IF_ERROR(runCommand(loadInputs_[s], options, &unused), "copying the inputs in");
      for (size_t c = 0; c < commands_.size(); ++c) {
        if (commands_[c].alternative && !commands_[c].chosen)
          DLC_RETURN_IF_ERROR(choose(c), "choosing how to run " + describe(c));
        DLC_RETURN_IF_ERROR(runCommand(commands_[c], options, &times_[c]), describe(c));
        if (options.checkNumerics)
          DLC_RETURN_IF_ERROR(checkOutputs(*program_->kernels()->Get(uint32_t(c)), commands_[c]), "");
      }
      ++counts_.issued;
    } else {
      if (!graphs_[s])
        DLC_RETURN_IF_ERROR(capture(s), "capturing program '" + name_ + "' as a CUDA graph");
      DLC_RETURN_IF_ERROR(backend_.replay(graphs_[s]), "program '" + name_ + "'");
      ++counts_.replayed;
    }
    for (size_t o = 0; o < views_.size(); ++o)
      DLC_RETURN_IF_ERROR(backend_.copyToHost(views_[o].data, address_[program_->outputs()->Get(
                                                                  uint32_t(o))],
                                              views_[o].bytes()),
                          "copying output " + std::to_string(o) + " of '" + name_ + "'");
    started_ = true;
    return okStatus();
  }

  Status finish(std::vector<TensorView> *outputs) override {
    if (!started_)
      return invalid("no run of '" + name_ + "' was started");
    started_ = false;
    // Faults of asynchronous launches surface here, without a kernel name;
    // a profiled run synchronises after every kernel and names it.
    DLC_RETURN_IF_ERROR(backend_.synchronize(),
                        "running program '" + name_ +
                            "' (a profiled run, `dlc bench --profile` or `--check-numerics`, "
                            "synchronizes after each kernel and names the one that failed)");
    // Captured after a whole run succeeded: kernels are loaded, their
    // shared-memory limits raised, and a fault names its kernel the first time.
    issuedOnce_ = true;
    *outputs = views_;
    return okStatus();
  }

  ExecutionCounts executionCounts() const override { return counts_; }

  uint64_t arenaBytes() const override { return program_->arena_bytes(); }
  std::vector<KernelTime> kernelTimes() const override { return times_; }
  std::vector<KernelChoiceReport> kernelChoices() const override { return choiceReports_; }

private:
  Status resolve(uint32_t index, const std::vector<DevicePtr> &parameters, DevicePtr *out) {
    const auto &buffers = *program_->buffers();
    // A view's base may itself be a view; the loader bounds indices, not chains.
    for (int hops = 0; hops <= int(buffers.size()); ++hops) {
      const fb::Buffer *b = buffers[index];
      switch (b->kind()) {
      case fb::BufferKind::View:
        index = uint32_t(b->base());
        continue;
      case fb::BufferKind::Param:
        *out = parameters.at(size_t(b->param()));
        return okStatus();
      case fb::BufferKind::Unstored:
        *out = 0; // never stored; argument() rejects it
        return okStatus();
      default:
        *out = arena_ + b->offset();
        return okStatus();
      }
    }
    return invalid("buffer " + std::to_string(index) + " of program '" + name_ +
                   "' is a cycle of views");
  }

  DevicePtr argument(uint32_t buffer, Status *status) {
    if (address_[buffer] == 0)
      *status = invalid("buffer " + std::to_string(buffer) +
                        " is unstored (made and read inside one CPU call) and has no storage");
    return address_[buffer];
  }

  Status addCommand(const fb::Kernel &k) {
    DeviceCommand command;
    Status compiled = addExecution(k, k.cuda_type(), k.cuda(), &command);
    if (k.alternative_type() == fb::CudaExecution::NONE) {
      DLC_RETURN_IF_ERROR(compiled, "");
      commands_.push_back(std::move(command));
      return okStatus();
    }
    auto other = std::make_unique<DeviceCommand>();
    Status alternative = addExecution(k, k.alternative_type(), k.alternative(), other.get());
    // A vendor library this machine lacks costs the kernel one of its two
    // executions, not the program.
    if (!compiled.ok() && !alternative.ok())
      return compiled;
    if (!compiled.ok() || !alternative.ok()) {
      if (!compiled.ok())
        std::swap(command, *other);
      command.chosen = true;
      choiceReports_.push_back({command.kernel, command.execution,
                                "the only one this device could prepare (" +
                                    (compiled.ok() ? alternative : compiled).message() + ")",
                                0, 0});
      commands_.push_back(std::move(command));
      return okStatus();
    }
    // Timing runs each execution several times: only a kernel whose
    // results do not overwrite what it reads gives the same results again.
    std::vector<uint32_t> written, read;
    for (const fb::Op *op : *k.ops()) {
      if (op->inputs())
        for (uint32_t b : *op->inputs())
          if (std::find(written.begin(), written.end(), b) == written.end())
            read.push_back(b);
      if (op->outputs())
        written.insert(written.end(), op->outputs()->begin(), op->outputs()->end());
    }
    const auto &buffers = *program_->buffers();
    for (uint32_t w : written)
      for (uint32_t r : read) {
        DevicePtr a = address_[w], b = address_[r];
        if (a && b && a < b + bufferBytes(*buffers[r]) && b < a + bufferBytes(*buffers[w]))
          command.unmeasurable = "it writes buffer " + std::to_string(w) + " over buffer " +
                                 std::to_string(r) + ", which it reads";
      }
    command.alternative = std::move(other);
    commands_.push_back(std::move(command));
    return okStatus();
  }

  Status addExecution(const fb::Kernel &k, fb::CudaExecution type, const void *execution,
                      DeviceCommand *command) {
    command->kernel = k.name()->str();
    command->written = floatBuffersWritten(*program_, k);
    switch (type) {
    case fb::CudaExecution::CudaLaunch: {
      const auto *launch = static_cast<const fb::CudaLaunch *>(execution);
      command->execution = "generated " + (launch->family() ? launch->family()->str() : std::string("kernel"));
      return addLaunch(k, *launch, command);
    }
    case fb::CudaExecution::DeviceCopy:
      command->execution = "device copy";
      return addCopies(*static_cast<const fb::DeviceCopy *>(execution), command);
    case fb::CudaExecution::LibraryCall: {
      const auto *call = static_cast<const fb::LibraryCall *>(execution);
      command->execution = std::string("library call ") + fb::EnumNameLibrary(call->library()) + " " +
                           call->routine()->str();
      return addLibraryCall(*call, command);
    }
    case fb::CudaExecution::Collective:
      return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                             "collectives (data-parallel training) are not run by this runtime yet");
    default:
      return invalid("has no CUDA code: the bundle was compiled for the CPU only; recompile it "
                     "with `dlc compile --target cuda`");
    }
  }

  /// Keeps one of command |c|'s two executions, as the policy says: timing
  /// both here (each leaves the same results) unless the cache knows.
  Status choose(size_t c) {
    DeviceCommand &command = commands_[c];
    command.chosen = true;
    KernelChoiceReport report{command.kernel, "", "the compiler's", 0, 0};
    bool alternative = false;
    if (choices_.policy == ChoicePolicy::kAlternative) {
      alternative = true;
      report.how = "the alternative (DLC_KERNEL_CHOICE)";
    } else if (choices_.policy == ChoicePolicy::kMeasured && !command.unmeasurable.empty()) {
      report.how = "the compiler's (not measured: " + command.unmeasurable + ")";
    } else if (choices_.policy == ChoicePolicy::kMeasured) {
      const fb::Kernel &k = *program_->kernels()->Get(uint32_t(c));
      const std::string key = ChoiceCache::key(choices_.identity(), *choices_.bundle, *program_, k);
      std::optional<ChoiceVerdict> verdict = choices_.cache.load(key);
      report.how = "cached";
      if (!verdict) {
        verdict.emplace();
        DLC_RETURN_IF_ERROR(timeRuns(command, &verdict->compiledSeconds), "timing " + command.execution);
        DLC_RETURN_IF_ERROR(timeRuns(*command.alternative, &verdict->alternativeSeconds),
                            "timing " + command.alternative->execution);
        verdict->choice = verdict->alternativeSeconds < verdict->compiledSeconds ? KernelChoice::kAlternative
                                                                                 : KernelChoice::kCompiled;
        (void)choices_.cache.store(key, *verdict); // a cache that cannot be written costs a measurement
        report.how = "measured";
      }
      alternative = verdict->choice == KernelChoice::kAlternative;
      report.compiledSeconds = verdict->compiledSeconds;
      report.alternativeSeconds = verdict->alternativeSeconds;
    }
    if (alternative) {
      std::unique_ptr<DeviceCommand> other = std::move(command.alternative);
      std::swap(command, *other);
      command.alternative = std::move(other);
      command.chosen = true;
    }
    report.runs = command.execution;
    choiceReports_.push_back(report);
    return okStatus();
  }

  /// The fastest of kTimedChoiceRuns runs of |command|, each timed by the
  /// device (CudaBackend::timed) after one untimed run.
  Status timeRuns(DeviceCommand &command, double *seconds) {
    DLC_RETURN_IF_ERROR(issue(command), "");
    DLC_RETURN_IF_ERROR(backend_.synchronize(), "");
    *seconds = std::numeric_limits<double>::infinity();
    for (int r = 0; r < kTimedChoiceRuns; ++r) {
      double run = 0;
      DLC_RETURN_IF_ERROR(backend_.timed([&] { return issue(command); }, &run), "");
      *seconds = std::min(*seconds, run);
    }
    return okStatus();
  }

  Status addLaunch(const fb::Kernel &k, const fb::CudaLaunch &launch, DeviceCommand *command) {
    auto add = [&](const flatbuffers::String &entry, const flatbuffers::Vector<uint32_t> &grid,
                   const flatbuffers::Vector<uint32_t> &block, uint32_t sharedBytes,
                   uint32_t clusterBlocks) {
      DeviceCommand::Launch l;
      DLC_RETURN_IF_ERROR(backend_.kernel(k, entry.str(), &l.handle), "");
      for (int d = 0; d < 3; ++d) {
        l.config.grid[d] = grid.Get(d);
        l.config.block[d] = block.Get(d);
      }
      l.config.sharedBytes = sharedBytes;
      l.config.clusterBlocks = clusterBlocks;
      command->launches.push_back(l);
      return okStatus();
    };
    DLC_RETURN_IF_ERROR(add(*launch.entry(), *launch.grid(), *launch.block(), launch.shared_bytes(),
                            launch.cluster_blocks()),
                        "");
    if (launch.then())
      for (const fb::CudaStage *stage : *launch.then())
        DLC_RETURN_IF_ERROR(add(*stage->entry(), *stage->grid(), *stage->block(), stage->shared_bytes(),
                                stage->cluster_blocks()),
                            "");
    Status status;
    for (uint32_t b : *launch.args())
      command->args.push_back(argument(b, &status));
    if (launch.zeroed())
      for (uint32_t b : *launch.zeroed())
        command->zeroed.push_back({argument(b, &status), bufferBytes(*program_->buffers()->Get(b))});
    DLC_RETURN_IF_ERROR(status, "");
    if (launch.takes_step()) {
      if (!stepWord_)
        DLC_RETURN_IF_ERROR(backend_.alloc(sizeof(uint64_t), "step of program '" + name_ + "'",
                                           &stepWord_),
                            "");
      command->args.push_back(stepWord_);
    }
    return okStatus();
  }

  Status addLibraryCall(const fb::LibraryCall &call, DeviceCommand *command) {
    if (call.library() == fb::Library::cudnn && call.routine()->str() == kLstmRoutine) {
      LstmCall lstm;
      DLC_RETURN_IF_ERROR(parseLstm(call, *program_, &lstm), "");
      Status status;
      command->lstmArgs = lstmBuffers<DevicePtr>(lstm, [&](uint32_t b) { return argument(b, &status); });
      DLC_RETURN_IF_ERROR(status, "");
      command->routine = DeviceCommand::Routine::kLstm;
      return backend_.prepareLstm(lstm, &command->library);
    }
    if (call.library() == fb::Library::cudnn) {
      ConvolutionCall conv;
      DLC_RETURN_IF_ERROR(parseConvolution(call, *program_, &conv), "");
      Status status;
      ConvolutionBuffers<DevicePtr> &b = command->convolutionArgs;
      b.input = argument(conv.input, &status);
      b.filter = argument(conv.filter, &status);
      b.output = argument(conv.output, &status);
      b.bias = conv.bias ? argument(conv.biasBuffer, &status) : 0;
      b.scratch = argument(conv.scratch, &status);
      DLC_RETURN_IF_ERROR(status, "");
      command->routine = DeviceCommand::Routine::kConvolution;
      return backend_.prepareConvolution(conv, &command->library);
    }
    MatmulCall matmul;
    DLC_RETURN_IF_ERROR(parseMatmul(call, *program_, &matmul), "");
    Status status;
    command->libraryArgs[0] = argument(matmul.a, &status);
    command->libraryArgs[1] = argument(matmul.b, &status);
    command->libraryArgs[2] = matmul.bias ? argument(matmul.biasBuffer, &status) : 0;
    command->libraryArgs[3] = argument(matmul.out, &status);
    DLC_RETURN_IF_ERROR(status, "");
    return backend_.prepareMatmul(matmul, &command->library);
  }

  Status addCopies(const fb::DeviceCopy &copy, DeviceCommand *command) {
    const auto &buffers = *program_->buffers();
    Status status;
    for (uint32_t i = 0; i < copy.from()->size(); ++i) {
      uint32_t from = copy.from()->Get(i), to = copy.to()->Get(i);
      command->copies.push_back(
          {argument(to, &status), argument(from, &status), bufferBytes(*buffers[to])});
    }
    return status;
  }

  /// --check-numerics: the float buffers |kernel| wrote, copied back and checked.
  Status checkOutputs(const fb::Kernel &kernel, const DeviceCommand &command) {
    DLC_RETURN_IF_ERROR(backend_.synchronize(), "kernel '" + kernel.name()->str() + "'");
    for (uint32_t b : command.written) {
      std::vector<uint8_t> host(bufferBytes(*program_->buffers()->Get(b)));
      DLC_RETURN_IF_ERROR(backend_.copyToHost(host.data(), address_[b], host.size()),
                          "--check-numerics");
      DLC_RETURN_IF_ERROR(checkFinite(*program_, kernel, b, host.data()), "");
    }
    return okStatus();
  }

  /// Queues |command|; a profiled run times it on the device into |time|
  /// (and so waits for it: a fault names this command).
  Status runCommand(DeviceCommand &command, const RunOptions &options, KernelTime *time) {
    if (!options.profile)
      return issue(command);
    double seconds = 0;
    DLC_RETURN_IF_ERROR(backend_.timed([&] { return issue(command); }, &seconds), "");
    time->seconds += seconds;
    ++time->runs;
    return okStatus();
  }

  /// Queues what |command| runs: its memsets, copies, launches and library call.
  Status issue(DeviceCommand &command) {
    for (const auto &[address, bytes] : command.zeroed)
      DLC_RETURN_IF_ERROR(backend_.memset(address, 0, bytes), "zeroing an accumulator");
    for (const DeviceCommand::Copy &c : command.copies)
      DLC_RETURN_IF_ERROR(backend_.copyOnDevice(c.dst, c.src, c.bytes), "");
    for (const DeviceCommand::Launch &l : command.launches)
      DLC_RETURN_IF_ERROR(backend_.launch(l.handle, l.config, command.argPointers.data()), "");
    using Routine = DeviceCommand::Routine;
    if (command.library && command.routine == Routine::kConvolution)
      DLC_RETURN_IF_ERROR(backend_.convolution(command.library, command.convolutionArgs), "");
    else if (command.library && command.routine == Routine::kLstm)
      DLC_RETURN_IF_ERROR(backend_.lstm(command.library, command.lstmArgs), "");
    else if (command.library)
      DLC_RETURN_IF_ERROR(backend_.matmul(command.library, command.libraryArgs[0], command.libraryArgs[1],
                                          command.libraryArgs[2], command.libraryArgs[3]),
                          "");
    return okStatus();
  }

  CudaBackend &backend_;
  const ChoiceContext &choices_;
  std::vector<KernelChoiceReport> choiceReports_;
  const fb::Program *program_ = nullptr;
  std::string name_;
  DevicePtr arena_ = 0;
  std::vector<DevicePtr> address_; // per buffer; 0 for unstored ones
  DevicePtr stepWord_ = 0;          // the training step, when a launch reads it
  /// "kernel 'conv2d.conv2d+relu' (model.dl:12:3) of program 'grad'".
  std::string describe(size_t command) const {
    std::string where = kernelLocations(*program_->kernels()->Get(uint32_t(command)));
    return "kernel '" + commands_[command].kernel + "'" + (where.empty() ? "" : " (" + where + ")") +
           " of program '" + name_ + "'";
  }

  /// Records the copies of input slot |slot| into the arena and every
  /// command, as a run without profiling issues them, into graphs_[slot].
  Status capture(int slot) {
    DLC_RETURN_IF_ERROR(backend_.beginCapture(), "");
    RunOptions plain;
    Status queued = runCommand(loadInputs_[slot], plain, nullptr);
    for (size_t c = 0; c < commands_.size() && queued.ok(); ++c)
      queued = runCommand(commands_[c], plain, nullptr);
    GraphHandle graph = nullptr;
    Status ended = backend_.endCapture(&graph);
    if (ended.ok() && !queued.ok())
      backend_.destroyGraph(graph);
    DLC_RETURN_IF_ERROR(queued, "");
    DLC_RETURN_IF_ERROR(ended, "");
    graphs_[slot] = graph;
    return okStatus();
  }

  std::vector<DeviceCommand> commands_;
  std::vector<TensorView> views_;  // the outputs, in page-locked staging
  uint64_t *stepStaging_ = nullptr;
  std::vector<void *> staging_;    // every page-locked allocation
  std::vector<KernelTime> times_;
  // Input slots: each input's bytes; per slot its page-locked and device
  // copies, and the command copying the device copy into the arena.
  std::vector<uint64_t> slotBytes_;
  std::vector<uint8_t *> hostSlots_[2];
  std::vector<DevicePtr> deviceSlots_[2];
  std::vector<DevicePtr> deviceSlotMemory_;
  DeviceCommand loadInputs_[2];
  int nextSlot_ = 0, stagedSlot_ = -1, runningSlot_ = -1;
  bool started_ = false;
  bool issuedOnce_ = false;           // a whole run issued command by command succeeded
  GraphHandle graphs_[2] = {};        // per input slot: every command, replayed by later runs
  ExecutionCounts counts_;
};

class CudaDevice : public Device {
public:
  explicit CudaDevice(std::unique_ptr<CudaBackend> backend) : backend_(std::move(backend)) {}
  ~CudaDevice() override {
    for (DevicePtr p : parameters_)
      (void)backend_->free(p);
  }

  std::string name() const override { return backend_->name(); }

  Status attach(const Bundle &bundle, std::vector<Parameter> &parameters) override {
    DLC_RETURN_IF_ERROR(checkHasCudaCode(bundle), "");
    DLC_RETURN_IF_ERROR(choicePolicyFromEnvironment(backend_->defaultChoicePolicy(), &choices_.policy), "");
    choices_.bundle = &bundle;
    choices_.backend = backend_.get();
    DLC_RETURN_IF_ERROR(backend_->loadKernels(bundle), "");
    for (const Parameter &p : parameters) {
      DevicePtr address = 0;
      DLC_RETURN_IF_ERROR(backend_->alloc(std::max<size_t>(p.bytes.size(), 1),
                                          "parameter '" + p.name + "'", &address),
                          "");
      parameters_.push_back(address);
    }
    return okStatus();
  }

  Status prepare(const fb::Program &program, std::vector<Parameter> &,
                 std::unique_ptr<PreparedProgram> *out) override {
    auto p = std::make_unique<CudaProgram>(*backend_, choices_);
    DLC_RETURN_IF_ERROR(p->prepare(program, parameters_), "");
    *out = std::move(p);
    return okStatus();
  }

  Status uploadParameters(const std::vector<Parameter> &parameters) override {
    for (size_t i = 0; i < parameters.size() && i < parameters_.size(); ++i)
      DLC_RETURN_IF_ERROR(backend_->copyToDevice(parameters_[i], parameters[i].bytes.data(),
                                                 parameters[i].bytes.size()),
                          "parameter '" + parameters[i].name + "'");
    // The host may change its copy as soon as this returns.
    return backend_->synchronize();
  }

  Status downloadParameters(std::vector<Parameter> &parameters) override {
    for (size_t i = 0; i < parameters.size() && i < parameters_.size(); ++i)
      DLC_RETURN_IF_ERROR(backend_->copyToHost(parameters[i].bytes.data(), parameters_[i],
                                               parameters[i].bytes.size()),
                          "parameter '" + parameters[i].name + "'");
    return backend_->synchronize();
  }

private:
  std::unique_ptr<CudaBackend> backend_;
  std::vector<DevicePtr> parameters_; // device storage, by bundle parameter index
  ChoiceContext choices_;
};

} // namespace

Status checkHasCudaCode(const Bundle &bundle) {
  std::string targets;
  if (bundle.root().targets())
    for (const flatbuffers::String *t : *bundle.root().targets()) {
      if (t->str() == "cuda")
        return okStatus();
      targets += (targets.empty() ? "" : ", ") + t->str();
    }
  return invalid(bundle.origin() + " has no CUDA code (compiled for: " +
                 (targets.empty() ? "cpu" : targets) +
                 "); recompile it with `dlc compile --target cuda`");
}

std::unique_ptr<Device> createDeviceOn(std::unique_ptr<CudaBackend> backend) {
  return std::make_unique<CudaDevice>(std::move(backend));
}

} // namespace dlc::rt::cuda
