//===- library_call.cc - Reading a LibraryCall's descriptor and buffers ---===//
#include "runtime/cuda/library_call.h"

namespace dlc::rt::cuda {

Status LibraryCallReader::invalid(const std::string &message) const {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         "library call " + std::string(routine_) + ": " + message);
}

const fb::Attr *LibraryCallReader::find(const char *name) const {
  if (call_.descriptor())
    for (const fb::Attr *a : *call_.descriptor())
      if (a->name()->str() == name)
        return a;
  return nullptr;
}

Status LibraryCallReader::integer(const char *name, int64_t low, int64_t high, int64_t *out) const {
  const fb::Attr *a = find(name);
  if (!a || !a->ints() || a->ints()->size() != 1)
    return invalid(std::string("its descriptor has no integer '") + name + "'");
  *out = a->ints()->Get(0);
  if (*out < low || *out > high)
    return invalid(std::string("'") + name + "' is " + std::to_string(*out) + ", outside [" +
                   std::to_string(low) + ", " + std::to_string(high) + "]");
  return okStatus();
}

std::string LibraryCallReader::text(const char *name) const {
  const fb::Attr *a = find(name);
  return a && a->text() ? a->text()->str() : "";
}

Status LibraryCallReader::checkArgCount(size_t count) const {
  if (call_.args()->size() != count)
    return invalid("takes " + std::to_string(count) + " buffers, the call names " +
                   std::to_string(call_.args()->size()));
  for (uint32_t b : *call_.args())
    if (b >= program_.buffers()->size())
      return invalid("buffer " + std::to_string(b) + " is not one of the program's");
  return okStatus();
}

DType LibraryCallReader::type(uint32_t buffer) const {
  return fromFbDType(program_.buffers()->Get(buffer)->dtype());
}

Status LibraryCallReader::checkElements(uint32_t buffer, uint64_t elements, const std::string &what) const {
  const uint64_t have = bufferBytes(*program_.buffers()->Get(buffer)), want = elements * dtypeSize(type(buffer));
  if (have != want)
    return invalid(what + " holds " + std::to_string(have) + " bytes, not the " + std::to_string(want) +
                   " of its shape");
  return okStatus();
}

Status LibraryCallReader::checkAtLeast(uint32_t buffer, uint64_t bytes, const std::string &what) const {
  const uint64_t have = bufferBytes(*program_.buffers()->Get(buffer));
  if (have < bytes)
    return invalid(what + " holds " + std::to_string(have) + " bytes, fewer than the " + std::to_string(bytes) +
                   " it needs");
  return okStatus();
}

} // namespace dlc::rt::cuda
