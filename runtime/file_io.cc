//===- file_io.cc - Durable file writes -----------------------------------===//
#include "runtime/file_io.h"

#include "runtime/limits.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

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

Status makeDirectories(const std::string &dir, const std::string &what) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                             "cannot create " + what + " " + prefix + ": " +
                                 std::error_code(errno, std::generic_category()).message());
  }
  return okStatus();
}

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

Status openRegularFile(const std::string &path, const std::string &what, uint64_t maxBytes,
                       int *fd, uint64_t *size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int f = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (f < 0)
    return errnoStatus(errno, "cannot open " + path);
  struct stat info;
  if (::fstat(f, &info) != 0) {
    Status status = errnoStatus(errno, "cannot stat " + path);
    ::close(f);
    return status;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(f);
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           path + " is " +
                               (S_ISDIR(info.st_mode)    ? "a directory"
                                : S_ISFIFO(info.st_mode) ? "a pipe (FIFO)"
                                : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode) ? "a device"
                                                                                  : "not a regular file") +
                               ", not " + what + " (give a regular file)");
  }
  if (uint64_t(info.st_size) > maxBytes) {
    ::close(f);
    return DLC_MAKE_STATUS(StatusCode::kResourceExhausted,
                           path + " is " + byteString(uint64_t(info.st_size)) + ", more than the " +
                               byteString(maxBytes) + " allowed for " + what);
  }
  ::fcntl(f, F_SETFL, ::fcntl(f, F_GETFL) & ~O_NONBLOCK);
  *fd = f;
  *size = uint64_t(info.st_size);
  return okStatus();
}

Status readFile(const std::string &path, std::vector<uint8_t> *out, uint64_t maxBytes,
                const std::string &what) {
  int fd;
  uint64_t size;
  DLC_RETURN_IF_ERROR(openRegularFile(path, what, maxBytes, &fd, &size), "");
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  try {
    out->assign(size_t(size), 0);
  } catch (const std::bad_alloc &) {
    return DLC_MAKE_STATUS(StatusCode::kResourceExhausted,
                           "out of memory reading " + path + " (" + byteString(size) + ")");
  }
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out->data() + done, std::min<uint64_t>(size - done, uint64_t(1) << 30));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errnoStatus(errno, "cannot read " + path);
    if (n == 0) // shrank while we read: what we have is not the file
      return DLC_MAKE_STATUS(StatusCode::kDataLoss, path + " changed size while being read");
    done += uint64_t(n);
  }
  return okStatus();
}

LineLog::~LineLog() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status LineLog::open(const std::string &path, bool append) {
  if (fd_ >= 0)
    ::close(fd_);
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
  if (fd_ < 0)
    return errnoStatus(errno, "cannot write the log " + path);
  return okStatus();
}

Status LineLog::append(const std::string &line) {
  std::string text = line + "\n";
  DLC_RETURN_IF_ERROR(writeAll(fd_, text.data(), text.size(), "the log " + path_), "");
  if (::fsync(fd_) != 0 && errno != EINVAL)
    return errnoStatus(errno, "cannot sync the log " + path_);
  return okStatus();
}

int removeStaleTemporaries(const std::string &path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  int removed = 0;
  while (struct dirent *entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    // name.tmp.<pid>.<counter>: a live writer's file is left alone.
    std::string rest = name.substr(prefix.size());
    size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 ||
        rest.find_first_not_of("0123456789.") != std::string::npos)
      continue;
    long pid = std::strtol(rest.substr(0, dot).c_str(), nullptr, 10);
    if (pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM))
      continue;
    if (::unlink((dir + "/" + name).c_str()) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

} // namespace dlc::rt
