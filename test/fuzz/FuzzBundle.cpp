//===- FuzzBundle.cpp - libFuzzer target: the bundle loader and executor --===//
//
// Input: a bundle file. With the first byte even, the header's sizes and
// both checksums are recomputed first, so that mutations get past the CRCs to
// the Verifier, the semantic checks and the op contracts; what loads is then
// run: a session on the CPU, every program on inputs of zeros. A crash, a
// sanitizer report or a hang here is a bundle that loads and then misbehaves.
//
//===----------------------------------------------------------------------===//
#include "runtime/bundle.h"
#include "runtime/session.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

using namespace dlc::rt;

namespace {

/// Recomputes the header's payload size and both CRCs (the flatbuffer size
/// is kept: it decides where the payload starts).
void resign(std::vector<uint8_t> &b) {
  if (b.size() < 32)
    return;
  uint64_t fbBytes;
  std::memcpy(&fbBytes, b.data() + 8, 8);
  if (fbBytes > b.size() - 32)
    return;
  uint64_t payloadStart = (32 + fbBytes + 63) / 64 * 64;
  if (payloadStart > b.size())
    return;
  for (uint64_t i = 32 + fbBytes; i < payloadStart; ++i)
    b[i] = 0;
  uint64_t payloadBytes = b.size() - payloadStart;
  std::memcpy(b.data() + 16, &payloadBytes, 8);
  uint32_t a = uint32_t(crc32(0, b.data() + 32, uInt(fbBytes)));
  uint32_t c = uint32_t(crc32(0, b.data() + payloadStart, uInt(payloadBytes)));
  std::memcpy(b.data() + 24, &a, 4);
  std::memcpy(b.data() + 28, &c, 4);
}

/// An upper bound on a program's arithmetic, so that a bundle that is valid
/// but asks for hours of work (a huge window over a huge input) is loaded and
/// prepared, not run: the harness looks for misbehaviour, not slowness.
double workBound(const fb::Program &program) {
  const auto &buffers = *program.buffers();
  auto elements = [&](uint32_t i) {
    double n = 1;
    for (int64_t d : *buffers[i]->shape())
      n *= double(d);
    return n;
  };
  double work = 0;
  for (const fb::Kernel *k : *program.kernels())
    for (const fb::Op *op : *k->ops()) {
      double in = 0, out = 0, largest = 1;
      if (op->inputs())
        for (uint32_t i : *op->inputs()) {
          in += elements(i);
          largest = std::max(largest, elements(i));
        }
      if (op->outputs())
        for (uint32_t i : *op->outputs()) {
          out += elements(i);
          largest = std::max(largest, elements(i));
        }
      // Every op's work is at most (what it reads + writes) times its
      // largest operand (a product of two matrices, a window per output).
      work += (in + out) * largest;
    }
  return work;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // The sanitizers allow 2 GiB: the loader's memory limits must refuse what
  // would not fit before anything that large is allocated.
  setenv("DLC_MEMORY_LIMIT", "268435456", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (data[0] % 2 == 0)
    resign(bytes);
  std::unique_ptr<Bundle> loaded;
  if (!Bundle::fromBytes(std::move(bytes), "fuzz.dlcb", &loaded).ok())
    return 0;
  std::shared_ptr<const Bundle> bundle(std::move(loaded));
  std::vector<std::string> programs;
  for (const fb::Program *p : *bundle->root().programs())
    if (workBound(*p) < 1e9)
      programs.push_back(p->name()->str());
  std::unique_ptr<Session> session;
  if (!Session::create(bundle, createCpuDevice(), &session).ok())
    return 0;
  for (const std::string &name : programs) {
    std::vector<std::vector<uint8_t>> storage;
    std::vector<TensorView> inputs, outputs;
    for (const TensorSpec &spec : session->inputs(name)) {
      storage.emplace_back(size_t(numElements(spec.shape)) * dtypeSize(spec.dtype));
      inputs.push_back({storage.back().data(), spec.dtype, spec.shape});
    }
    (void)session->run(name, inputs, &outputs);
  }
  return 0;
}
