//===- InspectCommand.cpp - `dlc inspect`: what a bundle holds ------------===//
//
// Reads the bundle through the runtime's verifying loader only (no MLIR), so
// it shows exactly what the runtime would execute.
//
//===----------------------------------------------------------------------===//
#include "tools/dlc/InspectCommand.h"

#include "runtime/bundle.h"
#include "runtime/roofline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

namespace dlc {
namespace {

namespace fb = rt::fb;

const char *kindName(fb::BufferKind k) { return fb::EnumNameBufferKind(k); }

std::string shapeText(const flatbuffers::Vector<int64_t> *shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape->size(); ++i)
    s += (i ? "," : "") + std::to_string(shape->Get(i));
  return s + "]";
}

std::vector<uint32_t> dims(const flatbuffers::Vector<uint32_t> *v) {
  return v ? std::vector<uint32_t>(v->begin(), v->end()) : std::vector<uint32_t>{};
}

/// A kernel's CUDA code: how to launch it and, per architecture, the
/// resources ptxas gave it (what decides occupancy, and spills).
nlohmann::json cudaJson(const fb::Kernel *k, const fb::CudaLaunch *launch) {
  nlohmann::json out = {{"entry", launch->entry()->str()},
                        {"grid", dims(launch->grid())},
                        {"block", dims(launch->block())},
                        {"dynamic_shared_bytes", launch->shared_bytes()},
                        {"cluster_blocks", launch->cluster_blocks()},
                        {"takes_step", launch->takes_step()},
                        {"family", launch->family() ? launch->family()->str() : ""},
                        {"source_bytes", k->cuda_source_bytes()},
                        {"images", nlohmann::json::array()},
                        {"then", nlohmann::json::array()}};
  if (launch->then())
    for (const fb::CudaStage *stage : *launch->then())
      out["then"].push_back({{"entry", stage->entry()->str()},
                             {"grid", dims(stage->grid())},
                             {"block", dims(stage->block())},
                             {"dynamic_shared_bytes", stage->shared_bytes()},
                             {"cluster_blocks", stage->cluster_blocks()}});
  if (k->cuda_images())
    for (const fb::CudaImage *i : *k->cuda_images())
      out["images"].push_back({{"arch", i->arch() ? i->arch()->str() : ""},
                               {"registers", i->registers()},
                               {"spill_bytes", i->spill_bytes()},
                               {"shared_bytes", i->shared_bytes()},
                               {"stack_bytes", i->stack_bytes()},
                               {"ptx_bytes", i->ptx_bytes()},
                               {"cubin_bytes", i->cubin_bytes()}});
  return out;
}

nlohmann::json toJson(const rt::Bundle &bundle) {
  const fb::Bundle &root = bundle.root();
  nlohmann::json out;
  out["model"] = root.model() ? root.model()->str() : "";
  out["source"] = root.source() ? root.source()->str() : "";
  out["version"] = root.version();
  std::vector<std::string> targets;
  if (root.targets())
    for (auto t : *root.targets())
      targets.push_back(t->str());
  out["targets"] = targets;
  out["deterministic"] = root.deterministic();
  uint64_t paramBytes = 0;
  for (const fb::Parameter *p : *root.parameters()) {
    nlohmann::json j = {{"name", p->name()->str()},
                        {"shape", shapeText(p->shape())},
                        {"trainable", p->trainable()},
                        {"bytes", p->data_bytes()}};
    if (p->slot_of())
      j["slot_of"] = p->slot_of()->str();
    if (p->external_file())
      j["external_file"] = p->external_file()->str();
    if (p->drawn_at_load())
      j["drawn_at_load"] = p->initializer() ? p->initializer()->str() : "";
    paramBytes += p->data_bytes();
    out["parameters"].push_back(j);
  }
  out["parameter_bytes"] = paramBytes;
  for (const fb::Program *p : *root.programs()) {
    nlohmann::json prog = {{"name", p->name()->str()}, {"arena_bytes", p->arena_bytes()}};
    for (size_t i = 0; p->inputs() && i < p->inputs()->size(); ++i) {
      const fb::Buffer *b = p->buffers()->Get(p->inputs()->Get(i));
      prog["inputs"].push_back({{"name", p->input_names()->Get(i)->str()},
                                {"shape", shapeText(b->shape())},
                                {"dtype", rt::dtypeName(rt::fromFbDType(b->dtype()))}});
    }
    for (size_t i = 0; p->outputs() && i < p->outputs()->size(); ++i) {
      const fb::Buffer *b = p->buffers()->Get(p->outputs()->Get(i));
      prog["outputs"].push_back({{"name", p->output_names()->Get(i)->str()},
                                 {"shape", shapeText(b->shape())}});
    }
    for (const fb::Kernel *k : *p->kernels()) {
      nlohmann::json kernel = {{"name", k->name()->str()}, {"targets", targets}};
      for (const fb::Op *op : *k->ops()) {
        kernel["ops"].push_back(rt::fb::EnumNameOpKind(op->kind()));
        auto dtypes = [&](const flatbuffers::Vector<uint32_t> *buffers) {
          std::string text;
          for (size_t i = 0; buffers && i < buffers->size(); ++i)
            text += std::string(i ? ", " : "") +
                    rt::dtypeName(rt::fromFbDType(p->buffers()->Get(buffers->Get(uint32_t(i)))->dtype()));
          return text.empty() ? std::string("-") : text;
        };
        kernel["precision"].push_back({{"op", rt::fb::EnumNameOpKind(op->kind())},
                                       {"types", dtypes(op->inputs()) + " -> " + dtypes(op->outputs())},
                                       {"why", op->precision() ? op->precision()->str() : ""}});
      }
      if (k->locations())
        for (auto l : *k->locations())
          kernel["locations"].push_back(l->str());
      for (const fb::CpuCall *call : *k->cpu())
        kernel["cpu"].push_back(
            {{"routine", rt::fb::EnumNameCpuRoutine(call->routine())}, {"ops", call->ops()}});
      if (k->cuda_type() != fb::CudaExecution::NONE)
        kernel["cuda_execution"] = fb::EnumNameCudaExecution(k->cuda_type());
      if (k->cost())
        kernel["unit"] = fb::EnumNameComputeUnit(k->cost()->unit());
      auto libraryJson = [](const fb::LibraryCall *call) {
        std::string descriptor;
        if (call->descriptor())
          for (const fb::Attr *a : *call->descriptor()) {
            descriptor += (descriptor.empty() ? "" : " ") + a->name()->str() + "=";
            if (a->text())
              descriptor += a->text()->str();
            else if (a->ints() && a->ints()->size() == 1)
              descriptor += std::to_string(a->ints()->Get(0));
          }
        return nlohmann::json{{"library", fb::EnumNameLibrary(call->library())},
                              {"routine", call->routine()->str()},
                              {"family", call->family() ? call->family()->str() : ""},
                              {"descriptor", descriptor}};
      };
      if (const fb::CudaLaunch *launch = k->cuda_as_CudaLaunch())
        kernel["cuda"] = cudaJson(k, launch);
      if (const fb::LibraryCall *call = k->cuda_as_LibraryCall())
        kernel["library"] = libraryJson(call);
      // The other execution, which the device times against this one.
      if (const fb::CudaLaunch *launch = k->alternative_as_CudaLaunch())
        kernel["alternative"] = {{"cuda", cudaJson(k, launch)}};
      if (const fb::LibraryCall *call = k->alternative_as_LibraryCall())
        kernel["alternative"] = {{"library", libraryJson(call)}};
      prog["kernels"].push_back(kernel);
    }
    for (const fb::Buffer *b : *p->buffers())
      prog["buffers"].push_back({{"name", b->name() ? b->name()->str() : ""},
                                 {"kind", kindName(b->kind())},
                                 {"shape", shapeText(b->shape())},
                                 {"bytes", rt::bufferBytes(*b)},
                                 {"offset", b->offset()}});
    out["programs"].push_back(prog);
  }
  return out;
}

std::string dimsText(const nlohmann::json &d) {
  std::string s;
  for (const auto &n : d)
    s += (s.empty() ? "" : "x") + std::to_string(n.get<uint32_t>());
  return s;
}

/// Under its kernel's line: the entry and launch, then one line per
/// architecture ("?" where the bundle does not know the spills).
void printCuda(const nlohmann::json &c, const char *word) {
  // Clusters only where a launch has them (sm_90: blocks per cluster).
  auto cluster = [](const nlohmann::json &launch) {
    uint32_t blocks = launch.value("cluster_blocks", 1u);
    return blocks > 1 ? "  cluster " + std::to_string(blocks) : std::string();
  };
  std::printf("             %s %s %s  grid %s  block %s%s\n", word, c["family"].get<std::string>().c_str(),
              c["entry"].get<std::string>().c_str(), dimsText(c["grid"]).c_str(),
              dimsText(c["block"]).c_str(), cluster(c).c_str());
  for (const auto &stage : c["then"])
    std::printf("             then %s  grid %s  block %s%s\n", stage["entry"].get<std::string>().c_str(),
                dimsText(stage["grid"]).c_str(), dimsText(stage["block"]).c_str(), cluster(stage).c_str());
  for (const auto &i : c["images"]) {
    int spills = i["spill_bytes"].get<int>();
    std::printf("             %-6s %3d registers, %s B spills, %d B shared, %d B stack\n",
                i["arch"].get<std::string>().c_str(), i["registers"].get<int>(),
                spills < 0 ? "?" : std::to_string(spills).c_str(), i["shared_bytes"].get<int>(),
                i["stack_bytes"].get<int>());
  }
}

void printText(const nlohmann::json &j, bool precision) {
  std::printf("bundle %s (from %s), format %d, targets:", j["model"].get<std::string>().c_str(),
              j["source"].get<std::string>().c_str(), j["version"].get<int>());
  for (const auto &t : j["targets"])
    std::printf(" %s", t.get<std::string>().c_str());
  bool cuda = false;
  for (const auto &t : j["targets"])
    cuda |= t.get<std::string>() == "cuda";
  if (cuda) // the CPU's kernels always sum in one order
    std::printf("\nsums: %s", j["deterministic"].get<bool>()
                                  ? "in an order fixed at compile time (--deterministic): GPU runs repeat bit for bit"
                                  : "float atomics on the GPU: runs may differ in the last bits (docs/gpu.md)");
  if (cuda) { // what the GPU multiplies on: TF32 only where the precision policy allows it
    std::map<std::string, int> units;
    for (const auto &p : j["programs"])
      for (const auto &k : p["kernels"])
        if (k.contains("unit"))
          ++units[k["unit"].get<std::string>()];
    std::printf("\nproducts: TF32 %s; kernels by unit:",
                units.count("tensor_tf32") ? "on (precision tf32: f32 operands rounded for tensor cores)"
                                           : "off (f32 products in f32)");
    for (const auto &[unit, n] : units)
      std::printf(" %s %d", unit.c_str(), n);
  }
  std::printf("\nparameters: %zu (%.1f KiB)\n", j["parameters"].size(),
              j["parameter_bytes"].get<double>() / 1024);
  for (const auto &p : j["programs"]) {
    std::printf("\nprogram %s: %zu kernels, %zu buffers, arena %.1f KiB (peak)\n",
                p["name"].get<std::string>().c_str(), p["kernels"].size(), p["buffers"].size(),
                p["arena_bytes"].get<double>() / 1024);
    for (const auto &in : p.value("inputs", nlohmann::json::array()))
      std::printf("  input  %-16s %s %s\n", in["name"].get<std::string>().c_str(),
                  in["dtype"].get<std::string>().c_str(), in["shape"].get<std::string>().c_str());
    for (const auto &o : p.value("outputs", nlohmann::json::array()))
      std::printf("  output %-16s %s\n", o["name"].get<std::string>().c_str(),
                  o["shape"].get<std::string>().c_str());
    int i = 0;
    for (const auto &k : p["kernels"]) {
      std::string ops, locs;
      for (const auto &op : k["ops"])
        ops += (ops.empty() ? "" : " + ") + op.get<std::string>();
      if (k.contains("locations") && !k["locations"].empty())
        locs = "  @ " + k["locations"][0].get<std::string>();
      std::printf("  kernel %3d %-40s [%s]%s\n", i++, k["name"].get<std::string>().c_str(),
                  ops.c_str(), locs.c_str());
      if (precision)
        for (const auto &op : k["precision"])
          std::printf("             %-22s %-34s %s\n", op["op"].get<std::string>().c_str(),
                      op["types"].get<std::string>().c_str(), op["why"].get<std::string>().c_str());
      // The CPU's calls, when one routine runs several ops.
      std::string calls;
      bool fused = false;
      for (const auto &c : k["cpu"]) {
        calls += (calls.empty() ? "" : ", ") + c["routine"].get<std::string>();
        fused |= c["ops"].get<int>() > 1;
      }
      if (fused)
        std::printf("             cpu %s\n", calls.c_str());
      auto printLibrary = [](const nlohmann::json &l, const char *word) {
        std::printf("             %s %s: %s %s  %s\n", word, l["family"].get<std::string>().c_str(),
                    l["library"].get<std::string>().c_str(), l["routine"].get<std::string>().c_str(),
                    l["descriptor"].get<std::string>().c_str());
      };
      if (k.contains("cuda"))
        printCuda(k["cuda"], "cuda");
      else if (k.contains("library"))
        printLibrary(k["library"], "cuda");
      else if (k.contains("cuda_execution"))
        std::printf("             cuda %s\n", k["cuda_execution"].get<std::string>().c_str());
      // "or": timed against the above on the device's first run.
      if (k.contains("alternative") && k["alternative"].contains("cuda"))
        printCuda(k["alternative"]["cuda"], "or  ");
      else if (k.contains("alternative"))
        printLibrary(k["alternative"]["library"], "or  ");
    }
  }
}

nlohmann::json deviceJson(const rt::DeviceSpec &d) {
  return {{"name", d.name},
          {"description", d.description},
          {"sms", d.sms},
          {"bandwidth_bytes_per_second", d.bandwidth},
          {"fp32_flops", d.peak[int(fb::ComputeUnit::fp32)]},
          {"fp64_flops", d.peak[int(fb::ComputeUnit::fp64)]},
          {"tensor_16bit_flops", d.peak[int(fb::ComputeUnit::tensor_16bit)]},
          {"tensor_tf32_flops", d.peak[int(fb::ComputeUnit::tensor_tf32)]},
          {"issue_seconds", d.issueSeconds},
          {"gap_seconds", d.gapSeconds},
          {"graph_launch_seconds", d.graphLaunchSeconds},
          {"atomics_per_second", d.atomicsPerSecond}};
}

/// Each program's roofline prediction on |device| (runtime/roofline.h).
nlohmann::json rooflineJson(const rt::Bundle &bundle, const rt::DeviceSpec &device) {
  nlohmann::json out = {{"device", deviceJson(device)}, {"programs", nlohmann::json::array()}};
  for (const fb::Program *p : *bundle.root().programs()) {
    // Every run after the first replays the program as one CUDA graph.
    rt::ProgramEstimate e = rt::estimateProgram(*p, device, rt::Executor::graph);
    rt::ProgramEstimate first = rt::estimateProgram(*p, device, rt::Executor::issued);
    nlohmann::json prog = {{"name", e.program},
                           {"seconds", e.seconds},
                           {"first_run_seconds", first.seconds},
                           {"kernel_seconds", e.kernelSeconds},
                           {"upload_seconds", e.uploadSeconds},
                           {"host_copy_seconds", e.hostCopySeconds},
                           {"flops", e.flops},
                           {"bytes", e.bytes},
                           {"kernels", nlohmann::json::array()}};
    for (size_t i = 0; i < e.kernels.size(); ++i) {
      const rt::KernelEstimate &k = e.kernels[i];
      const fb::Kernel *kernel = p->kernels()->Get(uint32_t(i));
      // The execution the model predicts (the alternative where it finds it faster).
      const fb::CudaLaunch *launch =
          k.alternative ? kernel->alternative_as_CudaLaunch() : kernel->cuda_as_CudaLaunch();
      const fb::LibraryCall *call =
          k.alternative ? kernel->alternative_as_LibraryCall() : kernel->cuda_as_LibraryCall();
      const flatbuffers::String *family = launch ? launch->family() : call ? call->family() : nullptr;
      prog["kernels"].push_back({{"name", k.kernel},
                                 {"alternative", k.alternative},
                                 {"family", family ? family->str() : fb::EnumNameCudaExecution(kernel->cuda_type())},
                                 {"flops", k.flops},
                                 {"bytes", k.bytes},
                                 {"unit", fb::EnumNameComputeUnit(k.unit)},
                                 {"fill", k.fill},
                                 {"compute_seconds", k.computeSeconds},
                                 {"memory_seconds", k.memorySeconds},
                                 {"atomics", k.atomics},
                                 {"atomic_seconds", k.atomicSeconds},
                                 {"seconds", k.seconds},
                                 {"launches", k.launches},
                                 {"bound", k.bound},
                                 {"counted", k.counted}});
    }
    out["programs"].push_back(prog);
  }
  return out;
}

void printRoofline(const nlohmann::json &r) {
  const nlohmann::json &d = r["device"];
  std::printf("roofline on %s (%s: %d SMs, %.2f TB/s, f32 %.1f TFLOP/s, 16-bit tensor cores %.0f "
              "TFLOP/s, TF32 tensor cores %.0f TFLOP/s)\n",
              d["name"].get<std::string>().c_str(), d["description"].get<std::string>().c_str(),
              d["sms"].get<int>(), d["bandwidth_bytes_per_second"].get<double>() / 1e12,
              d["fp32_flops"].get<double>() / 1e12, d["tensor_16bit_flops"].get<double>() / 1e12,
              d["tensor_tf32_flops"].get<double>() / 1e12);
  for (const auto &p : r["programs"]) {
    int launches = 0, uncounted = 0;
    for (const auto &k : p["kernels"]) {
      launches += k["launches"].get<int>();
      uncounted += !k["counted"].get<bool>();
    }
    std::printf("\nprogram %s: %.3f ms per run as a CUDA graph = kernels %.3f ms (%d launches, memsets "
                "and copies) + outputs down %.3f ms, inputs up %.3f ms beside the run before; the first "
                "run, issued: %.3f ms; %.3f GFLOP, %.2f MB\n",
                p["name"].get<std::string>().c_str(), p["seconds"].get<double>() * 1e3,
                p["kernel_seconds"].get<double>() * 1e3, launches,
                p["host_copy_seconds"].get<double>() * 1e3, p["upload_seconds"].get<double>() * 1e3,
                p["first_run_seconds"].get<double>() * 1e3, p["flops"].get<double>() / 1e9,
                p["bytes"].get<double>() / 1e6);
    if (uncounted)
      std::printf("  %d kernels without a cost in the bundle: issue time only\n", uncounted);
    std::printf("  %-52s %-13s %-12s %10s %9s %5s %-7s %9s\n", "kernel", "family", "unit", "MFLOP", "MB",
                "SMs", "bound", "us");
    bool alternatives = false;
    for (const auto &k : p["kernels"]) {
      alternatives |= k["alternative"].get<bool>();
      std::printf("  %-52s %-13s %-12s %10.2f %9.3f %4.0f%% %-7s %9.2f\n",
                  k["name"].get<std::string>().c_str(),
                  (k["family"].get<std::string>() + (k["alternative"].get<bool>() ? "*" : "")).c_str(),
                  k["unit"].get<std::string>().c_str(),
                  k["flops"].get<double>() / 1e6, k["bytes"].get<double>() / 1e6,
                  k["fill"].get<double>() * 100, k["bound"].get<std::string>().c_str(),
                  k["seconds"].get<double>() * 1e6);
    }
    if (alternatives)
      std::printf("  * the kernel's alternative execution, which this model finds faster (the device "
                  "times both on its first run)\n");
  }
}

} // namespace

