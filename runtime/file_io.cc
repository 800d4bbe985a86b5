//===- file_io.cc - Durable file writes -----------------------------------===//
#include "runtime/file_io.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace dlc::rt {
namespace {

Status errnoStatus(int err, const std::string &what) {
  StatusCode code = err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound : StatusCode::kUnavailable;
  return DLC_MAKE_STATUS(code, what + ": " + std::error_code(err, std::generic_category()).message());
}

Status writeAll(int fd, const void *data, size_t size, const std::string &what) {
  const auto *p = static_cast<const uint8_t *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) // 0 for a non-empty write would loop forever; treat it as failure
      return errnoStatus(n < 0 ? errno : EIO, "cannot write " + what);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return okStatus();
}

/// Writes |chunks| to |path| through a fsynced temporary file and a rename.
} // namespace

Status writeFileAtomically(const std::string &path,
                           const std::vector<std::pair<const void *, size_t>> &chunks) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  // O_EXCL never reuses a leftover name (say, from a crash with a recycled pid).
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt == 100))
      return errnoStatus(errno, "cannot create temporary file " + tmp);
  }
  auto abandon = [&](Status status) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    return status;
  };
  for (const auto &[data, size] : chunks) {
    Status status = writeAll(fd, data, size, tmp);
    if (!status.ok()) return abandon(status);
  }
  // The data must be durable before the rename publishes it, or a crash
  // could leave the target name pointing at an empty or partial file.
  if (::fsync(fd) != 0) return abandon(errnoStatus(errno, "cannot fsync " + tmp));
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return abandon(errnoStatus(errno, "cannot close " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return abandon(errnoStatus(errno, "cannot rename " + tmp + " to " + path));

  // Make the rename itself durable. Some filesystems cannot fsync a
  // directory (EINVAL); nothing more can be done there.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0)
    return errnoStatus(errno, "wrote " + path + " but cannot open its directory to sync it");
  const int synced = ::fsync(dirFd), syncErrno = errno;
  ::close(dirFd);
  if (synced != 0 && syncErrno != EINVAL)
    return errnoStatus(syncErrno, "wrote " + path + " but cannot sync its directory");
  return okStatus();
}

Status readFile(const std::string &path, std::vector<uint8_t> *out) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return errnoStatus(errno ? errno : ENOENT, "cannot open " + path);
  std::streamoff size = in.tellg();
  out->assign(size_t(size > 0 ? size : 0), 0);
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char *>(out->data()), size))
    return errnoStatus(EIO, "cannot read " + path);
  return okStatus();
}

} // namespace dlc::rt
