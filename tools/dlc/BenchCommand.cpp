//===- BenchCommand.cpp - `dlc bench`: steps or batches per second ------===//
#include "tools/dlc/RuntimeCommands.h"

#include "runtime/session.h"
#include "runtime/float16.h"
#include "runtime/trainer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace dlc {

using json = nlohmann::json;

namespace {
/// `dlc bench --mode data`: training batches through the trainer's own
/// loader (a prefetch worker thread, OpenMP inside a batch), no steps.
int benchData(std::shared_ptr<const rt::Bundle> bundle, rt::Session &session,
              const RuntimeOptions &options) {
  rt::TrainOptions train;
  train.data = options.data;
  train.seed = options.seed;
  std::unique_ptr<rt::Trainer> trainer;
  if (rt::Status s = rt::Trainer::create(session, train, &trainer); !s.ok())
    return fail(s);
  int64_t examples = 0;
  double seconds = 0;
  if (options.warmup > 0)
    if (rt::Status s = trainer->readData(options.warmup, &examples, &seconds); !s.ok())
      return fail(s);
  const int64_t batches = options.steps > 0 ? options.steps : 20;
  if (rt::Status s = trainer->readData(batches, &examples, &seconds); !s.ok())
    return fail(s);
  json j = {{"model", bundle->root().model() ? bundle->root().model()->str() : ""},
            {"mode", "data"},
            {"batch", examples / batches},
            {"steps", batches},
            {"samples_per_sec", double(examples) / seconds},
            {"ms_per_step", 1000.0 * seconds / double(batches)}};
  if (options.json)
    std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  else
    std::printf("%s data batch %lld: %.1f examples/s, %.3f ms/batch\n", j["model"].get<std::string>().c_str(),
                (long long)(examples / batches), j["samples_per_sec"].get<double>(),
                j["ms_per_step"].get<double>());
  return 0;
}
} // namespace

int benchCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options) {
  std::unique_ptr<rt::Session> session;
  if (int rc = openSession(bundle, options, &session))
    return rc;
  if (options.mode == "data")
    return benchData(bundle, *session, options);
  bool train = options.mode == "train";
  std::string program = train ? "train_step" : "infer";
  if (!session->hasProgram(program)) {
    std::fprintf(stderr, "dlc: error: the bundle has no '%s' program\n", program.c_str());
    return 1;
  }
  // Synthetic inputs of the right shapes: uniform floats, valid class ids.
  std::vector<rt::TensorSpec> specs = session->inputs(program);
  std::vector<std::vector<uint8_t>> storage;
  std::vector<rt::TensorView> inputs;
  int64_t stepValue = 0;
  for (const rt::TensorSpec &spec : specs) {
    rt::TensorView v{nullptr, spec.dtype, spec.shape};
    if (spec.name == "step") {
      v.data = &stepValue;
      inputs.push_back(v);
      continue;
    }
    storage.emplace_back(v.bytes());
    v.data = storage.back().data();
    // An output's labels (`labels`, or `<output>/labels`): one-hot rows.
    const bool labels = rt::isLabelsInput(spec.name);
    for (int64_t i = 0; i < v.numel(); ++i) {
      uint64_t r = (uint64_t(i) * 0x9e3779b97f4a7c15ull) >> 40;
      if (rt::isFloatDType(v.dtype))
        rt::storeElement(v.dtype, v.data, i,
                         labels ? (i % spec.shape.back() == 0) : float(r % 1000) / 1000);
      else if (v.dtype == rt::DType::kI32)
        v.i32()[i] = int32_t(r % 10);
      else
        v.i64()[i] = int64_t(r % 10);
    }
    inputs.push_back(v);
  }
  int64_t batch = specs[0].shape[0];
  std::vector<rt::TensorView> outs;
  for (int64_t i = 0; i < options.warmup; ++i, ++stepValue)
    if (rt::Status s = session->run(program, inputs, &outs,
                                    {uint64_t(stepValue), false, options.checkNumerics}); !s.ok())
      return fail(s);
  int64_t steps = options.steps > 0 ? options.steps : 20;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i, ++stepValue)
    if (rt::Status s = session->run(program, inputs, &outs,
                                    {uint64_t(stepValue), options.profile, options.checkNumerics});
        !s.ok())
      return fail(s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.profile) {
    std::vector<rt::KernelTime> times = session->kernelTimes(program);
    double total = 0;
    for (const rt::KernelTime &t : times)
      total += t.seconds;
    std::sort(times.begin(), times.end(),
              [](const rt::KernelTime &a, const rt::KernelTime &b) { return a.seconds > b.seconds; });
    std::fprintf(stderr, "%-56s %10s %6s\n", "kernel", "ms/run", "share");
    for (const rt::KernelTime &t : times)
      std::fprintf(stderr, "%-56s %10.3f %5.1f%%\n", t.kernel.c_str(),
                   1000 * t.seconds / double(std::max<int64_t>(t.runs, 1)), 100 * t.seconds / total);
  }
  json j = {{"model", bundle->root().model() ? bundle->root().model()->str() : ""},
            {"mode", options.mode},
            {"batch", batch},
            {"steps", steps},
            {"samples_per_sec", double(batch * steps) / seconds},
            {"ms_per_step", 1000.0 * seconds / double(steps)}};
  // Warm-up and timed runs together: issued command by command, or replayed
  // as one captured CUDA graph.
  rt::ExecutionCounts counts = session->executionCounts(program);
  j["runs_issued"] = counts.issued;
  j["runs_replayed"] = counts.replayed;
  j["memory_bytes"] = session->memoryBytes(); // arenas and parameters
  // A --kernels auto bundle: which execution each kernel kept, and why.
  for (const rt::KernelChoiceReport &c : session->kernelChoices(program))
    j["kernel_choices"].push_back({{"kernel", c.kernel},
                                   {"runs", c.runs},
                                   {"how", c.how},
                                   {"compiled_ms", 1000 * c.compiledSeconds},
                                   {"alternative_ms", 1000 * c.alternativeSeconds}});
  if (options.json)
    std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  else
    std::printf("%s %s batch %lld: %.1f samples/s, %.3f ms/step (%lld runs issued, %lld replayed as a "
                "graph)\n",
                j["model"].get<std::string>().c_str(), options.mode.c_str(), (long long)batch,
                j["samples_per_sec"].get<double>(), j["ms_per_step"].get<double>(),
                (long long)counts.issued, (long long)counts.replayed);
  if (!options.json)
    for (const rt::KernelChoiceReport &c : session->kernelChoices(program)) {
      std::printf("  %s: %s, %s", c.kernel.c_str(), c.runs.c_str(), c.how.c_str());
      if (c.compiledSeconds > 0 || c.alternativeSeconds > 0)
        std::printf(" (compiler's choice %.3f ms, alternative %.3f ms)", 1000 * c.compiledSeconds,
                    1000 * c.alternativeSeconds);
      std::printf("\n");
    }
  return 0;
}

} // namespace dlc
