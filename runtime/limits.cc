//===- limits.cc - Memory limits of the host ------------------------------===//
#include "runtime/limits.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace dlc::rt {

uint64_t hostMemoryBytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGE_SIZE);
  uint64_t bytes = pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : uint64_t(1) << 34;
  auto cap = [&](uint64_t limit) {
    if (limit > 0 && limit < bytes)
      bytes = limit;
  };
  struct rlimit limit;
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    cap(uint64_t(limit.rlim_cur));
  // A container's memory limit (cgroup v2), when there is one.
  if (std::FILE *f = std::fopen("/sys/fs/cgroup/memory.max", "r")) {
    unsigned long long max = 0;
    if (std::fscanf(f, "%llu", &max) == 1)
      cap(max);
    std::fclose(f);
  }
  // An explicit cap: for a shared machine, and for the fuzzers, whose
  // sanitizers count every allocation against a small budget.
  if (const char *text = std::getenv("DLC_MEMORY_LIMIT"))
    cap(std::strtoull(text, nullptr, 10));
  return bytes;
}

std::string byteString(uint64_t bytes) {
  const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " bytes";
  double value = double(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

Status checkFits(uint64_t bytes, uint64_t limit, const std::string &what, const std::string &hint) {
  if (bytes <= limit)
    return okStatus();
  return DLC_MAKE_STATUS(StatusCode::kResourceExhausted,
                         what + " needs " + byteString(bytes) + ", more than the " +
                             byteString(limit) + " this machine has" +
                             (hint.empty() ? "" : " (" + hint + ")"));
}

} // namespace dlc::rt
