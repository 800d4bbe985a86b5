//===- code_trust.cc - Signing the bundles this machine compiles ----------===//
#include "runtime/cuda/code_trust.h"

#include "runtime/cuda/sha256.h"
#include "runtime/file_io.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt::cuda {
namespace {

constexpr size_t kKeyBytes = 32;

Status failure(const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                         what + ": " + std::error_code(errno, std::generic_category()).message());
}

/// mkdir -p with mode 0700 for the directories it creates.
void makeDirectories(const std::string &dir) {
  for (size_t slash = dir.find('/', 1); ; slash = dir.find('/', slash + 1)) {
    ::mkdir(dir.substr(0, slash).c_str(), 0700);
    if (slash == std::string::npos)
      return;
  }
}

Status readKey(const std::string &path, std::vector<uint8_t> *key) {
  DLC_RETURN_IF_ERROR(readFile(path, key, 4096, "a bundle signing key"), "");
  if (key->size() != kKeyBytes)
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, path + " is not a signing key (" +
                                                      std::to_string(key->size()) + " bytes, not 32)");
  return okStatus();
}

/// The key, created when |create| and missing: written to a private
/// temporary file and linked into place, so that racing processes agree on
/// one complete key.
Status loadKey(bool create, std::vector<uint8_t> *key) {
  std::string path = signingKeyPath();
  if (path.empty())
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "no HOME to keep a bundle signing key in");
  if (::access(path.c_str(), F_OK) == 0 || !create)
    return readKey(path, key);
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    makeDirectories(path.substr(0, slash));
  uint8_t fresh[kKeyBytes];
  if (::getrandom(fresh, sizeof fresh, 0) != ssize_t(sizeof fresh))
    return failure("cannot draw a random signing key");
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return failure("cannot create " + tmp);
  bool written = ::write(fd, fresh, sizeof fresh) == ssize_t(sizeof fresh) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || (::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST)) {
    Status s = failure("cannot create the signing key " + path);
    ::unlink(tmp.c_str());
    return s;
  }
  ::unlink(tmp.c_str());
  return readKey(path, key);
}

} // namespace

std::string signingKeyPath() {
  if (const char *explicitPath = std::getenv("DLC_BUNDLE_KEY"); explicitPath && *explicitPath)
    return explicitPath;
  if (const char *config = std::getenv("XDG_CONFIG_HOME"); config && *config == '/')
    return std::string(config) + "/dlc/bundle-key";
  if (const char *home = std::getenv("HOME"); home && *home == '/')
    return std::string(home) + "/.config/dlc/bundle-key";
  return "";
}

std::vector<uint8_t> hmacSha256(const std::vector<uint8_t> &key, const uint8_t *data, size_t size) {
  uint8_t block[64] = {};
  if (key.size() > sizeof block) {
    Sha256 h;
    h.update(key.data(), key.size());
    std::array<uint8_t, 32> digest = h.finish();
    std::memcpy(block, digest.data(), digest.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t inner[64], outer[64];
  for (size_t i = 0; i < 64; ++i) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  Sha256 h1;
  h1.update(inner, sizeof inner);
  h1.update(data, size);
  std::array<uint8_t, 32> first = h1.finish();
  Sha256 h2;
  h2.update(outer, sizeof outer);
  h2.update(first.data(), first.size());
  std::array<uint8_t, 32> mac = h2.finish();
  return std::vector<uint8_t>(mac.begin(), mac.end());
}

Status signBundle(std::vector<uint8_t> *bytes) {
  std::vector<uint8_t> key;
  DLC_RETURN_IF_ERROR(loadKey(/*create=*/true, &key), "signing the bundle");
  std::vector<uint8_t> mac = hmacSha256(key, bytes->data(), bytes->size());
  uint32_t version = 1;
  bytes->insert(bytes->end(), kSignatureMagic, kSignatureMagic + 4);
  const auto *v = reinterpret_cast<const uint8_t *>(&version);
  bytes->insert(bytes->end(), v, v + 4);
  bytes->insert(bytes->end(), mac.begin(), mac.end());
  return okStatus();
}

bool signedHere(const Bundle &bundle) {
  if (bundle.signature().size() != 32)
    return false;
  std::vector<uint8_t> key;
  if (!loadKey(/*create=*/false, &key).ok())
    return false;
  std::vector<uint8_t> mac = hmacSha256(key, bundle.bytes().data(), bundle.signedBytes());
  uint8_t differ = 0; // every byte compared: no timing hint of where they differ
  for (size_t i = 0; i < mac.size(); ++i)
    differ |= uint8_t(mac[i] ^ bundle.signature()[i]);
  return differ == 0;
}

} // namespace dlc::rt::cuda
