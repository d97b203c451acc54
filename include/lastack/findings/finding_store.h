// The findings of a large run, kept serialised instead of as objects: in memory up to a budget,
// then appended to an unlinked temporary file. A run's memory then stays flat however many
// findings it has: what stays in memory is a small entry per finding (its sort key and where its
// record is), about a twentieth of the finding. Report::finalize() sorts the entries into the
// canonical order and numbers them; readers decode one finding at a time.
//
// If the temporary file cannot be made or written, records stay in memory (still serialised):
// the run goes on, only less flat.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lastack/findings/finding.h"
#include "lastack/findings/finding_order.h"

namespace lastack::findings {

class FindingStore {
 public:
  // `memory_budget`: serialised bytes kept in memory before records go to the file.
  explicit FindingStore(std::uint64_t memory_budget);
  ~FindingStore();
  FindingStore(const FindingStore&) = delete;
  FindingStore& operator=(const FindingStore&) = delete;

  // Appends a finding (its id and related_ids are ignored: finalize() sets them).
  void add(const Finding& f);
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  // True once records went to the temporary file.
  [[nodiscard]] bool spilled() const { return fd_ >= 0; }

  // Canonical order (the one Report::finalize() gives findings in memory), ids, and the index
  // that resolves links. Call once, after the last add().
  void finalize();

  // After finalize(), by position in the canonical order (id = position + 1). Thread-safe for
  // readers with their own `scratch` and `buf`; the finding is decoded into `scratch`.
  const Finding& read(std::size_t i, Finding& scratch, std::string& buf) const;
  [[nodiscard]] std::uint64_t connection_id(std::size_t i) const {
    return entries_[i].connection_id;
  }
  [[nodiscard]] Severity severity(std::size_t i) const { return entries_[i].severity; }
  [[nodiscard]] const std::string& kind(std::size_t i) const { return names_[entries_[i].kind]; }

  // Every finding as objects, in the order added (for a small store: the report keeps them).
  std::vector<Finding> take_all();

 private:
  struct Entry {
    Timestamp ts;
    std::uint64_t connection_id = 0;
    std::uint64_t offset = 0;  // in the record stream: the file, then the memory tail
    std::uint32_t length = 0;
    std::uint32_t kind = 0;  // names_
    std::uint32_t cause = 0;
    Severity severity = Severity::info;
  };

  std::uint32_t intern(std::string_view name);
  std::uint32_t intern_key(std::string_view literal);
  void encode(const Finding& f, std::string& out);
  void decode(std::string_view record, Finding& out) const;
  void load(const Entry& e, std::string& buf) const;
  void materialise(const Entry& e, std::string& buf, Finding& out) const;
  void spill();
  [[nodiscard]] bool before(const Entry& a, const Entry& b) const;

  std::uint64_t budget_;
  std::vector<Entry> entries_;
  std::string tail_;              // records not in the file
  std::uint64_t file_bytes_ = 0;  // records [0, file_bytes_) are in the file
  int fd_ = -1;
  bool file_failed_ = false;
  // Kinds, causes and link kinds, each stored once (a deque: the map's views stay valid).
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, std::uint32_t> name_ids_;
  // Evidence keys: the detectors' string literals themselves (Evidence), so a decoded finding
  // points where the original did and outlives the store.
  std::vector<std::string_view> keys_;
  std::unordered_map<std::string_view, std::uint32_t> key_ids_;
  std::vector<std::uint32_t> name_rank_;  // names_ in string order (finalize)
  LinkIndex links_;                       // after finalize
  std::string scratch_;                   // add(): one record
};

}  // namespace lastack::findings
