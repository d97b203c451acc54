// The canonical order of findings and the way links resolve to ids: one definition for the
// findings a report keeps as objects and for those in a FindingStore.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lastack/findings/finding.h"

namespace lastack::findings {

// The contract's order (time, connection, kind, cause, frames). The message is a last tie-break
// so that two findings equal on every key still come out in the same order whatever order the
// detectors produced them in.
bool canonical_less(const Finding& a, const Finding& b);

// What a link can name: each finding's (connection, kind) with its id, in a sorted flat vector
// (at the end of a large run a node per key would be megabytes on top of the report).
class LinkIndex {
 public:
  // `kind` must outlive the index.
  void add(std::uint64_t connection_id, std::string_view kind, std::uint64_t id) {
    targets_.push_back({connection_id, kind, id});
  }
  // After the last add().
  void sort();
  // The related ids of finding `id`: every finding of each (connection, kind) its links name but
  // itself, ascending, once; a link to a finding never produced is dropped.
  void related(std::uint64_t id, const std::vector<FindingLink>& links,
               std::vector<std::uint64_t>& out) const;

 private:
  struct Target {
    std::uint64_t connection_id = 0;
    std::string_view kind;
    std::uint64_t id = 0;
    auto operator<=>(const Target&) const = default;
  };
  std::vector<Target> targets_;
};

}  // namespace lastack::findings
