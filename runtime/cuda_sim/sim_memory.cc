//===- sim_memory.cc - Emulated device memory and schedule comparison ----===//
//
// simMalloc buffers carry poisoned red zones (checked after every launch) and
// start filled with kUnwrittenByte, so an out-of-bounds store and an output
// element nobody wrote are both visible after a launch. compareSchedules uses
// the same registry to snapshot and restore every buffer between runs.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda_sim/cuda_sim_host.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "runtime/cuda_sim/sim_internal.h"

using dlc::rt::Status;
using dlc::rt::StatusCode;

namespace dlc::sim {
namespace detail {

void fillPattern(unsigned char *p, size_t bytes, unsigned char low) {
  // Word stores: this runs before every block over all static shared memory.
  size_t i = 0;
  for (; i < bytes && (reinterpret_cast<uintptr_t>(p + i) & 7); ++i)
    p[i] = (reinterpret_cast<uintptr_t>(p + i) & 1) ? 0xFF : low;
  // Little endian, 8-aligned: even bytes |low|, odd bytes 0xFF.
  const uint64_t word = 0xFF00FF00FF00FF00ull | (0x0001000100010001ull * low);
  for (; i + 8 <= bytes; i += 8) std::memcpy(p + i, &word, 8);
  for (; i < bytes; ++i) p[i] = (reinterpret_cast<uintptr_t>(p + i) & 1) ? 0xFF : low;
}

long firstPatternMismatch(const unsigned char *p, size_t bytes, unsigned char low) {
  auto expect = [&](size_t i) { return (reinterpret_cast<uintptr_t>(p + i) & 1) ? 0xFF : low; };
  size_t i = 0;
  for (; i < bytes && (reinterpret_cast<uintptr_t>(p + i) & 7); ++i)
    if (p[i] != expect(i)) return static_cast<long>(i);
  const uint64_t word = 0xFF00FF00FF00FF00ull | (0x0001000100010001ull * low);
  for (; i + 8 <= bytes; i += 8) { // words first: this runs after every block
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != word) break;
  }
  for (; i < bytes; ++i)
    if (p[i] != expect(i)) return static_cast<long>(i);
  return -1;
}

} // namespace detail

namespace {

using detail::fillPattern;
using detail::firstPatternMismatch;
using detail::kRedZonePattern;

struct Alloc {
  unsigned char *raw; // front red zone | payload | tail red zone
  size_t bytes, total;
  std::string name;
  ElemKind kind;
  unsigned char *payload() const { return raw + kRedZoneBytes; }
};

std::mutex g_memMutex;
std::map<void *, Alloc> g_allocs;

/// Checks one allocation's red zones; damage is described and re-poisoned.
bool checkOne(Alloc &a, std::string *report) {
  long front = firstPatternMismatch(a.raw, kRedZoneBytes, kRedZonePattern);
  size_t tailBytes = a.total - kRedZoneBytes - a.bytes;
  long back = firstPatternMismatch(a.payload() + a.bytes, tailBytes, kRedZonePattern);
  if (front < 0 && back < 0) return true;
  std::string what = "buffer '" + a.name + "' (" + std::to_string(a.bytes) + " bytes): ";
  if (front >= 0)
    what += "write before the start at byte offset -" + std::to_string(kRedZoneBytes - front);
  else
    what += "write past the end at byte offset " + std::to_string(a.bytes + back) + " (end + " +
            std::to_string(back) + ")";
  *report = what;
  fillPattern(a.raw, kRedZoneBytes, kRedZonePattern);
  fillPattern(a.payload() + a.bytes, tailBytes, kRedZonePattern);
  return false;
}

double elementValue(const unsigned char *p, ElemKind kind) {
  switch (kind) {
  case ElemKind::kF32: { float f; std::memcpy(&f, p, 4); return f; }
  case ElemKind::kF64: { double d; std::memcpy(&d, p, 8); return d; }
  case ElemKind::kF16: { __half h; std::memcpy(&h, p, 2); return __half2float(h); }
  case ElemKind::kBF16: { __nv_bfloat16 h; std::memcpy(&h, p, 2); return __bfloat162float(h); }
  case ElemKind::kI32: { int32_t i; std::memcpy(&i, p, 4); return i; }
  case ElemKind::kRaw: return *p;
  }
  return 0;
}

size_t elementSize(ElemKind kind) {
  switch (kind) {
  case ElemKind::kF32: case ElemKind::kI32: return 4;
  case ElemKind::kF64: return 8;
  case ElemKind::kF16: case ElemKind::kBF16: return 2;
  case ElemKind::kRaw: return 1;
  }
  return 1;
}

struct Snapshot {
  void *ptr;
  std::string name;
  ElemKind kind;
  std::vector<unsigned char> bytes;
};

std::vector<Snapshot> snapshotAll() {
  std::lock_guard<std::mutex> lock(g_memMutex);
  std::vector<Snapshot> out;
  for (auto &[ptr, a] : g_allocs)
    out.push_back({ptr, a.name, a.kind, std::vector<unsigned char>(a.payload(), a.payload() + a.bytes)});
  return out;
}

void restoreAll(const std::vector<Snapshot> &snaps) {
  std::lock_guard<std::mutex> lock(g_memMutex);
  for (const Snapshot &s : snaps) {
    auto it = g_allocs.find(s.ptr);
    if (it != g_allocs.end() && it->second.bytes == s.bytes.size())
      std::memcpy(s.ptr, s.bytes.data(), s.bytes.size());
  }
}

/// Empty when equal; otherwise the first differing element and a count.
std::string compareSnapshot(const Snapshot &a, const Snapshot &b, const CompareOptions &o) {
  size_t es = elementSize(a.kind), n = a.bytes.size() / es, count = 0, first = 0;
  bool isFloat = a.kind != ElemKind::kRaw && a.kind != ElemKind::kI32;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char *pa = &a.bytes[i * es], *pb = &b.bytes[i * es];
    if (std::memcmp(pa, pb, es) == 0) continue;
    if (isFloat) {
      double x = elementValue(pa, a.kind), y = elementValue(pb, a.kind);
      if (std::fabs(x - y) <= o.absTol + o.relTol * std::max(std::fabs(x), std::fabs(y))) continue;
    }
    if (count++ == 0) first = i;
  }
  if (count == 0) return "";
  return "buffer '" + a.name + "' element " + std::to_string(first) + ": " +
         std::to_string(elementValue(&a.bytes[first * es], a.kind)) + " vs " +
         std::to_string(elementValue(&b.bytes[first * es], a.kind)) + " (" +
         std::to_string(count) + " of " + std::to_string(n) + " elements differ)";
}

