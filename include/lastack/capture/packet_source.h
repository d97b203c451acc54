// Reading capture files and streams. A PacketSource yields RawFrames in file order; how the
// input ended (cleanly, cut short, or at a fault) is a value the caller reads afterwards, so
// everything before a fault is still analysed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lastack/capture/raw_frame.h"
#include "lastack/core/result.h"

namespace lastack::capture {

enum class Format : std::uint8_t { pcap, pcapng };
const char* to_string(Format f);

// ok: read to a clean end. truncated: the last record is cut short (tcpdump killed, file still
// being written): data before it is good. error: corrupt mid-file or unreadable.
enum class InputStatus : std::uint8_t { ok, truncated, error };
const char* to_string(InputStatus s);

struct InputInfo {
  std::string path;  // as given by the user ("-" for stdin)
  Format format = Format::pcap;
  std::string compression;                // "" (none), "gzip" or "zstd"
  std::vector<std::uint32_t> link_types;  // distinct LINKTYPE_* values, in order of appearance
  std::uint64_t bytes_read = 0;           // (decompressed) bytes consumed so far
  std::uint64_t size_bytes = 0;           // on-disk size when known, else 0
  std::uint64_t interface_drops = 0;      // pcapng ISB if_drop sum, when present
};

class PacketSource {
 public:
  PacketSource() = default;
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;
  virtual ~PacketSource() = default;

  // Fills `out` with the next frame and returns true, or returns false at the end of the
  // input (clean or not: see status()). `out.bytes` is valid until the next call.
  virtual bool next(RawFrame& out) = 0;
  [[nodiscard]] virtual InputStatus status() const = 0;
  // Set when status() is truncated or error: what went wrong, with the byte offset.
  [[nodiscard]] virtual const Error& error() const = 0;
  [[nodiscard]] virtual const InputInfo& info() const = 0;
};

// Opens a capture file ("-" = standard input); detects pcap/pcapng by content. `input_index`
// is stamped into every RawFrame.
Result<std::unique_ptr<PacketSource>> open_capture(const std::string& path,
                                                   std::uint32_t input_index);

// Reads a capture held in memory (tests, fuzzers). `name` is used in messages.
Result<std::unique_ptr<PacketSource>> open_capture_memory(std::vector<std::uint8_t> bytes,
                                                          const std::string& name,
                                                          std::uint32_t input_index);

}  // namespace lastack::capture
