#include "support/golden.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"

namespace lastack::test {

namespace fs = std::filesystem;

std::string source_path(const std::string& relative) {
  return std::string(LASTACK_SOURCE_DIR) + "/" + relative;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> sample_files() {
  std::vector<std::string> out;
  const fs::path root = source_path("samples");
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    const bool capture = name.ends_with(".pcap") || name.ends_with(".pcapng") ||
                         name.ends_with(".gz") || name.ends_with(".zst");
    if (capture) out.push_back("samples/" + fs::relative(entry.path(), root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string golden_path(const std::string& sample) {
  std::string name = sample.substr(std::string("samples/").size());
  std::replace(name.begin(), name.end(), '/', '_');
  // "real/x.pcap" → "real__x.pcap.json": keep the directory visible in the flat name.
  const std::size_t first = name.find('_');
  if (first != std::string::npos) name.insert(first, "_");
  return "reports/golden/" + name + ".json";
}

std::string analyze_sample_text(const std::string& sample) {
  pipeline::Options options;
  options.inputs = {source_path(sample)};
  options.settings.all_connections = true;
  auto result = pipeline::analyze(options);
  if (!result) return "analysis failed: " + result.error().message;
  findings::Report& report = result.value();
  // The goldens are made from the source tree with relative paths.
  for (findings::InputReport& in : report.inputs) {
    in.path = sample;
    if (in.error) {
      const std::string abs = source_path(sample);
      for (std::size_t at = in.error->find(abs); at != std::string::npos;
           at = in.error->find(abs)) {
        in.error->replace(at, abs.size(), sample);
      }
    }
  }
  return sink::to_json(report);
}

nlohmann::json analyze_sample(const std::string& sample) {
  return nlohmann::json::parse(analyze_sample_text(sample));
}

namespace {

std::string brief(const nlohmann::json& j) {
  std::string s = j.dump();
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

std::string diff_at(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                    const std::vector<std::string>& ignored) {
  if (std::find(ignored.begin(), ignored.end(), path) != ignored.end()) return "";
  if (a.type() != b.type()) return path + ": " + brief(a) + " vs expected " + brief(b);
  if (a.is_object()) {
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) return path + "/" + it.key() + ": missing";
      std::string d = diff_at(a[it.key()], it.value(), path + "/" + it.key(), ignored);
      if (!d.empty()) return d;
    }
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return path + "/" + it.key() + ": unexpected";
    }
    return "";
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      std::string d = diff_at(a[i], b[i], path + "/" + std::to_string(i), ignored);
      if (!d.empty()) return d;
    }
    if (a.size() != b.size()) {
      return path + ": " + std::to_string(a.size()) + " elements vs expected " +
             std::to_string(b.size());
    }
    return "";
  }
  return a == b ? "" : path + ": " + brief(a) + " vs expected " + brief(b);
}

}  // namespace

std::string first_difference(const nlohmann::json& actual, const nlohmann::json& expected,
                             const std::vector<std::string>& ignored) {
  return diff_at(actual, expected, "", ignored);
}

}  // namespace lastack::test
