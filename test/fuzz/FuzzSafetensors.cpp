//===- FuzzSafetensors.cpp - libFuzzer target: safetensors files ----------===//
#include "runtime/safetensors.h"

#include <cstdlib>

using namespace dlc::rt;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  setenv("DLC_MEMORY_LIMIT", "268435456", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  SafetensorsFile file;
  if (!SafetensorsFile::parse(std::vector<uint8_t>(data, data + size), "fuzz.safetensors", &file).ok())
    return 0;
  // What checkpoints and weights loading do with each tensor.
  for (const SafetensorsTensor &t : file.tensors()) {
    std::vector<float> values;
    (void)readFloat32(t, &values);
    std::vector<int64_t> ids;
    (void)readInt64(t, &ids);
  }
  (void)file.metadata();
  return 0;
}
