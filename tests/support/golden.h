// Running the analysis on the bundled samples the way the golden reports were made, and
// comparing reports structurally.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lastack::test {

// Every capture under samples/ (relative paths like "samples/real/x.pcap"), sorted.
std::vector<std::string> sample_files();

// reports/golden/<path below samples/ with '/' as "__">.json, relative to the source tree.
std::string golden_path(const std::string& sample);

// The report text for one sample, as `lastack analyze <sample> --connections all` run from the
// source tree writes it.
std::string analyze_sample_text(const std::string& sample);
nlohmann::json analyze_sample(const std::string& sample);

// The first place where two JSON documents differ ("/findings/0/cause: \"a\" vs \"b\""), or ""
// when they are equal. Keys listed in `ignored` (JSON pointers) are skipped.
std::string first_difference(const nlohmann::json& actual, const nlohmann::json& expected,
                             const std::vector<std::string>& ignored = {});

std::string read_text(const std::string& path);
std::string source_path(const std::string& relative);

}  // namespace lastack::test
