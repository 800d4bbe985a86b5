//===- RuntimeCommands.cpp - `dlc train|eval|run|bench` -------------------===//
#include "tools/dlc/RuntimeCommands.h"
#include "runtime/class_ids.h"
#include "runtime/float16.h"

#include <CLI/CLI.hpp>

#include "runtime/cuda/cuda_device.h"
#if DLC_HAVE_CUDA_SIM
#include "runtime/cuda_sim/sim_module.h"
#endif
#include "runtime/data_setup.h"
#include "runtime/data/dataset.h"
#include "runtime/data/idx.h"
#include "runtime/data/image.h"
#include "runtime/data/transforms.h"
#include "runtime/file_io.h"
#include "runtime/keras_weights.h"
#include "runtime/safetensors.h"
#include "runtime/session.h"
#include "runtime/trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace dlc {

int fail(const rt::Status &status) {
  std::fprintf(stderr, "dlc: error: %s\n", status.message().c_str());
  return 1;
}

int openSession(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options,
                std::unique_ptr<rt::Session> *session) {
  std::string backend = options.backend;
  // `auto` found a GPU, but a .dlcb compiled for the CPU only cannot use it.
  if (options.backendIsAuto && backend == "cuda" && !rt::cuda::checkHasCudaCode(*bundle).ok()) {
    std::fprintf(stderr, "dlc: %s has no CUDA code; running on the CPU\n",
                 bundle->origin().c_str());
    backend = "cpu";
  }
  std::unique_ptr<rt::Device> device;
  if (rt::Status s = createDevice(backend, options.trustBundleCode, &device); !s.ok())
    return fail(s);
  rt::Status status = rt::Session::create(std::move(bundle), std::move(device), session);
  return status.ok() ? 0 : fail(status);
}

namespace {

using json = nlohmann::json;

/// openSession, then the weights of --checkpoint DIR when given (eval, run,
/// export).
int openSessionWithCheckpoint(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options,
                              std::unique_ptr<rt::Session> *out) {
  if (int rc = openSession(std::move(bundle), options, out))
    return rc;
  if (!options.checkpoint.empty())
    if (rt::Status s = (*out)->loadCheckpoint(options.checkpoint + "/checkpoint.safetensors", nullptr);
        !s.ok())
      return fail(s);
  return 0;
}

std::string metricsText(const rt::MetricValues &m, const std::string &prefix) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, " - %sloss: %.4f", prefix.c_str(), m.loss);
  std::string text = buffer;
  for (const auto &[name, value] : m.metrics) {
    std::snprintf(buffer, sizeof buffer, " - %s%s: %.4f", prefix.c_str(), name.c_str(), value);
    text += buffer;
  }
  return text;
}

std::string duration(double seconds) {
  char buffer[32];
  if (seconds >= 3600)
    std::snprintf(buffer, sizeof buffer, "%d:%02d:%02d", int(seconds / 3600),
                  int(seconds / 60) % 60, int(seconds) % 60);
  else if (seconds >= 60)
    std::snprintf(buffer, sizeof buffer, "%d:%02d", int(seconds / 60), int(seconds) % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%.0fs", seconds);
  return buffer;
}

/// Keras' progress bar: "123/1875 [=>.....] - ETA: 9s - loss: ... - 5012 samples/s".
std::string progressLine(const rt::Progress &p) {
  int width = 30;
  int filled = p.batches > 0 ? int(width * std::min(p.batch, p.batches) / p.batches) : width;
  std::string bar(size_t(filled), '=');
  if (filled < width)
    bar += '>' + std::string(size_t(width - filled - 1), '.');
  int digits = int(std::to_string(p.batches).size());
  char head[64];
  std::snprintf(head, sizeof head, "%*lld/%lld [", digits, (long long)p.batch,
                (long long)p.batches);
  std::string eta = p.batch > 0 && p.batch < p.batches
                        ? " - ETA: " + duration(p.seconds / double(p.batch) *
                                                double(p.batches - p.batch))
                        : " - " + duration(p.seconds);
  char rate[48];
  std::snprintf(rate, sizeof rate, " - %.0f samples/s", p.samplesPerSecond);
  return head + bar + "]" + eta + metricsText(p.running, "") + rate;
}

} // namespace

rt::Status createDevice(const std::string &backend, bool trustBundleCode,
                        std::unique_ptr<rt::Device> *out) {
  if (backend == "cpu") {
    *out = rt::createCpuDevice();
    return rt::okStatus();
  }
  if (backend == "cuda") {
    if (rt::Status probe = rt::cuda::CudaContext::probe(); !probe.ok())
      return DLC_MAKE_STATUS(probe.code(), "--backend cuda: no CUDA GPU: " + probe.message());
    return rt::createCudaDevice(0, out);
  }
  if (backend == "cuda-sim") {
#if DLC_HAVE_CUDA_SIM
    rt::SimOptions sim;
    sim.trustAnyBundle = trustBundleCode;
    return rt::createCudaSimDevice(out, sim);
#else
    return DLC_MAKE_STATUS(rt::StatusCode::kUnavailable,
                           "--backend cuda-sim: this dlc was built without the CUDA emulation "
                           "(no CUDA headers were found at build time)");
#endif
  }
  return DLC_MAKE_STATUS(rt::StatusCode::kInvalidArgument,
                         "unknown backend '" + backend + "' (backends: auto, cpu, cuda, cuda-sim)");
}

