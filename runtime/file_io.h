//===- file_io.h - Durable file writes ------------------------------------===//
//
// Bundles, checkpoints and gradient files are written atomically so that a
// crash or `kill -9` at any moment leaves either the old file or the new one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::rt {

/// Writes the concatenation of |chunks| to |path| through a fsynced temporary
/// file beside it, a rename, and a fsync of the directory.
Status writeFileAtomically(const std::string &path,
                           const std::vector<std::pair<const void *, size_t>> &chunks);

/// mkdir -p |dir| (mode 0755 for what it creates); |what| names the
/// directory's role in errors ("kernel cache directory").
Status makeDirectories(const std::string &dir, const std::string &what);

/// Opens |path| for reading when it is a regular file of at most |maxBytes|
/// bytes (a directory, FIFO or device is refused, without blocking on a
/// FIFO that has no writer); its descriptor in *fd (the caller closes it)
/// and its size in *size. |what| names the file's role in errors ("a bundle").
Status openRegularFile(const std::string &path, const std::string &what, uint64_t maxBytes,
                       int *fd, uint64_t *size);

/// Reads all of |path|, a regular file of at most |maxBytes| bytes, into |out|.
Status readFile(const std::string &path, std::vector<uint8_t> *out, uint64_t maxBytes,
                const std::string &what = "a file");

/// A log written line by line: each line reaches the disk (write, then
/// fsync) before append() returns, and every failure (a full disk, a
/// read-only file system) is an error, so a run never ends with a log that
/// silently lacks its last lines.
class LineLog {
public:
  LineLog() = default;
  LineLog(const LineLog &) = delete;
  LineLog &operator=(const LineLog &) = delete;
  ~LineLog();
  /// Opens |path|, emptied unless |append|.
  Status open(const std::string &path, bool append);
  bool isOpen() const { return fd_ >= 0; }
  /// Writes |line| and a newline, durably.
  Status append(const std::string &line);

private:
  int fd_ = -1;
  std::string path_;
};

/// Removes the temporary files writeFileAtomically leaves beside |path| when
/// a process is killed while writing (name.tmp.<pid>.<n>) whose writer is no
/// longer running; returns how many it removed.
int removeStaleTemporaries(const std::string &path);

} // namespace dlc::rt
