//===- bundle.cc - Bundle header, checksums and semantic verification -----===//
#include "runtime/bundle.h"

#include "runtime/initializers.h"

#include "runtime/file_io.h"
#include "runtime/limits.h"
#include "runtime/op_contracts.h"
#include "runtime/train_setup.h"
#include "runtime/utf8.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cctype>
#include <cstring>
#include <tuple>

namespace dlc::rt {
namespace {

constexpr char kMagic[4] = {'D', 'L', 'C', 'B'};
constexpr size_t kHeaderBytes = 32;

uint32_t crc(const uint8_t *data, uint64_t size) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = size > (1u << 30) ? (1u << 30) : uInt(size);
    c = crc32(c, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return uint32_t(c);
}

void putU32(uint8_t *p, uint32_t v) { std::memcpy(p, &v, 4); }
void putU64(uint8_t *p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t getU32(const uint8_t *p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t getU64(const uint8_t *p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

Status invalid(const std::string &origin, const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss, origin + ": invalid bundle: " + what);
}

/// Whether the elements of |v| are aligned for their type. The flatbuffers
/// Verifier (2.0) aligns a vector's length, not its 8-byte elements: a
/// hand-made file can misalign them, and reading them is undefined behaviour.
template <typename T> bool aligned(const flatbuffers::Vector<T> *v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->data()) % alignof(T) == 0;
}

/// Element count of |shape| with every dimension positive (the compiler
/// makes no empty tensors, and a batch of 0 divides by zero in a mean) and no
/// more than kMaxTensorElements elements.
bool checkedElements(const flatbuffers::Vector<int64_t> *shape, int64_t *count) {
  int64_t n = 1;
  if (!shape || shape->size() > 8 || !aligned(shape))
    return false;
  for (int64_t d : *shape) {
    if (d < 1 || n > kMaxTensorElements / d)
      return false;
    n *= d;
  }
  *count = n;
  return true;
}

std::string at(const std::string &prefix, size_t i) { return prefix + "[" + std::to_string(i) + "]"; }

/// Whether |name| is a C identifier, as every emitted entry's name is (the
/// emulation writes it into the source it compiles).
bool isEntryName(const flatbuffers::String &name) {
  if (name.size() == 0 || name.size() > 256 || std::isdigit(static_cast<unsigned char>(name.c_str()[0])))
    return false;
  for (char c : name.string_view())
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

/// A kernel's (or a launch's) cost, which the roofline model indexes by
/// unit and divides by efficiency.
Status checkCost(const std::string &origin, const std::string &where, const fb::KernelCost &cost) {
  if (!knownEnum(cost.unit()))
    return invalid(origin, where + ".unit " + std::to_string(int(cost.unit())) + " is unknown");
  if (!(cost.efficiency() > 0.0f && cost.efficiency() <= 1.0f))
    return invalid(origin, where + ".efficiency " + std::to_string(cost.efficiency()) +
                               " is not a fraction in (0, 1]");
  return okStatus();
}

/// A launch's grid and block: three dimensions each, none empty, at most
/// 1,024 threads a block.
Status checkLaunchShape(const std::string &origin, const std::string &where,
                        const flatbuffers::Vector<uint32_t> &grid, const flatbuffers::Vector<uint32_t> &block,
                        uint32_t clusterBlocks) {
  if (grid.size() != 3 || block.size() != 3)
    return invalid(origin, where + " grid and block must have 3 dimensions");
  uint64_t threads = 1;
  for (uint32_t d : block)
    threads *= d;
  for (uint32_t d : grid)
    if (d == 0)
      return invalid(origin, where + " has an empty grid");
  if (threads == 0 || threads > 1024)
    return invalid(origin, where + " block of " + std::to_string(threads) + " threads (1 to 1024)");
  if (clusterBlocks == 0 || clusterBlocks > 16 || grid.Get(0) % clusterBlocks)
    return invalid(origin, where + " cluster of " + std::to_string(clusterBlocks) +
                               " blocks (1 to 16, dividing the grid's x of " + std::to_string(grid.Get(0)) + ")");
  return okStatus();
}

bool validUtf8(const flatbuffers::String *s) {
  return !s || isValidUtf8(std::string_view(s->data(), s->size()));
}

/// The first string of the bundle that is not valid UTF-8, by its path, or "".
std::string firstBadString(const fb::Bundle &b) {
  auto bad = [](const flatbuffers::String *s) { return !validUtf8(s); };
  if (bad(b.model())) return "model";
  if (bad(b.source())) return "source";
  if (bad(b.train_setup())) return "train_setup";
  if (b.targets())
    for (size_t i = 0; i < b.targets()->size(); ++i)
      if (bad(b.targets()->Get(uint32_t(i)))) return at("targets", i);
  for (size_t i = 0; i < b.parameters()->size(); ++i) {
    const fb::Parameter *p = b.parameters()->Get(uint32_t(i));
    if (bad(p->name()) || bad(p->slot_of()) || bad(p->initializer()) || bad(p->external_file()) ||
        bad(p->layer_class()))
      return at("parameters", i);
  }
  for (size_t pi = 0; pi < b.programs()->size(); ++pi) {
    const fb::Program *p = b.programs()->Get(uint32_t(pi));
    std::string w = at("programs", pi);
    if (bad(p->name())) return w + ".name";
    for (auto *names : {p->input_names(), p->output_names()})
      if (names)
        for (const flatbuffers::String *s : *names)
          if (bad(s)) return w + " signature names";
    for (size_t i = 0; i < p->buffers()->size(); ++i)
      if (bad(p->buffers()->Get(uint32_t(i))->name())) return w + "." + at("buffers", i);
    for (size_t k = 0; k < p->kernels()->size(); ++k) {
      const fb::Kernel *kernel = p->kernels()->Get(uint32_t(k));
      std::string wk = w + "." + at("kernels", k);
      if (bad(kernel->name())) return wk + ".name";
      for (size_t o = 0; kernel->ops() && o < kernel->ops()->size(); ++o)
        if (bad(kernel->ops()->Get(uint32_t(o))->precision())) return wk + "." + at("ops", o) + ".precision";
      if (kernel->locations())
        for (const flatbuffers::String *s : *kernel->locations())
          if (bad(s)) return wk + ".locations";
      for (const fb::Op *op : *kernel->ops())
        if (op->attrs())
          for (const fb::Attr *a : *op->attrs())
            if (bad(a->name()) || bad(a->text())) return wk + " op attributes";
      if (kernel->cuda_images())
        for (const fb::CudaImage *image : *kernel->cuda_images())
          if (bad(image->arch())) return wk + ".cuda_images";
      for (auto [launch, call, field] :
           {std::tuple(kernel->cuda_as_CudaLaunch(), kernel->cuda_as_LibraryCall(), ".cuda"),
            std::tuple(kernel->alternative_as_CudaLaunch(), kernel->alternative_as_LibraryCall(),
                       ".alternative")}) {
        if (launch) {
          if (bad(launch->entry()) || bad(launch->family())) return wk + field;
          if (launch->then())
            for (const fb::CudaStage *stage : *launch->then())
              if (bad(stage->entry())) return wk + field + ".then";
        }
        if (call) {
          if (bad(call->routine()) || bad(call->family())) return wk + field + ".routine";
          if (call->descriptor())
            for (const fb::Attr *a : *call->descriptor())
              if (bad(a->name()) || bad(a->text())) return wk + field + ".descriptor";
        }
      }
    }
  }
  return "";
}


// The schema's DType is the runtime's, value for value.
#define DLC_SAME_DTYPE(schema, runtime) \
  static_assert(int(fb::DType::schema) == int(DType::runtime), #schema " differs from " #runtime)
DLC_SAME_DTYPE(F32, kF32);
DLC_SAME_DTYPE(I32, kI32);
DLC_SAME_DTYPE(I64, kI64);
DLC_SAME_DTYPE(F16, kF16);
DLC_SAME_DTYPE(BF16, kBF16);
DLC_SAME_DTYPE(F64, kF64);
DLC_SAME_DTYPE(I8, kI8);
DLC_SAME_DTYPE(U8, kU8);
DLC_SAME_DTYPE(I16, kI16);
DLC_SAME_DTYPE(U16, kU16);
DLC_SAME_DTYPE(U32, kU32);
DLC_SAME_DTYPE(U64, kU64);
DLC_SAME_DTYPE(Bool, kBool);
static_assert(int(fb::DType::MAX) == int(DType::kBool), "a dtype the runtime does not have");
#undef DLC_SAME_DTYPE


Status verifyProgram(const fb::Bundle &b, const fb::Program &p, size_t pi, uint64_t payloadSize,
                     uint64_t memoryBytes, const std::string &origin) {
  std::string where = at("programs", pi);
  const auto &buffers = *p.buffers();
  std::vector<int64_t> bytes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const fb::Buffer *buf = buffers[i];
    std::string w = where + "." + at("buffers", i);
    int64_t n;
    if (!checkedElements(buf->shape(), &n))
      return invalid(origin, w + ".shape has a dimension below 1, a huge one or too many");
    if (!knownEnum(buf->dtype()))
      return invalid(origin, w + ".dtype " + std::to_string(int(buf->dtype())) + " is unknown");
    bytes[i] = n * int64_t(dtypeSize(fromFbDType(buf->dtype())));
    switch (buf->kind()) {
    case fb::BufferKind::Temp:
    case fb::BufferKind::Input:
      if (buf->offset() % kBufferAlignment)
        return invalid(origin, w + ".offset " + std::to_string(buf->offset()) + " is not " +
                                   std::to_string(kBufferAlignment) + "-byte aligned");
      if (buf->offset() > p.arena_bytes() || uint64_t(bytes[i]) > p.arena_bytes() - buf->offset())
        return invalid(origin, w + " (offset " + std::to_string(buf->offset()) + ", " +
                                   std::to_string(bytes[i]) + " bytes) lies outside the arena of " +
                                   std::to_string(p.arena_bytes()) + " bytes");
      break;
    case fb::BufferKind::Param: {
      if (buf->param() < 0 || uint32_t(buf->param()) >= b.parameters()->size())
        return invalid(origin, w + ".param " + std::to_string(buf->param()) + " out of range (" +
                                   std::to_string(b.parameters()->size()) + " parameters)");
      const fb::Parameter *param = b.parameters()->Get(buf->param());
      int64_t pn;
      if (!checkedElements(param->shape(), &pn) || pn != n || param->dtype() != buf->dtype())
        return invalid(origin, w + " does not match the shape or type of parameter '" +
                                   param->name()->str() + "'");
      break;
    }
    case fb::BufferKind::Unstored:
      break; // checked against the call that makes it when the device prepares the kernel
    case fb::BufferKind::View:
      if (buf->base() < 0 || size_t(buf->base()) >= i)
        return invalid(origin, w + ".base " + std::to_string(buf->base()) +
                                   " must name an earlier buffer");
      if (bytes[i] != bytes[buf->base()])
        return invalid(origin, w + " views " + std::to_string(bytes[buf->base()]) +
                                   " bytes as " + std::to_string(bytes[i]));
      break;
    default:
      return invalid(origin, w + ".kind " + std::to_string(int(buf->kind())) + " is unknown");
    }
  }
  auto checkIndices = [&](const flatbuffers::Vector<uint32_t> *v, const std::string &w) {
    if (v)
      for (size_t i = 0; i < v->size(); ++i)
        if (v->Get(i) >= buffers.size())
          return invalid(origin, at(w, i) + " = " + std::to_string(v->Get(i)) +
                                     " out of range (" + std::to_string(buffers.size()) +
                                     " buffers)");
    return okStatus();
  };
  DLC_RETURN_IF_ERROR(checkIndices(p.inputs(), where + ".inputs"), "");
  DLC_RETURN_IF_ERROR(checkIndices(p.outputs(), where + ".outputs"), "");
  if ((p.inputs() ? p.inputs()->size() : 0) != (p.input_names() ? p.input_names()->size() : 0) ||
      (p.outputs() ? p.outputs()->size() : 0) != (p.output_names() ? p.output_names()->size() : 0))
    return invalid(origin, where + " has a different number of signature names and buffers");
  DLC_RETURN_IF_ERROR(checkFits(p.arena_bytes(), memoryBytes, where + "'s arena"), "");

  // Which buffers hold a value: the inputs and parameters at the start, then
  // what each op writes, in order. Reading anything else would read memory
  // no one wrote (and an output no kernel writes, garbage).
  auto rootOf = [&](uint32_t i) {
    while (buffers[i]->kind() == fb::BufferKind::View)
      i = uint32_t(buffers[i]->base()); // bases are earlier buffers: this ends
    return i;
  };
  std::vector<bool> defined(buffers.size(), false);
  for (size_t i = 0; i < buffers.size(); ++i)
    defined[i] = buffers[i]->kind() == fb::BufferKind::Param;
  if (p.inputs())
    for (size_t i = 0; i < p.inputs()->size(); ++i) {
      const fb::Buffer *in = buffers[p.inputs()->Get(uint32_t(i))];
      if (in->kind() != fb::BufferKind::Input)
        return invalid(origin, at(where + ".inputs", i) + " is a buffer of kind " +
                                   fb::EnumNameBufferKind(in->kind()) + ", not Input");
      if (in->shape()->size() == 0 && in->dtype() != fb::DType::I64)
        return invalid(origin, at(where + ".inputs", i) +
                                   " has rank 0; only the training step (i64) is a scalar input");
      defined[p.inputs()->Get(uint32_t(i))] = true;
    }
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i]->kind() == fb::BufferKind::Input && !defined[i])
      return invalid(origin, where + "." + at("buffers", i) + " is of kind Input but no input");

  for (size_t k = 0; k < p.kernels()->size(); ++k) {
    const fb::Kernel *kernel = p.kernels()->Get(k);
    std::string wk = where + "." + at("kernels", k);
    for (size_t o = 0; o < kernel->ops()->size(); ++o) {
      const fb::Op *op = kernel->ops()->Get(o);
      std::string wo = wk + "." + at("ops", o);
      if (!knownEnum(op->kind()))
        return invalid(origin, wo + ".kind " + std::to_string(int(op->kind())) + " is unknown");
      DLC_RETURN_IF_ERROR(checkIndices(op->inputs(), wo + ".inputs"), "");
      DLC_RETURN_IF_ERROR(checkIndices(op->outputs(), wo + ".outputs"), "");
      if (op->attrs())
        for (const fb::Attr *attr : *op->attrs())
          if (!aligned(attr->ints()) || !aligned(attr->floats()))
            return invalid(origin, wo + " attribute '" + attr->name()->str() +
                                       "' holds misaligned numbers");
      std::string problem = checkOpContract(p, *op);
      if (!problem.empty())
        return invalid(origin, wo + " (" + fb::EnumNameOpKind(op->kind()) + "): " + problem);
      if (op->inputs())
        for (size_t i = 0; i < op->inputs()->size(); ++i)
          if (!defined[rootOf(op->inputs()->Get(uint32_t(i)))])
            return invalid(origin, at(wo + ".inputs", i) + " reads buffer " +
                                       std::to_string(op->inputs()->Get(uint32_t(i))) +
                                       " before anything writes it");
      if (op->outputs())
        for (uint32_t i : *op->outputs()) {
          if (buffers[rootOf(i)]->kind() == fb::BufferKind::Input)
            return invalid(origin, wo + " writes buffer " + std::to_string(i) +
                                       ", a program input");
          defined[rootOf(i)] = true;
        }
    }
    if (kernel->ops()->size() == 0)
      return invalid(origin, wk + " has no ops");
    uint64_t covered = 0;
    for (size_t c = 0; c < kernel->cpu()->size(); ++c) {
      const fb::CpuCall *call = kernel->cpu()->Get(c);
      if (!knownEnum(call->routine()))
        return invalid(origin, wk + "." + at("cpu", c) + ".routine " +
                                   std::to_string(int(call->routine())) + " is unknown");
      if (call->ops() == 0)
        return invalid(origin, wk + "." + at("cpu", c) + " runs no ops");
      covered += call->ops();
    }
    if (covered != kernel->ops()->size())
      return invalid(origin, wk + ".cpu runs " + std::to_string(covered) + " ops of its " +
                                 std::to_string(kernel->ops()->size()));
    if (kernel->cuda_source_offset() > payloadSize ||
        kernel->cuda_source_bytes() > payloadSize - kernel->cuda_source_offset())
      return invalid(origin, wk + " CUDA source lies outside the payload");
    if (kernel->cuda_images())
      for (const fb::CudaImage *image : *kernel->cuda_images())
        if (image->ptx_offset() > payloadSize || image->ptx_bytes() > payloadSize - image->ptx_offset() ||
            image->cubin_offset() > payloadSize ||
            image->cubin_bytes() > payloadSize - image->cubin_offset())
          return invalid(origin, wk + " CUDA image lies outside the payload");
    if (const fb::KernelCost *cost = kernel->cost())
      DLC_RETURN_IF_ERROR(checkCost(origin, wk + ".cost", *cost), "");
    // What a CUDA execution touches must be in memory.
    auto storedOnly = [&](const flatbuffers::Vector<uint32_t> *v, const std::string &w) {
      if (v)
        for (size_t i = 0; i < v->size(); ++i)
          if (buffers[v->Get(uint32_t(i))]->kind() == fb::BufferKind::Unstored)
            return invalid(origin, at(w, i) + " is an unstored buffer");
      return okStatus();
    };
    auto checkExecution = [&](fb::CudaExecution type, const void *execution,
                              const std::string &field) -> Status {
      switch (type) {
      case fb::CudaExecution::NONE:
        break;
      case fb::CudaExecution::CudaLaunch: {
        const fb::CudaLaunch *launch = static_cast<const fb::CudaLaunch *>(execution);
        DLC_RETURN_IF_ERROR(checkIndices(launch->args(), wk + field + ".args"), "");
        DLC_RETURN_IF_ERROR(checkIndices(launch->zeroed(), wk + field + ".zeroed"), "");
        DLC_RETURN_IF_ERROR(storedOnly(launch->args(), wk + field + ".args"), "");
        DLC_RETURN_IF_ERROR(storedOnly(launch->zeroed(), wk + field + ".zeroed"), "");
        DLC_RETURN_IF_ERROR(checkLaunchShape(origin, wk + field, *launch->grid(), *launch->block(),
                                             launch->cluster_blocks()),
                            "");
        if (!isEntryName(*launch->entry()))
          return invalid(origin, wk + field + ".entry is not a C identifier");
        if (launch->then())
          for (size_t i = 0; i < launch->then()->size(); ++i) {
            const fb::CudaStage *stage = launch->then()->Get(uint32_t(i));
            const std::string where = wk + field + "." + at("then", i);
            DLC_RETURN_IF_ERROR(checkLaunchShape(origin, where, *stage->grid(), *stage->block(),
                                                 stage->cluster_blocks()),
                                "");
            if (!isEntryName(*stage->entry()))
              return invalid(origin, where + ".entry is not a C identifier");
            if (stage->cost())
              DLC_RETURN_IF_ERROR(checkCost(origin, where + ".cost", *stage->cost()), "");
          }
        if (kernel->cuda_source_bytes() == 0)
          return invalid(origin, wk + field + " has no CUDA source");
        break;
      }
      case fb::CudaExecution::LibraryCall: {
        const fb::LibraryCall *call = static_cast<const fb::LibraryCall *>(execution);
        if (!knownEnum(call->library()))
          return invalid(origin, wk + field + ".library " + std::to_string(int(call->library())) +
                                     " is unknown");
        DLC_RETURN_IF_ERROR(checkIndices(call->args(), wk + field + ".args"), "");
        if (call->descriptor())
          for (const fb::Attr *attr : *call->descriptor())
            if (!aligned(attr->ints()) || !aligned(attr->floats()))
              return invalid(origin, wk + field + ".descriptor holds misaligned numbers");
        if (call->workspace_bytes() > (uint64_t(1) << 40))
          return invalid(origin, wk + field + ".workspace_bytes " +
                                     std::to_string(call->workspace_bytes()) + " is beyond 1 TiB");
        break;
      }
      case fb::CudaExecution::Collective: {
        const fb::Collective *collective = static_cast<const fb::Collective *>(execution);
        if (!knownEnum(collective->kind()))
          return invalid(origin, wk + field + ".kind " + std::to_string(int(collective->kind())) +
                                     " is unknown");
        DLC_RETURN_IF_ERROR(checkIndices(collective->args(), wk + field + ".args"), "");
        break;
      }
      case fb::CudaExecution::DeviceCopy: {
        const fb::DeviceCopy *copy = static_cast<const fb::DeviceCopy *>(execution);
        DLC_RETURN_IF_ERROR(checkIndices(copy->from(), wk + field + ".from"), "");
        DLC_RETURN_IF_ERROR(checkIndices(copy->to(), wk + field + ".to"), "");
        DLC_RETURN_IF_ERROR(storedOnly(copy->from(), wk + field + ".from"), "");
        DLC_RETURN_IF_ERROR(storedOnly(copy->to(), wk + field + ".to"), "");
        if (copy->from()->size() != copy->to()->size())
          return invalid(origin, wk + field + " copies " + std::to_string(copy->from()->size()) +
                                     " buffers into " + std::to_string(copy->to()->size()));
        for (size_t i = 0; i < copy->from()->size(); ++i)
          if (bytes[copy->from()->Get(uint32_t(i))] != bytes[copy->to()->Get(uint32_t(i))])
            return invalid(origin, at(wk + field + ".from", i) + " and its destination differ in size");
        break;
      }
      default:
        return invalid(origin, wk + field + " execution " + std::to_string(int(type)) +
                                   " is unknown");
      }
      return okStatus();
    };
    DLC_RETURN_IF_ERROR(checkExecution(kernel->cuda_type(), kernel->cuda(), ".cuda"), "");
    if (kernel->alternative_type() != fb::CudaExecution::NONE) {
      // Only the pairing the compiler writes: a launch and a library call.
      bool launchAndCall = (kernel->cuda_as_CudaLaunch() && kernel->alternative_as_LibraryCall()) ||
                           (kernel->cuda_as_LibraryCall() && kernel->alternative_as_CudaLaunch());
      if (!launchAndCall)
        return invalid(origin, wk + ".alternative is a " +
                                   fb::EnumNameCudaExecution(kernel->alternative_type()) + " beside a " +
                                   fb::EnumNameCudaExecution(kernel->cuda_type()) +
                                   " (only a CUDA launch and a library call are alternatives)");
      DLC_RETURN_IF_ERROR(checkExecution(kernel->alternative_type(), kernel->alternative(), ".alternative"), "");
      if (const fb::KernelCost *cost = kernel->alternative_cost())
        DLC_RETURN_IF_ERROR(checkCost(origin, wk + ".alternative_cost", *cost), "");
    }
  }
  if (p.outputs())
    for (size_t i = 0; i < p.outputs()->size(); ++i) {
      uint32_t b = p.outputs()->Get(uint32_t(i));
      if (buffers[b]->kind() == fb::BufferKind::Unstored || !defined[rootOf(b)])
        return invalid(origin, at(where + ".outputs", i) + " is a buffer no kernel writes");
    }
  return okStatus();
}

} // namespace

std::string kernelLocations(const fb::Kernel &k) {
  std::string where;
  if (k.locations())
    for (const flatbuffers::String *l : *k.locations())
      if (where.find(l->str()) == std::string::npos)
        where += (where.empty() ? "" : ", ") + l->str();
  return where;
}

uint64_t bufferBytes(const fb::Buffer &b) {
  return uint64_t(numElements(std::vector<int64_t>(b.shape()->begin(), b.shape()->end()))) *
         dtypeSize(fromFbDType(b.dtype()));
}

DType fromFbDType(fb::DType t) { return DType(t); } // same values; the loader checks the range

std::vector<uint8_t> encodeBundle(const uint8_t *flatbuffer, size_t flatbufferBytes,
                                  const std::vector<uint8_t> &payload) {
  // The payload starts 64-byte aligned so parameter data can be used in place.
  size_t payloadStart = (kHeaderBytes + flatbufferBytes + 63) / 64 * 64;
  std::vector<uint8_t> out(payloadStart + payload.size(), 0);
  std::memcpy(out.data(), kMagic, 4);
  putU32(out.data() + 4, kBundleVersion);
  putU64(out.data() + 8, flatbufferBytes);
  putU64(out.data() + 16, payload.size());
  putU32(out.data() + 24, crc(flatbuffer, flatbufferBytes));
  putU32(out.data() + 28, crc(payload.data(), payload.size()));
  std::memcpy(out.data() + kHeaderBytes, flatbuffer, flatbufferBytes);
  if (!payload.empty())
    std::memcpy(out.data() + payloadStart, payload.data(), payload.size());
  return out;
}

Status Bundle::fromBytes(std::vector<uint8_t> bytes, const std::string &origin,
                         std::unique_ptr<Bundle> *out) {
  auto bundle = std::unique_ptr<Bundle>(new Bundle());
  bundle->bytes_ = std::move(bytes);
  bundle->origin_ = origin;
  const std::vector<uint8_t> &b = bundle->bytes_;
  if (b.size() < kHeaderBytes || std::memcmp(b.data(), kMagic, 4) != 0)
    return invalid(origin, "not a dlc bundle (no DLCB header); write one with `dlc compile -o`");
  uint32_t version = getU32(b.data() + 4);
  if (version != kBundleVersion)
    return invalid(origin, "format version " + std::to_string(version) + ", this runtime reads " +
                               std::to_string(kBundleVersion) + "; recompile the model");
  uint64_t fbBytes = getU64(b.data() + 8), payloadBytes = getU64(b.data() + 16);
  uint64_t avail = b.size() - kHeaderBytes;
  if (fbBytes > avail || fbBytes > (uint64_t(1) << 31))
    return invalid(origin, "truncated: the header promises " + std::to_string(fbBytes) +
                               " bytes of program data, the file has " + std::to_string(avail));
  uint64_t payloadStart = (kHeaderBytes + fbBytes + 63) / 64 * 64;
  // The file is header, flatbuffer, padding, payload, and maybe a signature.
  size_t size = b.size();
  if (payloadStart <= size && payloadBytes <= size - payloadStart &&
      size - payloadStart - payloadBytes == kSignatureTrailerBytes &&
      std::memcmp(b.data() + size - kSignatureTrailerBytes, kSignatureMagic, 4) == 0 &&
      getU32(b.data() + size - kSignatureTrailerBytes + 4) == 1) {
    bundle->signedBytes_ = size - kSignatureTrailerBytes;
    bundle->signature_.assign(b.begin() + long(size - 32), b.end());
    size -= kSignatureTrailerBytes;
  }
  if (payloadStart > size || payloadBytes != size - payloadStart)
    return invalid(origin, "truncated or padded: " + std::to_string(b.size()) +
                               " bytes where the header promises " +
                               std::to_string(payloadStart + payloadBytes));
  const uint8_t *fbData = b.data() + kHeaderBytes;
  // The alignment padding is the one part no checksum covers: encodeBundle
  // writes zeros, so anything else is damage.
  for (uint64_t i = kHeaderBytes + fbBytes; i < payloadStart; ++i)
    if (b[i] != 0)
      return invalid(origin, "the padding before the payload (outside both checksums) is not zero "
                             "(the file is corrupted)");
  if (crc(fbData, fbBytes) != getU32(b.data() + 24))
    return invalid(origin, "program data checksum mismatch (the file is corrupted)");
  bundle->payload_ = b.data() + payloadStart;
  bundle->payloadSize_ = payloadBytes;
  if (crc(bundle->payload_, payloadBytes) != getU32(b.data() + 28))
    return invalid(origin, "payload checksum mismatch (weights or kernels are corrupted)");

  flatbuffers::Verifier verifier(fbData, fbBytes);
  if (!fb::VerifyBundleBuffer(verifier))
    return invalid(origin, "the flatbuffer does not verify");
  const fb::Bundle *root = fb::GetBundle(fbData);
  bundle->root_ = root;
  if (root->version() != kBundleVersion)
    return invalid(origin, "program data of version " + std::to_string(root->version()) +
                               " in a version " + std::to_string(version) + " file");
  if (std::string bad = firstBadString(*root); !bad.empty())
    return invalid(origin, bad + " holds a string that is not valid UTF-8");
  if (root->train_setup() && root->train_setup()->size()) {
    nlohmann::json setup;
    if (Status s = parseTrainSetup(root->train_setup()->str(), &setup); !s.ok())
      return invalid(origin, s.message());
  }
  const uint64_t memoryBytes = hostMemoryBytes(); // reads /sys: once per load
  uint64_t parameterBytes = 0;
  for (size_t i = 0; i < root->parameters()->size(); ++i) {
    const fb::Parameter *p = root->parameters()->Get(i);
    int64_t n;
    if (!checkedElements(p->shape(), &n) || !knownEnum(p->dtype()))
      return invalid(origin, at("parameters", i) + " ('" + p->name()->str() +
                                 "') has a bad shape or type");
    // The device interface holds parameters as float32 (typed parameters
    // come with mixed precision); any other dtype would be read past its end.
    if (p->dtype() != fb::DType::F32)
      return invalid(origin, at("parameters", i) + " ('" + p->name()->str() + "') is " +
                                 dtypeName(fromFbDType(p->dtype())) +
                                 "; this runtime stores parameters as f32");
    uint64_t want = uint64_t(n) * dtypeSize(fromFbDType(p->dtype()));
    parameterBytes += want; // each below 2^43: no overflow
    DLC_RETURN_IF_ERROR(checkFits(parameterBytes, memoryBytes, origin + ": the parameters"),
                        "");
    bool external = p->external_file() && p->external_file()->size() > 0;
    if (p->drawn_at_load()) {
      // Drawn by its initializer: one the runtime knows, and no bytes.
      if (external || p->data_bytes() != 0 || !p->initializer() || !isInitializer(p->initializer()->str()))
        return invalid(origin, at("parameters", i) + " ('" + p->name()->str() +
                                   "') is drawn at load, but names no known initializer or also has "
                                   "values");
      continue;
    }
    if (!external && (p->data_bytes() != want || p->data_offset() > payloadBytes ||
                      p->data_bytes() > payloadBytes - p->data_offset() || p->data_offset() % 4))
      return invalid(origin, at("parameters", i) + " ('" + p->name()->str() +
                                 "') data does not fit the payload or its shape");
  }
  for (size_t i = 0; i < root->programs()->size(); ++i)
    DLC_RETURN_IF_ERROR(verifyProgram(*root, *root->programs()->Get(i), i, payloadBytes, memoryBytes,
                                      origin),
                        "");
  *out = std::move(bundle);
  return okStatus();
}

Status Bundle::load(const std::string &path, std::unique_ptr<Bundle> *out) {
  std::vector<uint8_t> bytes;
  DLC_RETURN_IF_ERROR(readFile(path, &bytes, hostMemoryBytes(), "a bundle"), "loading a bundle");
  return fromBytes(std::move(bytes), path, out);
}

const fb::Program *Bundle::program(const std::string &name) const {
  for (const fb::Program *p : *root_->programs())
    if (p->name()->str() == name)
      return p;
  return nullptr;
}

} // namespace dlc::rt
