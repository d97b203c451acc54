// Writing the JSON report to a file so that a reader (a CI job, a dashboard polling the path)
// sees either the previous report or the complete new one, never half a report.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "json_parts.h"
#include "lastack/sink/sinks.h"

namespace lastack::sink {

namespace {

Error io_error(const std::string& path, int err) {
  return make_error(ErrorCode::io, "cannot write JSON report " + path + ": " + std::strerror(err));
}

// Writes all of `text` to fd, retrying partial writes and EINTR. Returns 0 or an errno.
int write_all(int fd, std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// Streams the report to fd. The emitter hands over the findings and connections in pieces of
// ~64 KiB, written as they come; the small pieces between them are gathered first. (Gathering
// everything into a 1 MiB buffer cost a copy of the report and, at the run's end, the page
// faults of a megabyte of fresh memory.) Returns 0 or the first errno.
int write_report(int fd, const findings::Report& report) {
  constexpr std::size_t kGather = std::size_t{16} << 10;
  std::string small;
  small.reserve(kGather);
  int err = 0;
  stream_json(report, [&](std::string_view piece) {
    if (small.size() + piece.size() <= kGather) {
      small.append(piece);
      return true;
    }
    if (!small.empty()) err = write_all(fd, small);
    small.clear();
    if (err == 0 && piece.size() >= kGather) {
      err = write_all(fd, piece);
    } else {
      small.append(piece);
    }
    return err == 0;
  });
  return err != 0 ? err : write_all(fd, small);
}

Status write_stdout(const findings::Report& report) {
  bool ok = stream_json(report, [](std::string_view piece) {
    return std::fwrite(piece.data(), 1, piece.size(), stdout) == piece.size();
  });
  if (!ok || std::fflush(stdout) != 0) return io_error("-", errno ? errno : EIO);
  return {};
}

// For targets that are not regular files (/dev/stdout, a FIFO, /dev/full): renaming over a
// device would replace the device node, so write in place and check every step.
Status write_in_place(const std::string& path, const findings::Report& report) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return io_error(path, errno);
  int err = write_report(fd, report);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) return io_error(path, err);
  return {};
}

// ".<name>.tmp-<pid>" next to the target, so the final rename stays on one file system.
std::string temp_path_for(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + name + ".tmp-" + std::to_string(::getpid());
}

// fsync is what makes "renamed into place" survive a crash; file systems that cannot sync
// (EINVAL, EROFS on some special mounts) are not an error for us.
int sync_fd(int fd) {
  if (::fsync(fd) == 0 || errno == EINVAL || errno == EROFS) return 0;
  return errno;
}

// Writes the temporary file (keeping the old report's permissions when there is one) and
// renames it over the target. Any failure removes the temporary and leaves the target as it was.
Status write_via_temp(const std::string& path, const findings::Report& report,
                      const mode_t* keep_mode) {
  const std::string tmp = temp_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return io_error(path, errno);
  int err = 0;
  if (keep_mode != nullptr && ::fchmod(fd, *keep_mode & 07777) != 0) err = errno;
  if (err == 0) err = write_report(fd, report);
  if (err == 0) err = sync_fd(fd);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io_error(path, err);
  }
  return {};
}

// A symlinked report path keeps its link: the new file replaces the link's target.
std::string resolve_symlink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
}

}  // namespace

Status write_json(const findings::Report& report, const std::string& path) {
  if (path == "-") return write_stdout(report);
  const std::string target = resolve_symlink(path);
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) return write_via_temp(target, report, nullptr);
  if (!S_ISREG(st.st_mode)) return write_in_place(target, report);
  return write_via_temp(target, report, &st.st_mode);
}

}  // namespace lastack::sink
