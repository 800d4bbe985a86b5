//===- InspectCommand.cpp - `dlc inspect`: what a bundle holds ------------===//
//
// Reads the bundle through the runtime's verifying loader only (no MLIR), so
// it shows exactly what the runtime would execute.
//
//===----------------------------------------------------------------------===//
#include "tools/dlc/InspectCommand.h"

#include "runtime/bundle.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

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

uint64_t bufferBytes(const fb::Buffer *b) {
  uint64_t n = rt::dtypeSize(rt::fromFbDType(b->dtype()));
  for (int64_t d : *b->shape())
    n *= uint64_t(d);
  return n;
}

std::vector<uint32_t> dims(const flatbuffers::Vector<uint32_t> *v) {
  return v ? std::vector<uint32_t>(v->begin(), v->end()) : std::vector<uint32_t>{};
}

/// A kernel's CUDA code: how to launch it and, per architecture, the
/// resources ptxas gave it (what decides occupancy, and spills).
nlohmann::json cudaJson(const fb::Kernel *k) {
  const fb::CudaLaunch *launch = k->cuda_as_CudaLaunch();
  nlohmann::json out = {{"entry", launch->entry()->str()},
                        {"grid", dims(launch->grid())},
                        {"block", dims(launch->block())},
                        {"dynamic_shared_bytes", launch->shared_bytes()},
                        {"takes_step", launch->takes_step()},
                        {"family", launch->family() ? launch->family()->str() : ""},
                        {"source_bytes", k->cuda_source_bytes()},
                        {"images", nlohmann::json::array()}};
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
      if (k->cuda_as_CudaLaunch())
        kernel["cuda"] = cudaJson(k);
      prog["kernels"].push_back(kernel);
    }
    for (const fb::Buffer *b : *p->buffers())
      prog["buffers"].push_back({{"name", b->name() ? b->name()->str() : ""},
                                 {"kind", kindName(b->kind())},
                                 {"shape", shapeText(b->shape())},
                                 {"bytes", bufferBytes(b)},
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
void printCuda(const nlohmann::json &c) {
  std::printf("             cuda %s %s  grid %s  block %s\n", c["family"].get<std::string>().c_str(),
              c["entry"].get<std::string>().c_str(), dimsText(c["grid"]).c_str(),
              dimsText(c["block"]).c_str());
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
      if (k.contains("cuda"))
        printCuda(k["cuda"]);
      else if (k.contains("cuda_execution"))
        std::printf("             cuda %s\n", k["cuda_execution"].get<std::string>().c_str());
    }
  }
}

} // namespace

int inspectBundle(const std::string &path, bool json, bool precision) {
  std::unique_ptr<rt::Bundle> bundle;
  rt::Status status = rt::Bundle::load(path, &bundle);
  if (!status.ok()) {
    std::fprintf(stderr, "dlc: error: %s\n", status.message().c_str());
    return 1;
  }
  nlohmann::json j = toJson(*bundle);
  if (json)
    std::cout << j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    printText(j, precision);
  return 0;
}

} // namespace dlc