CLI::App *addInspectCommand(CLI::App &app, InspectOptions &options) {
  CLI::App *inspect = app.add_subcommand("inspect", "list a bundle's programs, kernels and buffers");
  inspect->add_option("bundle", options.bundle, "the .dlcb file")->required();
  inspect->add_flag("--json", options.json, "print JSON");
  inspect->add_flag("--precision", options.precision,
                    "under each kernel, each op's element types and why it runs in them");
  inspect->add_option("--device", options.device,
                      "predict each program's time per kernel on this GPU (a roofline model): " +
                          rt::knownDeviceNames());
  return inspect;
}

int inspectBundle(const InspectOptions &options) {
  const rt::DeviceSpec *device = nullptr;
  if (!options.device.empty() && !(device = rt::findDevice(options.device))) {
    std::fprintf(stderr, "dlc: error: --device %s: not a GPU the roofline model knows (%s)\n",
                 options.device.c_str(), rt::knownDeviceNames().c_str());
    return 1;
  }
  std::unique_ptr<rt::Bundle> bundle;
  rt::Status status = rt::Bundle::load(options.bundle, &bundle);
  if (!status.ok()) {
    std::fprintf(stderr, "dlc: error: %s\n", status.message().c_str());
    return 1;
  }
  const fb::Bundle &root = bundle->root();
  if (device && !(root.targets() && std::any_of(root.targets()->begin(), root.targets()->end(),
                                                [](auto t) { return t->str() == "cuda"; }))) {
    std::fprintf(stderr, "dlc: error: %s has no CUDA kernels to predict; compile it with "
                 "`dlc compile --target cuda`\n", options.bundle.c_str());
    return 1;
  }
  nlohmann::json j = toJson(*bundle);
  if (device)
    j["roofline"] = rooflineJson(*bundle, *device);
  if (options.json)
    std::cout << j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else if (device) {
    std::printf("bundle %s (from %s)\n", j["model"].get<std::string>().c_str(),
                j["source"].get<std::string>().c_str());
    printRoofline(j["roofline"]);
  } else
    printText(j, options.precision);
  return 0;
}

} // namespace dlc
