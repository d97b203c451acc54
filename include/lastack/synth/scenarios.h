// Named synthetic teardown scenarios: exact captures with the findings lastack must report on
// them (detections.md), as data. One registry feeds `lastack-synth`, samples/synthetic/ and the
// [synthetic] tests, so the captures, their README and the expectations cannot drift apart.
//
// Every scenario is deterministic: fixed addresses, ports, ISNs, IP ids and times (time base
// 2026-01-01T00:00:00Z). Frame numbers are 1-based within the written file, as Wireshark shows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/synth/capture_writer.h"
#include "lastack/synth/frame_builder.h"

namespace lastack::synth {

enum class FileFormat : std::uint8_t { pcap_us, pcapng_ns };

// One finding lastack must report (stable ids as in the JSON report).
struct ExpectedFinding {
  std::string kind;
  std::string cause;
  std::string severity;               // info | warning | error | critical
  std::string confidence;             // confirmed | probable
  std::vector<std::uint64_t> frames;  // evidence frames, ascending
};

// Summary fields of one connection (detections.md §5) that the scenario is about.
struct ExpectedConnection {
  std::uint32_t incarnation = 1;
  std::string close_kind;        // fin | half_closed | rst | abortive | open_at_end
  std::string active_closer;     // none | client | server | both
  std::string time_wait_holder;  // none | client | server | both
  bool mid_stream = false;
  bool handshake_seen = true;
  std::string client_state;  // RFC 9293 state at the end of the capture; empty = not checked
  std::string server_state;
};

struct Scenario {
  std::string name;
  std::string summary;      // one line, for `lastack-synth list`
  std::string description;  // what happens, frame by frame, and why the findings follow
  bool decoy = false;       // detections.md §4: must yield no finding
  Link link = Link::ethernet;
  FileFormat format = FileFormat::pcap_us;
  std::vector<SynthPacket> packets;
  std::vector<ExpectedFinding> findings;  // exactly these, nothing else
  // The summaries that matter: `connections[i]` describes the i-th connection of the report
  // (report order: first packet); empty = not checked.
  std::vector<ExpectedConnection> connections;
  std::optional<std::uint64_t> connection_count;  // total connections in the report
  std::optional<std::uint64_t> duplicates;        // report summary: duplicate frames

  [[nodiscard]] std::string file_name() const;  // NAME.pcap or NAME.pcapng
  [[nodiscard]] std::vector<std::uint8_t> file_bytes() const;
};

struct ScenarioEntry {
  std::string name;
  std::string summary;
  Scenario (*make)();
};

// All scenarios, in a fixed order.
const std::vector<ScenarioEntry>& scenario_registry();
std::optional<Scenario> make_scenario(std::string_view name);
std::vector<Scenario> make_all_scenarios();

// samples/synthetic/README.md, generated from the descriptions and expectations.
std::string scenarios_readme(const std::vector<Scenario>& all);

}  // namespace lastack::synth
