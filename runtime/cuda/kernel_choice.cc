//===- kernel_choice.cc - Measured choices between a kernel's alternatives -===//
#include "runtime/cuda/kernel_choice.h"

#include "runtime/cuda/sha256.h"
#include "runtime/file_io.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dlc::rt::cuda {
namespace {

constexpr char kMagic[] = "DLCCHOICE1";

const char *nameOf(KernelChoice c) {
  return c == KernelChoice::kCompiled ? "compiled" : "alternative";
}

void hashExecution(Sha256 &h, const fb::Program &program, fb::CudaExecution type, const void *execution) {
  h.updateField(fb::EnumNameCudaExecution(type));
  auto hashBuffers = [&](const flatbuffers::Vector<uint32_t> *args) {
    h.updateField(std::to_string(args ? args->size() : 0));
    if (args)
      for (uint32_t b : *args) {
        const fb::Buffer *buffer = program.buffers()->Get(b);
        std::string shape = fb::EnumNameDType(buffer->dtype());
        for (int64_t d : *buffer->shape())
          shape += " " + std::to_string(d);
        h.updateField(shape);
      }
  };
  auto hashShape = [&](const flatbuffers::Vector<uint32_t> &grid, const flatbuffers::Vector<uint32_t> &block,
                       uint32_t sharedBytes) {
    h.updateField(std::to_string(grid.Get(0)) + " " + std::to_string(grid.Get(1)) + " " +
                  std::to_string(grid.Get(2)) + " / " + std::to_string(block.Get(0)) + " " +
                  std::to_string(block.Get(1)) + " " + std::to_string(block.Get(2)) + " / " +
                  std::to_string(sharedBytes));
  };
  if (type == fb::CudaExecution::CudaLaunch) {
    const auto *launch = static_cast<const fb::CudaLaunch *>(execution);
    h.updateField(launch->entry()->str());
    hashShape(*launch->grid(), *launch->block(), launch->shared_bytes());
    if (launch->then())
      for (const fb::CudaStage *stage : *launch->then()) {
        h.updateField(stage->entry()->str());
        hashShape(*stage->grid(), *stage->block(), stage->shared_bytes());
      }
    hashBuffers(launch->args());
  } else if (type == fb::CudaExecution::LibraryCall) {
    const auto *call = static_cast<const fb::LibraryCall *>(execution);
    h.updateField(fb::EnumNameLibrary(call->library()));
    h.updateField(call->routine()->str());
    if (call->descriptor())
      for (const fb::Attr *a : *call->descriptor()) {
        std::ostringstream text;
        text << a->name()->str() << " =";
        if (a->ints())
          for (int64_t v : *a->ints())
            text << " " << v;
        if (a->floats())
          for (double v : *a->floats())
            text << " " << v;
        if (a->text())
          text << " '" << a->text()->str() << "'";
        h.updateField(text.str());
      }
    h.updateField(std::to_string(call->workspace_bytes()));
    hashBuffers(call->args());
  }
}

bool parseSeconds(const std::string &text, double *out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v) || v < 0)
    return false;
  *out = v;
  return true;
}

} // namespace

Status choicePolicyFromEnvironment(ChoicePolicy fallback, ChoicePolicy *out) {
  const char *value = std::getenv("DLC_KERNEL_CHOICE");
  if (!value || !*value) {
    *out = fallback;
    return okStatus();
  }
  const std::string v = value;
  if (v == "compiled")
    *out = ChoicePolicy::kCompiled;
  else if (v == "alternative")
    *out = ChoicePolicy::kAlternative;
  else if (v == "measured")
    *out = ChoicePolicy::kMeasured;
  else
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "DLC_KERNEL_CHOICE is '" + v +
                               "'; it takes compiled (the compiler's choice of each kernel), alternative "
                               "(the other execution a --kernels auto bundle carries) or measured (the "
                               "faster on this device, timed on the first run and cached)");
  return okStatus();
}

ChoiceCache::ChoiceCache(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && directory_.back() == '/')
    directory_.pop_back();
}

std::string ChoiceCache::key(const std::string &deviceIdentity, const Bundle &bundle,
                             const fb::Program &program, const fb::Kernel &k) {
  Sha256 h;
  h.updateField("dlc-kernel-choice-v1");
  h.updateField(deviceIdentity);
  h.update(bundle.payload() + k.cuda_source_offset(), k.cuda_source_bytes());
  h.updateField(std::to_string(k.cuda_source_bytes()));
  hashExecution(h, program, k.cuda_type(), k.cuda());
  hashExecution(h, program, k.alternative_type(), k.alternative());
  return toHex(h.finish());
}

std::string ChoiceCache::entryPath(const std::string &key) const {
  return directory_ + "/" + key + ".choice";
}

std::optional<ChoiceVerdict> ChoiceCache::load(const std::string &key) const {
  if (directory_.empty())
    return std::nullopt;
  std::vector<uint8_t> bytes;
  if (!readFile(entryPath(key), &bytes, 4096, "a kernel choice").ok())
    return std::nullopt;
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::string magic, fileKey, choice, compiled, alternative, extra;
  if (!(in >> magic >> fileKey >> choice >> compiled >> alternative) || (in >> extra) ||
      magic != kMagic || fileKey != key)
    return std::nullopt;
  ChoiceVerdict verdict;
  if (choice == nameOf(KernelChoice::kCompiled))
    verdict.choice = KernelChoice::kCompiled;
  else if (choice == nameOf(KernelChoice::kAlternative))
    verdict.choice = KernelChoice::kAlternative;
  else
    return std::nullopt;
  if (!parseSeconds(compiled, &verdict.compiledSeconds) ||
      !parseSeconds(alternative, &verdict.alternativeSeconds))
    return std::nullopt;
  return verdict;
}

Status ChoiceCache::store(const std::string &key, const ChoiceVerdict &verdict) const {
  if (directory_.empty())
    return okStatus();
  DLC_RETURN_IF_ERROR(makeDirectories(directory_, "kernel cache directory"), "");
  char times[64];
  std::snprintf(times, sizeof times, "%.9g %.9g", verdict.compiledSeconds, verdict.alternativeSeconds);
  const std::string line =
      std::string(kMagic) + " " + key + " " + nameOf(verdict.choice) + " " + times + "\n";
  return writeFileAtomically(entryPath(key), {{line.data(), line.size()}});
}

} // namespace dlc::rt::cuda
