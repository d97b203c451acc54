#include "lastack/findings/report.h"

#include "lastack/findings/finding_order.h"

#include <algorithm>
#include <compare>
#include <numeric>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace lastack::findings {

namespace {

// Every finding's related ids from its links (findings numbered in canonical order).
void resolve_links(std::vector<Finding>& findings) {
  const bool any = std::any_of(findings.begin(), findings.end(),
                               [](const Finding& f) { return !f.links.empty(); });
  if (!any) {
    for (Finding& f : findings) f.related_ids.clear();
    return;
  }
  LinkIndex index;
  for (const Finding& f : findings) index.add(f.connection_id, f.kind, f.id);
  index.sort();
  for (Finding& f : findings) index.related(f.id, f.links, f.related_ids);
}

// std::stable_sort's scratch buffer holds half the elements: megabytes at the end of a large
// run, on top of the report. Sorting positions instead costs 8 bytes an element; the elements
// then move along the permutation's cycles, each once.
template <class T, class Less>
void stable_sort_in_place(std::vector<T>& v, Less less) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&v, &less](std::size_t a, std::size_t b) { return less(v[a], v[b]); });
  // order[i] is the position of the element that belongs at i; a done position gets i itself.
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (order[i] == i) continue;
    T held = std::move(v[i]);
    std::size_t at = i;
    while (order[at] != i) {
      const std::size_t from = order[at];
      v[at] = std::move(v[from]);
      order[at] = at;
      at = from;
    }
    v[at] = std::move(held);
    order[at] = at;
  }
}

ConnectionSummary* find_connection(std::vector<ConnectionSummary>& connections, std::uint64_t id) {
  const auto it =
      std::lower_bound(connections.begin(), connections.end(), id,
                       [](const ConnectionSummary& c, std::uint64_t key) { return c.id < key; });
  return it != connections.end() && it->id == id ? &*it : nullptr;
}

void fill_connection_finding_ids(std::vector<ConnectionSummary>& connections,
                                 const std::vector<Finding>& findings) {
  for (ConnectionSummary& c : connections) c.finding_ids.clear();
  // Findings are visited in id order, so every finding_ids list comes out sorted.
  for (const Finding& f : findings) {
    if (ConnectionSummary* c = find_connection(connections, f.connection_id)) {
      c->finding_ids.push_back(f.id);
    }
  }
}

// Calls fn(kind, severity, connection_id) for every finding, stored or in memory.
template <class Fn>
void for_each_key(const Report& r, Fn&& fn) {
  if (r.store) {
    for (std::size_t i = 0; i < r.store->size(); ++i) {
      fn(r.store->kind(i), r.store->severity(i), r.store->connection_id(i));
    }
  }
  for (const Finding& f : r.findings) fn(f.kind, f.severity, f.connection_id);
}

}  // namespace

// A store that stayed in memory is small: its findings become objects again, ahead of those
// added since (the TIME_WAIT and flood findings), as if they had been kept in the vector.
void Report::finalize() {
  if (store && !store->spilled()) {
    std::vector<Finding> all = store->take_all();
    all.insert(all.end(), std::make_move_iterator(findings.begin()),
               std::make_move_iterator(findings.end()));
    findings = std::move(all);
    store.reset();
  }
  stable_sort_in_place(connections, [](const ConnectionSummary& a, const ConnectionSummary& b) {
    return a.id < b.id;
  });
  if (store) {
    finalize_stored();
    return;
  }
  stable_sort_in_place(findings, canonical_less);
  for (std::size_t i = 0; i < findings.size(); ++i) findings[i].id = i + 1;
  resolve_links(findings);
  fill_connection_finding_ids(connections, findings);
}

void Report::finalize_stored() {
  for (const Finding& f : findings) store->add(f);
  findings.clear();
  findings.shrink_to_fit();
  store->finalize();
  for (ConnectionSummary& c : connections) c.finding_ids.clear();
  for (std::size_t i = 0; i < store->size(); ++i) {
    if (ConnectionSummary* c = find_connection(connections, store->connection_id(i))) {
      c->finding_ids.push_back(i + 1);
    }
  }
}

std::map<std::string, std::uint64_t> Report::findings_by_kind() const {
  std::map<std::string, std::uint64_t> counts;
  for_each_key(*this,
               [&counts](const std::string& kind, Severity, std::uint64_t) { ++counts[kind]; });
  return counts;
}

std::map<std::string, std::uint64_t> Report::findings_by_severity() const {
  std::map<std::string, std::uint64_t> counts;
  for_each_key(*this, [&counts](const std::string&, Severity s, std::uint64_t) {
    ++counts[std::string(to_string(s))];
  });
  return counts;
}

bool Report::fails() const {
  if (!settings.fail_on) return false;
  const Severity threshold = *settings.fail_on;
  bool any = false;
  for_each_key(*this, [threshold, &any](const std::string&, Severity s, std::uint64_t) {
    any = any || s >= threshold;
  });
  return any;
}

std::vector<const ConnectionSummary*> Report::listed_connections() const {
  // Looks at the findings themselves rather than finding_ids, so the answer is right even
  // before finalize() has run.
  std::vector<std::uint64_t> with_findings;
  for_each_key(*this, [&with_findings](const std::string&, Severity, std::uint64_t id) {
    with_findings.push_back(id);
  });
  std::sort(with_findings.begin(), with_findings.end());
  std::vector<const ConnectionSummary*> listed;
  for (const ConnectionSummary& c : connections) {
    if (settings.all_connections ||
        std::binary_search(with_findings.begin(), with_findings.end(), c.id)) {
      listed.push_back(&c);
    }
  }
  std::stable_sort(
      listed.begin(), listed.end(),
      [](const ConnectionSummary* a, const ConnectionSummary* b) { return a->id < b->id; });
  return listed;
}

}  // namespace lastack::findings
