// Opening an input: file, standard input or memory; compression and format detected from the
// first bytes, never from the name (rotated captures are often called *.pcap0, *.1, …).
#include "lastack/capture/packet_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capture/byte_stream.h"
#include "capture/readers.h"

namespace lastack::capture {
namespace {

constexpr std::uint32_t pcap_magic_modified = 0xa1b2cd34;  // Kuznetzov's patched libpcap

std::string display_name(const std::string& path) {
  return path == "-" ? std::string("standard input") : path;
}

std::string hex_head(ByteView head) {
  std::string out;
  char byte[4];
  for (std::uint8_t b : head) {
    std::snprintf(byte, sizeof byte, "%s%02x", out.empty() ? "" : " ", b);
    out += byte;
  }
  return out;
}

bool is_either_order(std::uint32_t value, std::uint32_t magic) {
  return value == magic || value == __builtin_bswap32(magic);
}

// The buffer holds the decompressed input from its first byte: choose the reader by magic.
Result<std::unique_ptr<PacketSource>> open_buffer(InputBuffer buffer, InputInfo info,
                                                  std::uint32_t input) {
  const std::string name = display_name(info.path);
  const std::string what = info.compression.empty() ? "" : " (after " + info.compression + ")";
  if (!buffer.ensure(4)) {
    if (const Error* e = buffer.stream_error(); e != nullptr) return *e;
    if (buffer.available() == 0) {
      return make_error(ErrorCode::bad_magic, name + ": empty file" + what + ", not a capture");
    }
    return make_error(ErrorCode::bad_magic, name + ": only " + std::to_string(buffer.available()) +
                                                " bytes" + what +
                                                ", too short for a capture file header");
  }
  const std::uint32_t magic = load_u32be(buffer.cur());
  if (is_either_order(magic, pcap_magic_us) || is_either_order(magic, pcap_magic_ns)) {
    return open_pcap(std::move(buffer), std::move(info), input);
  }
  if (magic == pcapng_shb_type) return open_pcapng(std::move(buffer), std::move(info), input);
  if (is_either_order(magic, pcap_magic_modified)) {
    return make_error_at(ErrorCode::unsupported, 0,
                         name + ": the modified (Kuznetzov) pcap format is not supported");
  }
  return make_error_at(ErrorCode::bad_magic, 0,
                       name + ": not a capture file" + what + ": it starts with " +
                           hex_head(ByteView(buffer.cur(), 4)) +
                           "; expected a pcap magic (a1b2c3d4 or a1b23c4d, either byte order), "
                           "a pcapng section header (0a0d0d0a), or either one gzip- or "
                           "zstd-compressed");
}

// `head` holds the first bytes already taken from `raw`. `regular`: a regular file. A gzip one is
// decompressed on a thread of its own once it is being parsed (read_ahead.h): zlib's inflate is
// slow, and on another core it runs alongside the analysis (1M packets: 0.745 -> 0.624 s). Plain
// and zstd files are read in line: read(2) and zstd are fast enough that reading the bytes another
// core wrote costs more than they take (0.416 -> 0.44 s, 0.51 -> 0.52 s). Standard input and pipes
// are read in line too, so that a read waiting for its writer never holds up the end of a run.
Result<std::unique_ptr<PacketSource>> open_stream(std::unique_ptr<ByteStream> raw, ByteView head,
                                                  InputInfo info, std::uint32_t input,
                                                  bool regular) {
  info.compression = sniff_compression(head);
  const std::string name = display_name(info.path);
  InputBuffer buffer;
  if (info.compression == "gzip") {
    buffer = InputBuffer::from_stream(make_gzip_stream(std::move(raw), head, name), {}, regular);
  } else if (info.compression == "zstd") {
    buffer = InputBuffer::from_stream(make_zstd_stream(std::move(raw), head, name), {});
  } else {
    buffer = InputBuffer::from_stream(std::move(raw), head);
  }
  return open_buffer(std::move(buffer), std::move(info), input);
}

Error io_error(const std::string& verb, const std::string& path, int err) {
  return make_error(ErrorCode::io,
                    "cannot " + verb + " " + display_name(path) + ": " + std::strerror(err));
}

}  // namespace

const char* to_string(Format f) {
  switch (f) {
    case Format::pcap: return "pcap";
    case Format::pcapng: return "pcapng";
  }
  return "unknown";
}

const char* to_string(InputStatus s) {
  switch (s) {
    case InputStatus::ok: return "ok";
    case InputStatus::truncated: return "truncated";
    case InputStatus::error: return "error";
  }
  return "unknown";
}

Result<std::unique_ptr<PacketSource>> open_capture(const std::string& path,
                                                   std::uint32_t input_index) {
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);
  InputInfo info;
  info.path = path;
  struct stat st {};
  bool regular = false;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (!is_stdin) ::close(fd);
      return io_error("read", path, EISDIR);
    }
    regular = S_ISREG(st.st_mode);
    if (regular) info.size_bytes = static_cast<std::uint64_t>(st.st_size);
  }
  auto raw = make_fd_stream(fd, !is_stdin, display_name(path));
  // Sniff up to 4 bytes (a pipe may deliver them one at a time).
  std::uint8_t head[4];
  std::size_t got = 0;
  while (got < sizeof head) {
    auto r = raw->read(head + got, sizeof head - got);
    if (!r) return r.error();
    if (r.value() == 0) break;
    got += r.value();
  }
  return open_stream(std::move(raw), ByteView(head, got), std::move(info), input_index, regular);
}

Result<std::unique_ptr<PacketSource>> open_capture_memory(std::vector<std::uint8_t> bytes,
                                                          const std::string& name,
                                                          std::uint32_t input_index) {
  InputInfo info;
  info.path = name;
  info.size_bytes = bytes.size();
  info.compression =
      sniff_compression(ByteView(bytes.data(), std::min<std::size_t>(4, bytes.size())));
  if (info.compression.empty()) {
    return open_buffer(InputBuffer::from_memory(std::move(bytes)), std::move(info), input_index);
  }
  auto raw = make_memory_stream(std::move(bytes));
  auto decoder = info.compression == "gzip" ? make_gzip_stream(std::move(raw), {}, name)
                                            : make_zstd_stream(std::move(raw), {}, name);
  return open_buffer(InputBuffer::from_stream(std::move(decoder), {}), std::move(info),
                     input_index);
}

}  // namespace lastack::capture
