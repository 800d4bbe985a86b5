//===- cubin_info.cc - Per-kernel resources read from a CUBIN -------------===//
#include "runtime/cuda/cubin_info.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

namespace dlc::rt::cuda {
namespace {

constexpr uint16_t kEmCuda = 190;
constexpr uint32_t kShtSymtab = 2, kShtNobits = 8;
constexpr uint8_t kSttFunc = 2;
constexpr uint8_t kStoCudaEntry = 0x10; // st_other bit of __global__ functions

// .nv.info attribute formats and the attributes we read (the numbering is
// the one in the EIATTR_* name table inside ptxas/nvlink).
constexpr uint8_t kFmtNval = 1, kFmtBval = 2, kFmtHval = 3, kFmtSval = 4;
constexpr uint8_t kAttrMaxThreads = 0x05, kAttrFrameSize = 0x11, kAttrMinStackSize = 0x12,
                  kAttrCbankParamSize = 0x19, kAttrMaxregCount = 0x1b, kAttrMaxStackSize = 0x23,
                  kAttrRegcount = 0x2f, kAttrNumBarriers = 0x4c,
                  kAttrSpillOffsets = 0x55; // undocumented: {1, offset} per spill instruction

// sm_90+ cubins put the per-block reserved shared memory at the start of
// each kernel's .nv.shared section (see the header); ptxas -v excludes it.
constexpr uint32_t kReservedSharedPrefix = 1024;

template <typename T> T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v); // unaligned-safe; ELF and x86-64 are little-endian
  return v;
}

struct Section {
  uint32_t name, type;
  uint64_t flags, offset, size;
  uint32_t link, info;
  uint64_t entsize;
  std::string_view label; // resolved name
};

class Parser {
public:
  Parser(const uint8_t *data, size_t size, const std::string &what)
      : d_(data), n_(size), what_(what) {}

  Status run(CubinInfo *out);

private:
  Status fail(const std::string &why) const {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, what_ + ": not a valid CUBIN: " + why);
  }
  bool inFile(uint64_t offset, uint64_t length) const {
    return offset <= n_ && length <= n_ - offset;
  }
  /// A NUL-terminated string at |offset| inside section |s|.
  bool stringAt(const Section &s, uint64_t offset, std::string_view *out) const {
    if (s.type == kShtNobits || offset >= s.size) return false;
    const char *begin = reinterpret_cast<const char *>(d_ + s.offset + offset);
    const void *nul = std::memchr(begin, 0, s.size - offset);
    if (!nul) return false;
    *out = std::string_view(begin, static_cast<const char *>(nul) - begin);
    return true;
  }
  const Section *byName(const std::string &name) const {
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : &sections_[it->second];
  }
  Status readSections();
  Status readKernels(CubinInfo *out);
  Status readInfo(const Section &s, KernelResources *kernel);

  const uint8_t *d_;
  size_t n_;
  const std::string &what_;
  std::vector<Section> sections_;
  std::map<std::string, size_t, std::less<>> byName_;
  std::map<uint32_t, size_t> kernelBySymbol_; // symbol index -> index in out->kernels
  CubinInfo *info_ = nullptr;
};