bool resolveBackend(RuntimeOptions *options) {
  const std::string &b = options->backend;
  if (b != "auto" && b != "cpu" && b != "cuda" && b != "cuda-sim") {
    std::fprintf(stderr, "dlc: error: unknown backend '%s' (backends: auto, cpu, cuda, cuda-sim)\n",
                 b.c_str());
    return false;
  }
  if (b == "cuda")
    if (rt::Status probe = rt::cuda::CudaContext::probe(); !probe.ok()) {
      std::fprintf(stderr, "dlc: error: --backend cuda: no CUDA GPU: %s\n",
                   probe.message().c_str());
      return false;
    }
  if (b != "auto")
    return true;
  options->backendIsAuto = true;
  rt::Status probe = rt::cuda::CudaContext::probe();
  options->backend = probe.ok() ? "cuda" : "cpu";
  if (!probe.ok())
    std::fprintf(stderr, "dlc: no CUDA GPU (%s); running on the CPU\n", probe.message().c_str());
  return true;
}

/// The largest count (epochs, steps) a command line may ask for: far beyond
/// any run, far below where int64 arithmetic on it could overflow.
constexpr int64_t kMaxCount = int64_t(1) << 40;

RuntimeCommandSet addRuntimeCommands(CLI::App &app, std::string &input, const std::string &inputHelp,
                                     RuntimeOptions &options,
                                     const std::function<void(CLI::App *)> &addModelOptions) {
  auto add = [&](const char *name, const char *help) {
    CLI::App *command = app.add_subcommand(name, help);
    command->add_option("model", input, inputHelp)->required();
    command->add_option("--backend", options.backend,
                        "device: auto (cuda if there is a GPU, else cpu), cpu, cuda, cuda-sim")
        ->capture_default_str();
    command->add_flag("--trust-bundle-code", options.trustBundleCode,
                      "cuda-sim: compile and run the CUDA code of a bundle that dlc did not "
                      "compile on this machine (it runs as host code: only for bundles you trust)");
    command->add_flag("--check-numerics", options.checkNumerics,
                      "after each kernel, check what it wrote and stop at the first NaN or "
                      "infinity, naming the kernel and its .dl location");
    if (addModelOptions)
      addModelOptions(command);
    return command;
  };
  RuntimeCommandSet set;
  set.train = add("train", "train a model on its data (model.fit)");
  set.train->add_option("--data", options.data, "data source: KIND[:key=value,...]");
  set.train->add_option("--epochs", options.epochs, "epochs (default: the setup's)")
      ->check(CLI::Range(int64_t(1), kMaxCount));
  set.train->add_option("--steps", options.steps, "stop after this many steps in all")
      ->check(CLI::Range(int64_t(1), kMaxCount));
  set.train->add_option("--seed", options.seed, "data order and augmentation seed");
  set.train->add_option("--log", options.log, "append one JSON line per epoch here");
  set.train->add_option("--log-every-steps", options.logEverySteps,
                        "also log the running loss and metrics every N steps")
      ->check(CLI::Range(int64_t(1), kMaxCount));
  set.train->add_option("--checkpoint", options.checkpoint, "checkpoint directory");
  set.train->add_flag("--resume", options.resume, "continue from the checkpoint");
  set.train->add_option("--checkpoint-every", options.checkpointEvery, "also checkpoint every N steps")
      ->check(CLI::Range(int64_t(1), kMaxCount))
      ->capture_default_str();
  set.eval = add("eval", "loss and metrics on the validation data");
  set.eval->add_option("--data", options.data, "data source: KIND[:key=value,...]");
  set.eval->add_option("--checkpoint", options.checkpoint, "weights from this checkpoint directory");
  set.run = add("run", "predict: run the inference program on inputs");
  set.run->add_option("--input", options.input,
                      "examples: a folder of JPEG/PNG images, a .npz/.npy/.csv/.safetensors file "
                      "(arrays named after the inputs), IDX images, or a data source as --data "
                      "takes it (KIND:key=value,...), read without targets")
      ->required();
  set.run->add_option("-o", options.output, "write predictions (safetensors)");
  set.run->add_option("--checkpoint", options.checkpoint, "weights from this checkpoint directory");
  set.bench = add("bench", "time training or inference steps, or the training data pipeline");
  set.bench->add_option("--mode", options.mode,
                        "train or infer (synthetic inputs), or data: read, decode and augment "
                        "training batches as `dlc train` does, without training")
      ->check(CLI::IsMember({"train", "infer", "data"}))
      ->capture_default_str();
  set.bench->add_option("--data", options.data, "--mode data: data source: KIND[:key=value,...]");
  set.bench->add_option("--seed", options.seed, "--mode data: data order and augmentation seed");
  set.bench->add_option("--steps", options.steps, "timed steps")
      ->check(CLI::Range(int64_t(1), kMaxCount));
  set.bench->add_option("--warmup", options.warmup, "untimed steps first")
      ->check(CLI::Range(int64_t(0), kMaxCount))
      ->capture_default_str();
  set.bench->add_flag("--json", options.json, "print one JSON object");
  set.bench->add_flag("--profile", options.profile, "print time per kernel (stderr)");
  set.exportWeights = add("export", "write the model's weights for Keras (.h5) or as safetensors");
  set.exportWeights->add_option("--checkpoint", options.checkpoint,
                                "weights from this checkpoint directory (default: the model's own)");
  set.exportWeights->add_option("-o", options.output, "OUT.h5 (Keras' HDF5 layout) or OUT.safetensors")
      ->required();
  return set;
}

