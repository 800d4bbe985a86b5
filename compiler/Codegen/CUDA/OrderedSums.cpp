//===- OrderedSums.cpp - Sums over a grid in an order fixed at compile time -===//
//
// Under --deterministic no kernel adds floats with atomics: a float sum
// rounds differently in every order, and a GPU runs blocks (and the threads
// of shared-memory atomics) in an order that changes from run to run. A sum
// over the grid is two passes instead: each block writes its partial sums
// as one row of a table in scratch, then the last block to finish (told by
// an integer ticket, whose count does not depend on the order) adds the
// rows in row order. One launch, and no pass waits for another block.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <algorithm>

namespace dlc::cuda {

bool orderedSums(dl::FusedOp group) { return group.getOrderedSums(); }

int64_t OrderedSumTable::columns() const {
  int64_t n = 0;
  for (const auto &output : outputs)
    n += output.second;
  return n;
}

int64_t orderedSumParts(int64_t columns, int64_t most) {
  // The last block alone reads the table: about 2^18 sums (a megabyte of
  // f32) take it some microseconds.
  constexpr int64_t kTableSums = int64_t(1) << 18;
  return std::max<int64_t>(1, std::min(most, kTableSums / std::max<int64_t>(1, columns)));
}

std::string takeTicket(const std::string &ticket, int64_t arrivals) {
  return "  __syncthreads();\n"
         "  __shared__ int lastBlock;\n"
         "  if (threadIdx.x == 0) {\n"
         "    __threadfence();\n"
         "    lastBlock = atomicAdd(" + ticket + ", 1u) == " + std::to_string(arrivals - 1) + "u;\n"
         "  }\n"
         "  __syncthreads();\n";
}

std::string OrderedSumTable::finish(const ComputeType &t, int64_t blocks) const {
  const std::string T = t.name();
  const int64_t width = columns();
  std::string s =
      "  // The ordered sums' second pass: the last block to arrive adds the\n"
      "  // table's rows in row order.\n" +
      takeTicket("(unsigned *)(scratch + " + ll(base + parts * width) + ")", blocks) +
      "  if (lastBlock) {\n"
      "    __threadfence();\n"
      "    const volatile " + T + " *table = scratch + " + ll(base) + ";\n";
  int64_t offset = 0;
  for (const auto &[out, count] : outputs) {
    s += "    for (long long c = threadIdx.x; c < " + ll(count) + "; c += blockDim.x) {\n"
         "      " + T + " sum = " + t.lit("0.0") + ";\n"
         "      for (long long p = 0; p < " + ll(parts) + "; ++p)\n"
         "        sum += table[p * " + ll(width) + " + " + ll(offset) + " + c];\n"
         "      " + out + "[c] = sum;\n    }\n";
    offset += count;
  }
  s += "  }\n";
  return s;
}

} // namespace dlc::cuda
