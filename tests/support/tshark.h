// Running Wireshark's tshark as an independent reference for differential tests, and reading
// its `-T fields` output. Nothing here depends on lastack: the caller compares.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lastack::test::tshark {

// The tshark executable found on PATH, or nullopt when it is not installed.
std::optional<std::string> find();

// "TShark (Wireshark) 4.0.17 ..." (first line of `tshark --version`), or "" when unavailable.
std::string version();

struct RunResult {
  int exit_code = -1;  // the process's exit status; 124 when the timeout killed it
  bool timed_out = false;
  std::string out;  // standard output
  std::string err;  // standard error, tshark's "Running as user root" warning removed
};

// Runs `timeout <timeout_s> <program> <args...>` (without `timeout` when coreutils lacks it),
// capturing stdout and stderr through temporary files. Arguments are shell-quoted.
RunResult run(const std::string& program, const std::vector<std::string>& args, int timeout_s = 60);

// A capture file fault tshark reported on stderr after printing the packets it could read.
enum class Fault : std::uint8_t {
  none,
  damaged,     // "appears to be damaged or corrupt"
  cut_short,   // "appears to have been cut short in the middle of a packet"
  unreadable,  // "isn't a capture file in a format TShark understands" and the like
};
Fault fault_of(const std::string& err);
const char* to_string(Fault f);

// `-T fields` output (tab-separated, one frame per line) as rows of columns. A trailing empty
// line is dropped; empty columns are kept as "".
std::vector<std::vector<std::string>> parse_fields(const std::string& out);

// The display filter for real TCP segments as lastack counts them: a TCP header with ports was
// dissected, the frame is not an ICMP/ICMPv6 error quoting a TCP header, and it is not an IPv4
// or IPv6 fragment (lastack does not reassemble; run tshark with ip/ipv6 defragmentation off so
// no frame turns into a reassembled TCP segment).
extern const char* const kRealTcpFilter;

// kRealTcpFilter applied to one row of read_capture()'s single tshark pass (exposed for tests).
bool is_real_tcp(const std::vector<std::string>& row);

// The options every differential run passes: no name resolution, no IP reassembly (see above),
// TCP sequence analysis on (retransmission marks).
std::vector<std::string> common_options();

// One frame as tshark sees it, for frames matching kRealTcpFilter.
struct TcpFrame {
  std::uint64_t number = 0;
  std::string src;  // "ip:port", IPv6 as "[addr]:port" (lastack's endpoint form)
  std::string dst;
  bool fin = false;
  bool retransmission = false;       // tcp.analysis.retransmission
  bool fast_retransmission = false;  // tcp.analysis.fast_retransmission
  bool spurious_retransmission = false;
  [[nodiscard]] bool any_retransmission() const {
    return retransmission || fast_retransmission || spurious_retransmission;
  }
};

// Everything a differential test needs from one capture, from one tshark pass over all frames:
// the frame count, and the real TCP frames with addresses, flags and analysis marks.
struct CaptureView {
  bool ok = false;      // tshark ran to the end (a fault in the file still counts)
  std::string problem;  // why not ok: timeout, tshark crash, ...
  Fault fault = Fault::none;
  std::string fault_message;              // tshark's stderr, trimmed
  std::uint64_t packets = 0;              // frames tshark read (before a fault)
  std::map<std::uint64_t, TcpFrame> tcp;  // by frame number
};

CaptureView read_capture(const std::string& path, int timeout_s = 60);

}  // namespace lastack::test::tshark
