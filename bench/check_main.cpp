// lastack-bench-check --truth TRUTH.json --report REPORT.json
// Checks lastack's JSON report against the generator's ground truth: every injected anomaly is
// reported with its kind (and cause, where the script makes it certain), and no connection
// outside an injected anomaly's group has a finding of severity error or critical.
// Exit 0 when both hold, 1 otherwise, 2 on usage or unreadable input.
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

struct Anomaly {
  std::uint64_t id;
  std::string scenario, kind, cause, client, server, start, end;
};

bool load(const std::string& path, json& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  try {
    f >> out;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string truth_path, report_path;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--truth" && i + 1 < argc)
      truth_path = argv[++i];
    else if (a == "--report" && i + 1 < argc)
      report_path = argv[++i];
    else if (a == "-v")
      verbose = true;
    else {
      std::fprintf(stderr, "usage: lastack-bench-check --truth T.json --report R.json [-v]\n");
      return 2;
    }
  }
  json truth, report;
  if (truth_path.empty() || report_path.empty() || !load(truth_path, truth) ||
      !load(report_path, report)) {
    std::fprintf(stderr, "lastack-bench-check: cannot read the truth or the report\n");
    return 2;
  }
  // Anomalies by four-tuple (both orientations: a mid-stream guess may swap client and server).
  std::vector<Anomaly> anomalies;
  std::map<std::string, std::vector<std::size_t>> by_tuple;
  for (const json& a : truth.at("anomalies")) {
    anomalies.push_back({a.at("id").get<std::uint64_t>(), a.at("scenario"), a.at("kind"),
                         a.at("cause"), a.at("client"), a.at("server"), a.at("start"),
                         a.at("end")});
    const Anomaly& x = anomalies.back();
    by_tuple[x.client + " " + x.server].push_back(anomalies.size() - 1);
    by_tuple[x.server + " " + x.client].push_back(anomalies.size() - 1);
  }
  // RFC 3339 times with nanoseconds compare as strings.
  std::map<std::uint64_t, std::string> first_ts;
  for (const json& c : report.at("connections"))
    first_ts[c.at("id").get<std::uint64_t>()] = c.at("first_ts");
  auto group_of = [&](const json& conn) -> long {
    const auto it = by_tuple.find(conn.at("client").get<std::string>() + " " +
                                  conn.at("server").get<std::string>());
    if (it == by_tuple.end()) return -1;
    const std::string& t = first_ts[conn.at("id").get<std::uint64_t>()];
    for (std::size_t i : it->second) {
      if (anomalies[i].start <= t && t <= anomalies[i].end) return static_cast<long>(i);
    }
    return -1;
  };

  std::vector<std::set<std::string>> found(anomalies.size());  // "kind/cause"
  std::map<std::string, std::uint64_t> clean_by_severity;
  std::map<std::string, std::uint64_t> clean_by_kind;
  std::vector<std::string> unexpected_errors;
  for (const json& f : report.at("findings")) {
    const long g = group_of(f.at("connection"));
    const std::string kc = f.at("kind").get<std::string>() + "/" + f.at("cause").get<std::string>();
    const std::string sev = f.at("severity");
    if (g >= 0) {
      found[static_cast<std::size_t>(g)].insert(kc);
      continue;
    }
    ++clean_by_severity[sev];
    ++clean_by_kind[kc + " " + sev];
    if (sev == "error" || sev == "critical") {
      unexpected_errors.push_back(kc + " " + sev + " on " +
                                  f.at("connection").at("client").get<std::string>() + " -> " +
                                  f.at("connection").at("server").get<std::string>() + " at " +
                                  f.at("ts").get<std::string>());
    }
  }

  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_scenario;  // found, total
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < anomalies.size(); ++i) {
    const Anomaly& a = anomalies[i];
    bool ok = false;
    for (const std::string& kc : found[i]) {
      if (kc.rfind(a.kind + "/", 0) == 0 && (a.cause.empty() || kc == a.kind + "/" + a.cause))
        ok = true;
    }
    auto& ps = per_scenario[a.scenario];
    ++ps.second;
    if (ok) {
      ++ps.first;
    } else {
      std::string got;
      for (const std::string& kc : found[i]) got += (got.empty() ? "" : ", ") + kc;
      missing.push_back("#" + std::to_string(a.id) + " " + a.scenario + ": want " + a.kind +
                        (a.cause.empty() ? "" : "/" + a.cause) + ", got [" + got + "] on " +
                        a.client + " -> " + a.server + " at " + a.start);
    }
  }

  std::printf("ground truth: %zu injected anomalies, %llu clean connections\n", anomalies.size(),
              static_cast<unsigned long long>(truth.value("clean_connections", 0ULL)));
  for (const auto& [s, n] : per_scenario) {
    std::printf("  %-20s found %llu/%llu\n", s.c_str(), static_cast<unsigned long long>(n.first),
                static_cast<unsigned long long>(n.second));
  }
  std::printf("findings outside injected groups:");
  if (clean_by_severity.empty()) std::printf(" none");
  for (const auto& [s, n] : clean_by_severity)
    std::printf(" %s %llu", s.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
  if (verbose) {
    for (const auto& [k, n] : clean_by_kind)
      std::printf("  %s: %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  }
  const std::size_t show = verbose ? 1000 : 10;
  for (std::size_t i = 0; i < missing.size() && i < show; ++i)
    std::printf("MISSING %s\n", missing[i].c_str());
  for (std::size_t i = 0; i < unexpected_errors.size() && i < show; ++i) {
    std::printf("UNEXPECTED %s\n", unexpected_errors[i].c_str());
  }
  const bool ok = missing.empty() && unexpected_errors.empty();
  std::printf("ground truth %s: %zu missing, %zu unexpected error findings\n",
              ok ? "MET" : "NOT MET", missing.size(), unexpected_errors.size());
  return ok ? 0 : 1;
}
