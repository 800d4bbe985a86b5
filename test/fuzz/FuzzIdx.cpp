//===- FuzzIdx.cpp - libFuzzer target: IDX files, raw and gzip ------------===//
#include "runtime/data/idx.h"

#include <cstdlib>

using namespace dlc::rt;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  setenv("DLC_MEMORY_LIMIT", "268435456", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  data::IdxArray array;
  if (data::parseIdx(std::vector<uint8_t>(data, data + size), "fuzz-idx", &array).ok() &&
      array.numElements() > 0)
    (void)array.at(array.numElements() - 1);
  return 0;
}
