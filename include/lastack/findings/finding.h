// The finding model: what a detector concluded, with the frames and numbers that prove it.
// Kinds and causes are stable snake_case ids (users script against them; never rename one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lastack/core/frame_ref.h"
#include "lastack/core/timestamp.h"

namespace lastack::findings {

enum class Severity : std::uint8_t { info, warning, error, critical };
enum class Confidence : std::uint8_t { confirmed, probable };

std::string_view to_string(Severity s);
std::string_view to_string(Confidence c);
bool parse_severity(std::string_view text, Severity& out);
bool parse_confidence(std::string_view text, Confidence& out);

using FrameRef = lastack::FrameRef;

// One evidence value; the report keeps the order in which a detector added them. A key is a
// string literal (the detector names its evidence): it costs no allocation, and a report keeps
// tens of thousands of findings with half a dozen keys each.
using EvidenceValue = std::variant<bool, std::int64_t, double, std::string, std::vector<double>,
                                   std::vector<std::int64_t>>;
using Evidence = std::vector<std::pair<std::string_view, EvidenceValue>>;

// A reference from one finding to another that explains it ("the lost_final_ack of the previous
// incarnation"), resolved to a finding id when the report is finalised.
struct FindingLink {
  std::uint64_t connection_id = 0;
  std::string kind;
};

struct Finding {
  std::uint64_t id = 0;  // 1-based, assigned in canonical order by Report::finalize()
  std::string kind;
  std::string cause;
  Severity severity = Severity::info;
  Confidence confidence = Confidence::confirmed;
  std::uint64_t connection_id = 0;  // 0 = not about one connection (see `subject`)
  // What a finding about no single connection is about, e.g. "10.0.0.1 -> 10.0.0.2:80" or
  // "server 10.0.0.2" (time_wait_pressure); empty for connection findings.
  std::string subject;
  Timestamp ts;                  // time of the decisive evidence
  std::vector<FrameRef> frames;  // evidence frames, in capture order
  std::string message;           // one sentence a person can act on
  Evidence evidence;
  std::vector<FindingLink> links;
  std::vector<std::uint64_t> related_ids;  // filled from `links` by Report::finalize()
};

}  // namespace lastack::findings