CLI::App *addGradCommand(CLI::App &app, std::string &input, RuntimeOptions &options) {
  CLI::App *command = app.add_subcommand("grad", "write the loss and parameter gradients of one batch");
  command->add_option("model", input, "the .dlcb file")->required();
  command->add_option("--backend", options.backend,
                      "device: auto (cuda if there is a GPU, else cpu), cpu, cuda, cuda-sim")
      ->capture_default_str();
  command->add_flag("--trust-bundle-code", options.trustBundleCode,
                    "cuda-sim: compile and run the CUDA code of a bundle that dlc did not "
                    "compile on this machine (it runs as host code: only for bundles you trust)");
  command->add_option("--weights", options.weights, "safetensors with every parameter")->required();
  command->add_option("--batch", options.batch, "safetensors with the inputs by name and `labels`")
      ->required();
  command->add_option("--out", options.out, "safetensors to write")->required();
  command->add_option("--step-out", options.stepOut,
                      "also take one training step from the same parameters (optimizer slots "
                      "at zero) and write every parameter and optimizer slot after it here");
  command->add_option("--eval-out", options.evalOut,
                      "also run the evaluate program on the batch and write each example's loss and metric scores here");
  command->add_option("--step", options.step,
                      "the training step's number: its dropout masks, for the gradients and --step-out")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return command;
}

int runRuntimeCommand(const RuntimeCommandSet &commands, RuntimeOptions &options,
                      const BundleLoader &load) {
  using Command = int (*)(std::shared_ptr<const rt::Bundle>, const RuntimeOptions &);
  for (auto [command, run] : {std::pair<CLI::App *, Command>{commands.train, &trainCommand},
                              std::pair<CLI::App *, Command>{commands.eval, &evalCommand},
                              std::pair<CLI::App *, Command>{commands.run, &runCommand},
                              std::pair<CLI::App *, Command>{commands.bench, &benchCommand},
                              std::pair<CLI::App *, Command>{commands.exportWeights, &exportCommand}}) {
    if (!*command)
      continue;
    // Decided before a .dl file is compiled: the cuda backends need CUDA code.
    if (!resolveBackend(&options))
      return 1;
    std::shared_ptr<const rt::Bundle> bundle;
    if (int status = load(&bundle))
      return status;
    return run(bundle, options);
  }
  return -1;
}

namespace {

/// Reads |t| into |view|'s storage as |view|'s dtype (floats rounded to a
/// 16-bit input's type, to nearest even).
rt::Status readAs(const rt::SafetensorsTensor &t, rt::TensorView view) {
  if (rt::isFloatDType(view.dtype)) {
    std::vector<float> values;
    DLC_RETURN_IF_ERROR(rt::readFloat32(t, &values), "");
    for (size_t i = 0; i < values.size(); ++i)
      rt::storeElement(view.dtype, view.data, int64_t(i), values[i]);
    return rt::okStatus();
  }
  std::vector<int64_t> values;
  DLC_RETURN_IF_ERROR(rt::readInt64(t, &values), "");
  for (size_t i = 0; i < values.size(); ++i) {
    if (view.dtype == rt::DType::kI64) {
      view.i64()[i] = values[i];
    } else if (values[i] == int32_t(values[i])) {
      view.i32()[i] = int32_t(values[i]);
    } else {
      return DLC_MAKE_STATUS(rt::StatusCode::kInvalidArgument,
                             "'" + t.name + "' holds " + std::to_string(values[i]) +
                                 " at element " + std::to_string(i) +
                                 ", which does not fit the bundle's int32 input");
    }
  }
  return rt::okStatus();
}

/// Whether |t| holds one-hot rows where |spec| takes class ids: a batch
/// written for categorical_crossentropy, given to a bundle compiled for the
/// ids (dlc-class-id-labels).
bool isOneHotForIds(const rt::SafetensorsTensor &t, const rt::TensorSpec &spec) {
  return !rt::isFloatDType(spec.dtype) && rt::holdsOneHotRowsFor(t, spec.shape);
}

rt::Status readIdsOfOneHot(const rt::SafetensorsTensor &t, rt::TensorView view, const std::string &file) {
  std::vector<int64_t> ids;
  DLC_RETURN_IF_ERROR(rt::classIdsOfOneHotTensor(t, "'" + t.name + "' in " + file, &ids), "");
  for (size_t i = 0; i < ids.size(); ++i)
    rt::storeElement(view.dtype, view.data, int64_t(i), double(ids[i]));
  return rt::okStatus();
}

} // namespace

int gradCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  auto error = [](const std::string &message) {
    std::fprintf(stderr, "dlc: error: %s\n", message.c_str());
    return 1;
  };
  if (!bundle->program("grad"))
    return error(bundle->origin() + " has no grad program");
  std::unique_ptr<rt::Session> session;
  if (int rc = openSession(bundle, options, &session))
    return rc;
  rt::SafetensorsFile weights, batch;
  if (rt::Status s = rt::SafetensorsFile::open(options.weights, &weights); !s.ok())
    return fail(s);
  for (rt::Parameter &p : session->parameters()) {
    if (!p.slotOf.empty())
      continue; // optimizer state: not part of the contract
    const rt::SafetensorsTensor *t = weights.find(p.name);
    if (!t || t->shape != p.shape)
      return error(options.weights + ": no tensor '" + p.name + "' of shape " + rt::shapeString(p.shape));
    if (rt::Status s = readAs(*t, p.view()); !s.ok())
      return fail(s);
  }
  if (rt::Status s = session->parametersChanged(); !s.ok())
    return fail(s);
  if (rt::Status s = rt::SafetensorsFile::open(options.batch, &batch); !s.ok())
    return fail(s);
  std::vector<rt::TensorSpec> specs = session->inputs("grad");
  std::vector<std::vector<uint8_t>> storage(specs.size());
  std::vector<rt::TensorView> inputs;
  for (size_t i = 0; i < specs.size(); ++i) {
    const rt::SafetensorsTensor *t = batch.find(specs[i].name);
    if (!t && i == 0)
      t = batch.find("input");
    if (!t)
      return error(options.batch + ": no tensor '" + specs[i].name + "'");
    rt::TensorView view{nullptr, specs[i].dtype, specs[i].shape};
    storage[i].resize(view.bytes());
    view.data = storage[i].data();
    if (isOneHotForIds(*t, specs[i])) {
      if (rt::Status s = readIdsOfOneHot(*t, view, options.batch); !s.ok())
        return fail(s);
      inputs.push_back(view);
      continue;
    }
    if (t->shape != specs[i].shape)
      return error(options.batch + ": '" + specs[i].name + "' has shape " + rt::shapeString(t->shape) +
                   "; the bundle takes " + rt::shapeString(specs[i].shape) +
                   " (compile it with --batch " + std::to_string(specs[i].shape[0]) + ")");
    if (rt::Status s = readAs(*t, view); !s.ok())
      return fail(s);
    inputs.push_back(view);
  }
  std::vector<rt::TensorView> outputs;
  rt::RunOptions gradRun; // the step's dropout masks, as in train_step below
  gradRun.step = uint64_t(options.step);
  if (rt::Status s = session->run("grad", inputs, &outputs, gradRun); !s.ok())
    return fail(s);
  std::vector<rt::TensorSpec> names = session->outputs("grad");
  std::vector<rt::TensorToWrite> tensors;
  for (size_t i = 0; i < outputs.size(); ++i)
    tensors.push_back({names[i].name, rt::DType::kF32, outputs[i].shape, outputs[i].data,
                       outputs[i].bytes()});
  if (rt::Status s = rt::writeSafetensors(options.out, tensors); !s.ok())
    return fail(s);
  if (!options.evalOut.empty()) {
    if (!bundle->program("evaluate"))
      return error(bundle->origin() + " has no evaluate program (the model's output has no class axis after the batch)");
    if (rt::Status s = session->run("evaluate", inputs, &outputs); !s.ok())
      return fail(s);
    std::vector<rt::TensorSpec> scores = session->outputs("evaluate");
    tensors.clear();
    for (size_t i = 0; i < outputs.size(); ++i)
      tensors.push_back({scores[i].name, rt::DType::kF32, outputs[i].shape, outputs[i].data,
                         outputs[i].bytes()});
    if (rt::Status s = rt::writeSafetensors(options.evalOut, tensors); !s.ok())
      return fail(s);
  }
  if (options.stepOut.empty())
    return 0;
  if (!bundle->program("train_step"))
    return error(bundle->origin() + " has no train_step program");
  int64_t step = options.step;
  inputs.push_back(rt::TensorView{&step, rt::DType::kI64, {}});
  // The augmentation keys after the step (dl.augment): from the batch by
  // name, else each example's index in the batch and (seed, epoch) = (0, 0),
  // as `dlc grad` takes them.
  std::vector<rt::TensorSpec> stepSpecs = session->inputs("train_step");
  // A step that crops its batch itself takes the batch before the crop in
  // place of the model's input (`image/uncropped`), from the batch file.
  std::vector<std::vector<uint8_t>> uncropped;
  for (size_t i = 0; i + 1 < inputs.size() && i < stepSpecs.size(); ++i) {
    if (stepSpecs[i].name == specs[i].name)
      continue;
    const rt::SafetensorsTensor *t = batch.find(stepSpecs[i].name);
    if (!t || t->shape != stepSpecs[i].shape)
      return error(options.batch + ": no tensor '" + stepSpecs[i].name + "' of shape " +
                   rt::shapeString(stepSpecs[i].shape) + " (the batch before the crop the training step makes)");
    rt::TensorView view{nullptr, stepSpecs[i].dtype, stepSpecs[i].shape};
    uncropped.emplace_back(view.bytes());
    view.data = uncropped.back().data();
    if (rt::Status s = readAs(*t, view); !s.ok())
      return fail(s);
    inputs[i] = view;
  }
  std::vector<std::vector<int64_t>> keys;
  for (size_t i = inputs.size(); i < stepSpecs.size(); ++i) {
    const rt::TensorSpec &spec = stepSpecs[i];
    keys.emplace_back(size_t(rt::numElements(spec.shape)), 0);
    rt::TensorView view{keys.back().data(), rt::DType::kI64, spec.shape};
    if (const rt::SafetensorsTensor *t = batch.find(spec.name)) {
      if (t->shape != spec.shape)
        return error(options.batch + ": '" + spec.name + "' has shape " + rt::shapeString(t->shape) +
                     "; the bundle takes " + rt::shapeString(spec.shape));
      if (rt::Status s = readAs(*t, view); !s.ok())
        return fail(s);
    } else if (spec.name == "example_ids") {
      for (size_t e = 0; e < keys.back().size(); ++e)
        keys.back()[e] = int64_t(e);
    } else if (spec.name != "augment_seed") {
      return error(options.batch + ": no tensor '" + spec.name + "' (an input of the training step)");
    }
    inputs.push_back(view);
  }
  rt::RunOptions run;
  run.step = uint64_t(step);
  if (rt::Status s = session->run("train_step", inputs, &outputs, run); !s.ok())
    return fail(s);
  if (rt::Status s = session->syncParametersToHost(); !s.ok())
    return fail(s);
  std::vector<rt::TensorToWrite> stepped;
  for (rt::Parameter &p : session->parameters())
    stepped.push_back({p.name, p.dtype, p.shape, p.bytes.data(), p.bytes.size()});
  if (rt::Status s = rt::writeSafetensors(options.stepOut, stepped); !s.ok())
    return fail(s);
  return 0;
}

int trainCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  std::unique_ptr<rt::Session> session;
  if (int rc = openSession(bundle, options, &session))
    return rc;
  rt::TrainOptions train;
  train.epochs = options.epochs;
  train.maxSteps = options.steps;
  train.seed = options.seed;
  train.data = options.data;
  train.resume = options.resume;
  train.checkpointEverySteps = options.checkpointEvery;
  train.checkNumerics = options.checkNumerics;
  if (!options.checkpoint.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.checkpoint, ec);
    if (ec) {
      std::fprintf(stderr, "dlc: error: cannot create checkpoint directory '%s': %s\n",
                   options.checkpoint.c_str(), ec.message().c_str());
      return 1;
    }
    train.checkpointPath = options.checkpoint + "/checkpoint.safetensors";
  } else if (options.resume) {
    std::fprintf(stderr, "dlc: error: --resume needs --checkpoint DIR\n");
    return 1;
  }
  if (!train.checkpointPath.empty())
    if (int removed = rt::removeStaleTemporaries(train.checkpointPath))
      std::fprintf(stderr, "dlc: removed %d temporary file%s a killed run left in %s\n", removed,
                   removed == 1 ? "" : "s", options.checkpoint.c_str());
  rt::LineLog log;
  if (!options.log.empty())
    if (rt::Status s = log.open(options.log, options.resume); !s.ok())
      return fail(s);
  rt::Status logStatus;
  bool tty = ::isatty(STDOUT_FILENO);
  auto lastDraw = std::chrono::steady_clock::now();
  int64_t shownEpoch = -1;
  train.onProgress = [&](const rt::Progress &p) {
    if (p.epoch != shownEpoch) {
      std::printf("Epoch %lld/%lld\n", (long long)p.epoch + 1, (long long)p.epochs);
      shownEpoch = p.epoch;
    }
    auto now = std::chrono::steady_clock::now();
    if (tty && (now - lastDraw > std::chrono::milliseconds(100) || p.batch == p.batches)) {
      std::printf("\r%s\033[K", progressLine(p).c_str());
      std::fflush(stdout);
      lastDraw = now;
    }
  };
  rt::Progress last;
  train.onProgress = [&, draw = train.onProgress](const rt::Progress &p) {
    last = p;
    draw(p);
    // Per-step scalars: the epoch's running loss and metrics, as Keras'
    // per-batch logs.
    if (log.isOpen() && options.logEverySteps > 0 && p.batch > 0 &&
        p.step % options.logEverySteps == 0 && logStatus.ok()) {
      json j = {{"step", p.step}, {"epoch", p.epoch + 1}, {"batch", p.batch}, {"loss", p.running.loss},
                {"learning_rate", p.learningRate}};
      for (const auto &[name, value] : p.running.metrics)
        j[name] = value;
      logStatus = log.append(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  };
  train.onEpoch = [&](const rt::EpochLog &e) {
    std::string line = (tty ? "\r" : "") + progressLine(last);
    if (e.validated)
      line += metricsText(e.validation, "val_");
    if (e.lossScaled) {
      char scale[96];
      std::snprintf(scale, sizeof scale, " - loss_scale: %g (%lld steps skipped)", e.lossScale,
                    (long long)e.skippedSteps);
      line += scale;
    }
    if (e.cutShort)
      line += " (stopped by --steps)";
    line += e.callbackNote;
    std::printf("%s%s\n", line.c_str(), tty ? "\033[K" : "");
    std::fflush(stdout);
    if (log.isOpen()) {
      json j = {{"epoch", e.epoch},
                {"loss", e.train.loss},
                {"samples_per_sec", e.samplesPerSecond},
                {"seconds", e.seconds},
                {"data_wait_seconds", e.dataWaitSeconds},
                {"step", e.step},
                {"learning_rate", e.learningRate},
                {"cut_short", e.cutShort}};
      for (const auto &[name, value] : e.train.metrics)
        j[name] = value;
      if (!e.callbackNote.empty())
        j["callbacks"] = e.callbackNote.substr(3); // without the leading " - "
      if (e.lossScaled) {
        j["loss_scale"] = e.lossScale;
        j["skipped_steps"] = e.skippedSteps;
      }
      if (e.validated) {
        j["val_loss"] = e.validation.loss;
        for (const auto &[name, value] : e.validation.metrics)
          j["val_" + name] = value;
      }
      if (logStatus.ok()) // the first failure is the one to report
        logStatus = log.append(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  };
  train.onWarning = [&](const std::string &warning) {
    std::fprintf(stderr, "%sdlc: warning: %s\n", tty ? "\n" : "", warning.c_str());
    if (log.isOpen() && logStatus.ok())
      logStatus = log.append(json{{"warning", warning}}.dump(-1, ' ', false,
                                                             json::error_handler_t::replace));
  };
  std::unique_ptr<rt::Trainer> trainer;
  if (rt::Status s = rt::Trainer::create(*session, train, &trainer); !s.ok())
    return fail(s);
  std::printf("data: %s\n", trainer->dataSummary().c_str());
  if (rt::Status s = trainer->fit(); !s.ok()) {
    if (log.isOpen() && logStatus.ok())
      (void)log.append(json{{"error", s.message()}}.dump(-1, ' ', false,
                                                         json::error_handler_t::replace));
    return fail(s);
  }
  if (!logStatus.ok())
    return fail(logStatus);
  std::printf("peak memory: %.1f MiB (runtime buffers %.1f MiB)\n",
              double(rt::peakResidentBytes()) / (1 << 20),
              double(session->memoryBytes()) / (1 << 20));
  if (!options.checkpoint.empty())
    std::printf("checkpoint: %s\n", train.checkpointPath.c_str());
  return 0;
}

int exportCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  std::unique_ptr<rt::Session> session;
  if (int rc = openSessionWithCheckpoint(bundle, options, &session))
    return rc;
  if (rt::Status s = session->syncParametersToHost(); !s.ok())
    return fail(s);
  auto endsWith = [&](const std::string &suffix) {
    return options.output.size() >= suffix.size() &&
           options.output.compare(options.output.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // The model's weights: every parameter but optimizer state, in the
  // model's order, Keras' names and layouts.
  std::vector<const rt::Parameter *> weights;
  for (const rt::Parameter &p : session->parameters())
    if (p.slotOf.empty())
      weights.push_back(&p);
  if (endsWith(".safetensors")) {
    std::vector<rt::TensorToWrite> tensors;
    for (const rt::Parameter *p : weights)
      tensors.push_back({p->name, p->dtype, p->shape, p->bytes.data(), p->bytes.size()});
    if (rt::Status s = rt::writeSafetensors(options.output, tensors, {{"dlc.model", bundle->root().model() ? bundle->root().model()->str() : ""}}); !s.ok())
      return fail(s);
  } else if (endsWith(".h5") || endsWith(".hdf5")) {
    std::vector<rt::WeightTensor> values(weights.size());
    std::vector<rt::KerasLayerWeights> layers;
    for (size_t i = 0; i < weights.size(); ++i) {
      const rt::Parameter &p = *weights[i];
      const size_t slash = p.name.rfind('/');
      const std::string layer = slash == std::string::npos ? p.name : p.name.substr(0, slash);
      values[i].shape = p.shape;
      for (int64_t e = 0; e < rt::numElements(p.shape); ++e)
        values[i].values.push_back(float(rt::loadElement(p.dtype, p.bytes.data(), e)));
      if (layers.empty() || layers.back().layer != layer)
        layers.push_back({layer, {}, {}});
      layers.back().names.push_back(p.name.substr(slash + 1));
      layers.back().tensors.push_back(&values[i]);
    }
    if (rt::Status s = rt::writeKerasH5(options.output, layers); !s.ok())
      return fail(s);
  } else {
    std::fprintf(stderr, "dlc: error: -o %s: the name must end in .h5 (Keras' HDF5 layout) or "
                         ".safetensors\n", options.output.c_str());
    return 1;
  }
  std::printf("wrote %zu weights to %s\n", weights.size(), options.output.c_str());
  return 0;
}

int evalCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  std::unique_ptr<rt::Session> session;
  if (int rc = openSessionWithCheckpoint(bundle, options, &session))
    return rc;
  rt::TrainOptions train;
  train.data = options.data;
  train.seed = options.seed;
  train.checkNumerics = options.checkNumerics;
  std::unique_ptr<rt::Trainer> trainer;
  if (rt::Status s = rt::Trainer::create(*session, train, &trainer); !s.ok())
    return fail(s);
  rt::MetricValues m;
  if (rt::Status s = trainer->evaluate(&m); !s.ok())
    return fail(s);
  std::printf("%lld examples%s\n", (long long)m.examples, metricsText(m, "").c_str());
  return 0;
}

/// The JPEG and PNG files under |dir| (recursively), sorted.
std::vector<std::string> imageFiles(const std::string &dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (it->is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// The image size the training setup's image_folder source decodes to
/// (its image_size), or |fallback| (the model input's).
std::pair<int64_t, int64_t> trainedImageSize(const rt::Bundle &bundle, std::pair<int64_t, int64_t> fallback) {
  if (!bundle.root().train_setup())
    return fallback;
  json setup = json::parse(bundle.root().train_setup()->str(), nullptr, false);
  if (setup.is_discarded() || !setup.contains("data_source"))
    return fallback;
  const json &source = setup["data_source"];
  if (source.value("kind", std::string()) != "image_folder" || !source.contains("options"))
    return fallback;
  const json &size = source["options"].value("image_size", json());
  if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer() ||
      size[0].get<int64_t>() < 1 || size[1].get<int64_t>() < 1)
    return fallback;
  return {size[0].get<int64_t>(), size[1].get<int64_t>()};
}

/// A folder of JPEG/PNG images to predict: decoded and resized as the
/// image_folder source does for training, then the bundle's transforms.
int readImagesToPredict(const rt::Bundle &bundle, const rt::TensorSpec &spec, const std::string &path,
                        std::vector<std::string> *names, std::vector<float> *values) {
  if (spec.shape.size() != 4 || !rt::isFloatDType(spec.dtype) || spec.shape[3] < 1 || spec.shape[3] > 4) {
    std::fprintf(stderr, "dlc: error: %s is a folder of images, but the model's input is not [batch, height, width, 1-4 channels]\n",
                 path.c_str());
    return 1;
  }
  *names = imageFiles(path);
  if (names->empty()) {
    std::fprintf(stderr, "dlc: error: %s holds no JPEG or PNG images\n", path.c_str());
    return 1;
  }
  auto [height, width] = trainedImageSize(bundle, {spec.shape[1], spec.shape[2]});
  const int64_t channels = spec.shape[3], rawSize = height * width * channels;
  std::vector<float> decoded(size_t(int64_t(names->size()) * rawSize)), pixels;
  for (size_t e = 0; e < names->size(); ++e) {
    rt::data::Image image;
    if (rt::Status s = rt::data::readImage((*names)[e], int(channels), &image); !s.ok())
      return fail(s);
    pixels.assign(image.pixels.begin(), image.pixels.end());
    rt::data::resizeBilinear(pixels.data(), image.width, channels, 0, 0, image.height, image.width,
                             decoded.data() + int64_t(e) * rawSize, height, width);
  }
  rt::data::Pipeline pipeline;
  if (rt::Status s = rt::inferencePipeline(bundle, {height, width, channels}, &pipeline); !s.ok())
    return fail(s);
  if (pipeline.outputShape() != std::vector<int64_t>(spec.shape.begin() + 1, spec.shape.end())) {
    std::fprintf(stderr, "dlc: error: %s: images of %lldx%lld do not become the model's input shape after the data transforms\n",
                 path.c_str(), (long long)height, (long long)width);
    return 1;
  }
  const int64_t perExample = rt::numElements(pipeline.outputShape());
  values->resize(names->size() * size_t(perExample));
  std::vector<float> scratch(size_t(pipeline.scratchElements() + 1));
  for (size_t e = 0; e < names->size(); ++e)
    pipeline.apply(decoded.data() + int64_t(e) * rawSize, values->data() + int64_t(e) * perExample, false,
                   rt::data::AugmentKey{}, scratch.data());
  return 0;
}

int runCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  std::unique_ptr<rt::Session> session;
  if (int rc = openSessionWithCheckpoint(bundle, options, &session))
    return rc;
  std::vector<rt::TensorSpec> specs = session->inputs("infer");
  if (specs.empty() || specs[0].shape.empty()) {
    std::fprintf(stderr, "dlc: error: the bundle's infer program takes no batch of inputs\n");
    return 1;
  }
  // The examples, one vector per model input: a folder of images, or any
  // data source (read without targets), each through the bundle's data
  // transforms as in evaluation.
  const int64_t batch = specs[0].shape[0];
  std::vector<std::vector<float>> values;
  std::vector<std::string> names; // one per example when the input is a folder of images
  int64_t examples = 0;
  const std::string &path = options.input;
  if (std::filesystem::is_directory(path)) {
    if (specs.size() != 1) {
      std::fprintf(stderr, "dlc: error: %s is a folder of images, but the model takes %zu inputs\n",
                   path.c_str(), specs.size());
      return 1;
    }
    values.resize(1);
    if (int rc = readImagesToPredict(*bundle, specs[0], path, &names, &values[0]))
      return rc;
    examples = int64_t(names.size());
  } else if (rt::Status s = rt::readExamplesToPredict(*bundle, specs, path, &values, &examples); !s.ok()) {
    return fail(s);
  }
  std::vector<std::vector<uint8_t>> batchData;
  std::vector<rt::TensorView> in;
  for (const rt::TensorSpec &spec : specs) {
    batchData.emplace_back(size_t(rt::numElements(spec.shape)) * rt::dtypeSize(spec.dtype));
    in.push_back({batchData.back().data(), spec.dtype, spec.shape});
  }
  // One tensor of predictions per model output, [examples, width].
  const std::vector<rt::TensorSpec> outputSpecs = session->outputs("infer");
  std::vector<std::vector<float>> predictions(outputSpecs.size());
  std::vector<int64_t> widths(outputSpecs.size(), 0);
  for (int64_t start = 0; start < examples; start += batch) {
    const int64_t count = std::min(batch, examples - start);
    for (size_t k = 0; k < specs.size(); ++k) {
      const int64_t perExample = rt::numElements(specs[k].shape) / batch;
      for (int64_t i = 0; i < batch * perExample; ++i) {
        const float v = i < count * perExample ? values[k][size_t(start * perExample + i)] : 0.0f;
        if (rt::isFloatDType(specs[k].dtype))
          rt::storeElement(specs[k].dtype, in[k].data, i, v);
        else if (specs[k].dtype == rt::DType::kI32)
          in[k].i32()[i] = int32_t(v);
        else
          in[k].i64()[i] = int64_t(v);
      }
    }
    std::vector<rt::TensorView> outs;
    rt::RunOptions run;
    run.checkNumerics = options.checkNumerics;
    if (rt::Status s = session->run("infer", in, &outs, run); !s.ok())
      return fail(s);
    for (size_t o = 0; o < outs.size() && o < predictions.size(); ++o) {
      widths[o] = outs[o].numel() / batch;
      predictions[o].insert(predictions[o].end(), outs[o].f32(), outs[o].f32() + count * widths[o]);
    }
  }
  // One output's tensor is `predictions`; several are named after the outputs.
  const bool several = predictions.size() > 1;
  if (!options.output.empty()) {
    std::vector<rt::TensorToWrite> tensors;
    for (size_t o = 0; o < predictions.size(); ++o)
      tensors.push_back({several ? outputSpecs[o].name : std::string("predictions"), rt::DType::kF32,
                         {examples, widths[o]}, predictions[o].data(), predictions[o].size() * sizeof(float)});
    if (rt::Status s = rt::writeSafetensors(options.output, tensors); !s.ok())
      return fail(s);
    std::printf("wrote %lld predictions to %s\n", (long long)examples, options.output.c_str());
    return 0;
  }
  for (int64_t e = 0; e < examples; ++e) {
    std::string line = size_t(e) < names.size() ? names[size_t(e)] : std::to_string(e);
    for (size_t o = 0; o < predictions.size(); ++o) {
      const float *row = predictions[o].data() + e * widths[o];
      const int64_t best = std::max_element(row, row + widths[o]) - row;
      char text[160];
      if (several && widths[o] == 1) // a value (regression), not a class
        std::snprintf(text, sizeof text, " %s: %.4f", outputSpecs[o].name.c_str(), row[0]);
      else
        std::snprintf(text, sizeof text, "%s%s class %lld (%.4f)", several ? " " : "",
                      several ? (outputSpecs[o].name + ":").c_str() : "", (long long)best, row[best]);
      line += (o ? "," : ":") + std::string(text);
    }
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

} // namespace dlc