std::string label(const LaunchOptions &o) {
  std::string s = scheduleName(o.schedule);
  return o.schedule == Schedule::kRandom ? s + "(seed " + std::to_string(o.seed) + ")" : s;
}

} // namespace

Status simMalloc(void **out, size_t bytes, const char *name, ElemKind kind) {
  if (!out) return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "simMalloc: null output pointer");
  *out = nullptr;
  size_t total = (2 * kRedZoneBytes + bytes + 255) & ~size_t(255);
  auto *raw = static_cast<unsigned char *>(std::aligned_alloc(256, total));
  if (!raw)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           "simMalloc: cannot allocate " + std::to_string(bytes) + " bytes");
  Alloc a{raw, bytes, total, name ? name : "", kind};
  fillPattern(raw, kRedZoneBytes, kRedZonePattern);
  fillUnwritten(a.payload(), bytes);
  fillPattern(a.payload() + bytes, total - kRedZoneBytes - bytes, kRedZonePattern);
  std::lock_guard<std::mutex> lock(g_memMutex);
  g_allocs.emplace(a.payload(), a);
  *out = a.payload();
  return Status();
}

Status simFree(void *ptr) {
  if (!ptr) return Status();
  std::lock_guard<std::mutex> lock(g_memMutex);
  auto it = g_allocs.find(ptr);
  if (it == g_allocs.end())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "simFree: pointer not from simMalloc");
  std::string report;
  bool intact = checkOne(it->second, &report);
  std::free(it->second.raw);
  g_allocs.erase(it);
  if (!intact) return DLC_MAKE_STATUS(StatusCode::kDataLoss, "simFree: " + report);
  return Status();
}

Status checkRedZones(const char *context) {
  std::lock_guard<std::mutex> lock(g_memMutex);
  std::string first;
  for (auto &[ptr, a] : g_allocs) {
    std::string report;
    if (!checkOne(a, &report) && first.empty()) first = report;
  }
  if (first.empty()) return Status();
  return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                         std::string(context && *context ? context : "checkRedZones") +
                             ": out-of-bounds " + first);
}

void fillUnwritten(void *ptr, size_t bytes) {
  if (ptr) std::memset(ptr, kUnwrittenByte, bytes);
}

size_t countUnwritten(const void *ptr, size_t bytes, size_t elemSize, size_t *firstIndex) {
  if (firstIndex) *firstIndex = SIZE_MAX;
  if (!ptr || elemSize == 0) return 0;
  const unsigned char *p = static_cast<const unsigned char *>(ptr);
  size_t count = 0;
  for (size_t i = 0; i + elemSize <= bytes; i += elemSize) {
    size_t k = 0;
    while (k < elemSize && p[i + k] == kUnwrittenByte) ++k;
    if (k < elemSize) continue;
    if (count++ == 0 && firstIndex) *firstIndex = i / elemSize;
  }
  return count;
}

Status compareSchedules(const std::function<Status(const LaunchOptions &)> &run,
                        ScheduleDiff *diff, const CompareOptions &options) {
  if (!diff) return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "compareSchedules: null diff");
  *diff = ScheduleDiff();
  std::vector<LaunchOptions> schedules = options.schedules;
  if (schedules.empty()) {
    LaunchOptions o = defaultLaunchOptions();
    for (auto [s, seed] : {std::pair{Schedule::kForward, 1}, {Schedule::kReverse, 1},
                           {Schedule::kRandom, 1}, {Schedule::kRandom, 2}}) {
      o.schedule = s, o.seed = seed;
      schedules.push_back(o);
    }
  }
  const std::vector<Snapshot> initial = snapshotAll();
  std::vector<Snapshot> base;
  for (size_t i = 0; i < schedules.size(); ++i) {
    restoreAll(initial);
    Status s = run(schedules[i]);
    if (!s.ok()) {
      if (!base.empty()) restoreAll(base);
      return s.annotate("schedule " + label(schedules[i]));
    }
    std::vector<Snapshot> result = snapshotAll();
    if (i == 0) {
      base = std::move(result);
      continue;
    }
    for (size_t k = 0; k < base.size() && !diff->differ; ++k) {
      for (const Snapshot &r : result) {
        if (r.ptr != base[k].ptr || r.bytes.size() != base[k].bytes.size()) continue;
        std::string d = compareSnapshot(base[k], r, options);
        if (!d.empty()) {
          diff->differ = true;
          diff->report = "schedule " + label(schedules[i]) + " differs from " +
                         label(schedules[0]) + ": " + d;
        }
      }
    }
    if (diff->differ) break;
  }
  restoreAll(base);
  return Status();
}

} // namespace dlc::sim
