// Hostile-input fixtures for the end-to-end robustness tests (tests/cli/robust_*_test.cpp):
// a small valid capture whose analysis is known, and functions that break it in every way a
// real file gets broken — cut, corrupted, mislabelled, compressed and cut — or that splice in
// hostile frames. Valid parts come from the synth generator; only the damage is hand-made.
// Also runs the real `lastack` binary and reads back what it reported.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lastack/synth/capture_writer.h"

namespace lastack::hostile {

using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

// --- The base traffic -------------------------------------------------------------------------
// Connection 1 (10.0.0.1:40001 -> 10.0.0.2:80): handshake, data both ways, then the client
// resets with the server's data unacknowledged: one abortive_close/unread_data (error) finding,
// so a run that still sees it exits 1. Connection 2 (10.0.0.1:40002, one second later): a clean
// close, no finding. Frames 1..kFirstConnFrames are connection 1.
inline constexpr std::size_t kFirstConnFrames = 6;
inline constexpr std::size_t kBaseFrames = 14;
std::vector<synth::SynthPacket> base_packets();
Bytes base_pcap(const synth::PcapOptions& options = {});
Bytes base_pcapng();
// The base packets, then a third connection (10.0.1.1:50000 -> 10.0.1.2:443) sending 4000 data
// segments: ~600 KB, several compression blocks.
inline constexpr std::size_t kLongFrames = kBaseFrames + 3 + 4000;
std::vector<synth::SynthPacket> long_packets();
Bytes long_pcap();

// Byte offset of each record header in a classic pcap file (after the 24-byte file header).
std::vector<std::size_t> pcap_record_offsets(const Bytes& pcap);
// Overwrites a little-endian 32-bit value.
void put32le(Bytes& b, std::size_t at, std::uint32_t v);
Bytes cut(Bytes b, std::size_t size);

Bytes random_bytes(std::size_t n, std::uint32_t seed);
Bytes text_bytes();  // a README-like text file

// The base packets with `hostile` frames inserted after connection 1 (timestamps in between).
Bytes pcap_with_frames(const std::vector<Bytes>& hostile, std::uint32_t link_type = 1);

// --- pcapng by hand (little-endian), for broken blocks ----------------------------------------
Bytes ng_shb();
Bytes ng_idb(std::uint16_t link_type = 1);
Bytes ng_epb(std::uint32_t interface_id, const Bytes& frame, std::uint64_t ticks = 0);
// A block with an arbitrary header length and trailer.
Bytes ng_block(std::uint32_t type, const Bytes& body, std::uint32_t length, std::uint32_t trailer);

Bytes gzip(const Bytes& in);
Bytes zstd(const Bytes& in);  // with the content checksum (the zstd command's default)

// --- Hostile frames (Ethernet unless said otherwise) -----------------------------------------
// A valid segment 10.0.0.9:5555 -> 10.0.0.2:80 (a third four-tuple) with `flags`.
Bytes tcp_frame(std::uint8_t flags, std::uint32_t payload = 0, bool v6 = false);
Bytes frame_ipv4_ihl(std::uint8_t ihl_nibble, std::size_t keep = 0);  // keep: cut to this size
Bytes frame_ipv4_total_length(std::uint16_t total_length);
Bytes frame_ipv4_options();  // 8 option bytes (NOP, NOP, RR...), valid
Bytes frame_tcp_offset(std::uint8_t offset_nibble);
Bytes frame_tcp_options(const Bytes& raw_options);  // raw options after the fixed header
Bytes frame_ipv6_ext_chain(int headers);
Bytes frame_ipv4_fragment();
Bytes frame_ipv6_fragment();
Bytes frame_vlan_stack(int tags);
Bytes frame_arp();
Bytes frame_udp();
Bytes frame_icmp_quoting_tcp();  // ICMP port unreachable quoting connection 1's first segment

// --- Running the binary ---------------------------------------------------------------------
struct RunResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
  long max_rss_kb = 0;  // the child's peak resident set (wait4's ru_maxrss)
};

// A fresh directory under LASTACK_TEST_TMP, removed (made writable first) at scope exit.
class Scratch {
 public:
  explicit Scratch(const std::string& tag);
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, const Bytes& bytes);
std::string read_text(const fs::path& p);

// Runs `lastack args...` with stdin from /dev/null; stdout and stderr kept in `dir`.
RunResult run_lastack(const fs::path& dir, const std::vector<std::string>& args);

// Starts lastack with a pipe on its standard input; the caller writes and signals.
struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;
};
Child spawn_lastack_piped(const fs::path& dir, const std::vector<std::string>& args);
RunResult wait_lastack(const fs::path& dir, Child& child);

bool contains(const std::string& hay, const std::string& needle);
// Findings of the report with `kind`.
std::size_t count_kind(const nlohmann::json& report, const std::string& kind);

}  // namespace lastack::hostile