Status Parser::readSections() {
  if (n_ < 64) return fail("shorter than an ELF64 header");
  if (std::memcmp(d_, "\x7f\x45\x4c\x46", 4) != 0) return fail("no ELF magic");
  if (d_[4] != 2 || d_[5] != 1) return fail("not a little-endian ELF64 file");
  if (load<uint16_t>(d_ + 18) != kEmCuda) return fail("e_machine is not EM_CUDA");
  const uint64_t shoff = load<uint64_t>(d_ + 0x28);
  const uint16_t shentsize = load<uint16_t>(d_ + 0x3a), shnum = load<uint16_t>(d_ + 0x3c),
                 shstrndx = load<uint16_t>(d_ + 0x3e);
  // The driver loads segments: their table and contents must be in the file.
  const uint64_t phoff = load<uint64_t>(d_ + 0x20);
  const uint16_t phentsize = load<uint16_t>(d_ + 0x36), phnum = load<uint16_t>(d_ + 0x38);
  if (phnum > 0) {
    if (phentsize < 56) return fail("program header entries smaller than Elf64_Phdr");
    if (!inFile(phoff, uint64_t{phnum} * phentsize))
      return fail("program headers outside the file");
    for (uint16_t i = 0; i < phnum; ++i) {
      const uint8_t *ph = d_ + phoff + uint64_t{i} * phentsize;
      if (!inFile(load<uint64_t>(ph + 8), load<uint64_t>(ph + 32)))
        return fail("segment " + std::to_string(i) + " extends past the end of the file");
    }
  }
  if (shnum == 0) return fail("no section headers");
  if (shentsize < 64) return fail("section header entries smaller than Elf64_Shdr");
  if (!inFile(shoff, uint64_t{shnum} * shentsize)) return fail("section headers outside the file");
  if (shstrndx >= shnum) return fail("section name table index out of range");
  sections_.resize(shnum);
  for (uint16_t i = 0; i < shnum; ++i) {
    const uint8_t *h = d_ + shoff + uint64_t{i} * shentsize;
    Section &s = sections_[i];
    s.name = load<uint32_t>(h);
    s.type = load<uint32_t>(h + 4);
    s.flags = load<uint64_t>(h + 8);
    s.offset = load<uint64_t>(h + 24);
    s.size = load<uint64_t>(h + 32);
    s.link = load<uint32_t>(h + 40);
    s.info = load<uint32_t>(h + 44);
    s.entsize = load<uint64_t>(h + 56);
    if (i != 0 && s.type != kShtNobits && !inFile(s.offset, s.size))
      return fail("section " + std::to_string(i) + " extends past the end of the file");
  }
  const Section &names = sections_[shstrndx];
  for (size_t i = 1; i < sections_.size(); ++i) {
    if (!stringAt(names, sections_[i].name, &sections_[i].label))
      return fail("section " + std::to_string(i) + " has no valid name");
    byName_.emplace(std::string(sections_[i].label), i);
  }
  return okStatus();
}

Status Parser::readInfo(const Section &s, KernelResources *kernel) {
  if (s.type == kShtNobits) return okStatus();
  const uint8_t *p = d_ + s.offset;
  uint64_t off = 0;
  while (off + 4 <= s.size) {
    const uint8_t fmt = p[off], attr = p[off + 1];
    const uint16_t half = load<uint16_t>(p + off + 2);
    if (fmt == kFmtNval || fmt == kFmtBval || fmt == kFmtHval) {
      if (kernel && attr == kAttrCbankParamSize) kernel->paramBytes = half;
      if (kernel && attr == kAttrMaxregCount) kernel->maxRegisters = half;
      if (kernel && attr == kAttrNumBarriers) kernel->barriers = p[off + 2];
      off += 4;
      continue;
    }
    if (fmt != kFmtSval) return okStatus(); // a format this parser does not know: stop here
    if (half > s.size - off - 4) {
      char id[8];
      std::snprintf(id, sizeof id, "0x%02x", attr);
      return fail("attribute " + std::string(id) + " in " + std::string(s.label) +
                  " overruns its section");
    }
    const uint8_t *v = p + off + 4;
    if (kernel && attr == kAttrMaxThreads && half >= 12)
      for (int k = 0; k < 3; ++k) kernel->maxThreads[k] = load<uint32_t>(v + 4 * k);
    if (kernel && attr == kAttrSpillOffsets)
      for (uint32_t k = 0; k + 8 <= half; k += 8)
        kernel->spillInstructions += load<uint32_t>(v + k) == 1;
    // Function-scoped attributes: {symbol index, value}, mostly in .nv.info.
    if (half >= 8 && (attr == kAttrRegcount || attr == kAttrFrameSize ||
                      attr == kAttrMinStackSize || attr == kAttrMaxStackSize)) {
      auto it = kernelBySymbol_.find(load<uint32_t>(v));
      if (it != kernelBySymbol_.end()) {
        KernelResources &k = info_->kernels[it->second];
        const uint32_t value = load<uint32_t>(v + 4);
        if (attr == kAttrRegcount) k.registers = static_cast<int>(value);
        if (attr == kAttrFrameSize) k.frameBytes = value;
        if (attr == kAttrMinStackSize || attr == kAttrMaxStackSize)
          k.stackBytes = std::max(k.stackBytes, value);
      }
    }
    off += 4 + uint64_t{half};
  }
  return okStatus();
}

Status Parser::readKernels(CubinInfo *out) {
  const Section *symtab = nullptr;
  for (const Section &s : sections_)
    if (s.type == kShtSymtab) symtab = &s;
  if (!symtab) return fail("no symbol table");
  if (symtab->entsize < 24) return fail("symbol table entries smaller than Elf64_Sym");
  if (symtab->link >= sections_.size()) return fail("symbol table names a missing string table");
  const Section &strtab = sections_[symtab->link];
  const uint64_t count = symtab->size / symtab->entsize;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t *sym = d_ + symtab->offset + i * symtab->entsize;
    const uint8_t stInfo = sym[4], stOther = sym[5];
    if ((stInfo & 0xf) != kSttFunc) continue;
    std::string_view name;
    if (!stringAt(strtab, load<uint32_t>(sym), &name))
      return fail("symbol " + std::to_string(i) + " has no valid name");
    if (name.empty()) continue;
    const std::string key(name);
    if (!(stOther & kStoCudaEntry) && !byName(".nv.info." + key)) continue; // a device function
    if (i > UINT32_MAX) return fail("too many symbols");
    KernelResources k;
    k.name = key;
    if (const Section *text = byName(".text." + key)) {
      // Pre-sm_90 cubins also keep the register count in sh_info[31:24].
      if (text->info >> 24) k.registers = static_cast<int>(text->info >> 24);
    }
    if (const Section *shared = byName(".nv.shared." + key)) {
      if (shared->size > UINT32_MAX) return fail("shared memory of " + key + " exceeds 4 GiB");
      k.sharedSectionBytes = static_cast<uint32_t>(shared->size);
      if (byName(".nv.shared.reserved.0") && k.sharedSectionBytes >= kReservedSharedPrefix)
        k.reservedSharedBytes = kReservedSharedPrefix;
      k.sharedBytes = k.sharedSectionBytes - k.reservedSharedBytes;
    }
    if (const Section *constant = byName(".nv.constant0." + key))
      k.constantBytes = static_cast<uint32_t>(std::min<uint64_t>(constant->size, UINT32_MAX));
    kernelBySymbol_[static_cast<uint32_t>(i)] = out->kernels.size();
    out->kernels.push_back(std::move(k));
  }
  // Function attributes keyed by symbol (any .nv.info section), then each
  // kernel's own .nv.info.<kernel>.
  for (const Section &s : sections_)
    if (s.label == ".nv.info") DLC_RETURN_IF_ERROR(readInfo(s, nullptr), "");
  for (KernelResources &k : out->kernels)
    if (const Section *s = byName(".nv.info." + k.name)) DLC_RETURN_IF_ERROR(readInfo(*s, &k), "");
  return okStatus();
}

Status Parser::run(CubinInfo *out) {
  DLC_RETURN_IF_ERROR(readSections(), "");
  CubinInfo result;
  info_ = &result;
  const uint32_t flags = load<uint32_t>(d_ + 0x30);
  // ELF ABI version 8 (CUDA 13) moved the SM number from bits 7:0 to 15:8.
  result.smVersion = static_cast<int>(d_[8] >= 8 ? (flags >> 8) & 0xff : flags & 0xff);
  DLC_RETURN_IF_ERROR(readKernels(&result), "");
  *out = std::move(result);
  return okStatus();
}

/// The number just before |pos| in |line| ("... 256 bytes stack frame").
int64_t numberBefore(std::string_view line, size_t pos) {
  while (pos > 0 && line[pos - 1] == ' ') --pos;
  size_t begin = pos;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
  if (begin == pos || pos - begin > 15) return -1;
  int64_t v = 0;
  for (size_t i = begin; i < pos; ++i) v = v * 10 + (line[i] - '0');
  return v;
}

int64_t numberBeforeWord(std::string_view line, std::string_view word) {
  const size_t pos = line.find(word);
  return pos == std::string_view::npos ? -1 : numberBefore(line, pos);
}

/// The text between the quotes following |marker|, e.g. 'dyn'.
std::string quotedAfter(std::string_view line, size_t from) {
  const size_t open = line.find('\'', from);
  if (open == std::string_view::npos) return "";
  const size_t close = line.find('\'', open + 1);
  return close == std::string_view::npos ? ""
                                         : std::string(line.substr(open + 1, close - open - 1));
}

} // namespace

const KernelResources *CubinInfo::find(const std::string &name) const {
  for (const KernelResources &k : kernels)
    if (k.name == name) return &k;
  return nullptr;
}

Status parseCubin(const uint8_t *data, size_t size, CubinInfo *out, const std::string &what) {
  if (!data && size) return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, what + ": null data");
  return Parser(data, size, what).run(out);
}

std::vector<PtxasKernelReport> parsePtxasLog(const std::string &log) {
  std::vector<PtxasKernelReport> reports;
  PtxasKernelReport *current = nullptr;
  auto get = [&](const std::string &name, const std::string &arch) {
    for (PtxasKernelReport &r : reports)
      if (r.name == name && (arch.empty() || r.arch.empty() || r.arch == arch)) {
        if (r.arch.empty()) r.arch = arch;
        return &r;
      }
    reports.push_back({});
    reports.back().name = name;
    reports.back().arch = arch;
    return &reports.back();
  };
  size_t begin = 0;
  while (begin < log.size()) {
    size_t end = log.find('\n', begin);
    if (end == std::string::npos) end = log.size();
    const std::string_view line(log.data() + begin, end - begin);
    begin = end + 1;
    if (size_t at = line.find("Compiling entry function"); at != std::string_view::npos) {
      const std::string name = quotedAfter(line, at);
      const size_t forAt = line.find(" for ", at);
      if (!name.empty())
        current = get(name, forAt == std::string_view::npos ? "" : quotedAfter(line, forAt));
    } else if (size_t at = line.find("Function properties for "); at != std::string_view::npos) {
      std::string name(line.substr(at + 24));
      while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
      if (!name.empty()) current = get(name, "");
    } else if (current && line.find("bytes stack frame") != std::string_view::npos) {
      current->stackFrameBytes = numberBeforeWord(line, "bytes stack frame");
      current->spillStoreBytes = numberBeforeWord(line, "bytes spill stores");
      current->spillLoadBytes = numberBeforeWord(line, "bytes spill loads");
    } else if (size_t at = line.find("Used "); current && at != std::string_view::npos &&
                                               line.find(" registers") != std::string_view::npos) {
      current->registers = static_cast<int>(numberBeforeWord(line, " registers"));
      current->sharedBytes = std::max<int64_t>(0, numberBeforeWord(line, " bytes smem"));
      current->cumulativeStackBytes =
          std::max<int64_t>(0, numberBeforeWord(line, " bytes cumulative stack size"));
    }
  }
  return reports;
}

void mergePtxasLog(const std::string &log, CubinInfo *info) {
  for (const PtxasKernelReport &r : parsePtxasLog(log))
    for (KernelResources &k : info->kernels)
      if (k.name == r.name) {
        k.spillStoreBytes = r.spillStoreBytes;
        k.spillLoadBytes = r.spillLoadBytes;
      }
}

} // namespace dlc::rt::cuda
