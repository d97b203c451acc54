// Golden reports (like Zeek btest / suricata-verify): every bundled sample's report must match
// reports/golden/ structurally. Goldens change only through tests/golden/update-goldens.sh, and
// the diff is read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "support/golden.h"
#include "support/json_schema.h"

using lastack::test::analyze_sample_text;
using lastack::test::golden_path;
using lastack::test::sample_files;

TEST_CASE("every sample matches its golden report", "[golden]") {
  const std::vector<std::string> samples = sample_files();
  REQUIRE(samples.size() >= 30);
  for (const std::string& sample : samples) {
    DYNAMIC_SECTION(sample) {
      const std::string golden_file = lastack::test::source_path(golden_path(sample));
      INFO("golden " << golden_path(sample) << " (regenerate with tests/golden/update-goldens.sh)");
      REQUIRE(std::filesystem::exists(golden_file));
      const std::string text = analyze_sample_text(sample);
      const nlohmann::json actual = nlohmann::json::parse(text);
      const nlohmann::json expected = nlohmann::json::parse(lastack::test::read_text(golden_file));
      CHECK(lastack::test::first_difference(actual, expected, {"/tool/version"}) == "");
      const std::vector<std::string> errors = lastack::test::validate_report(text);
      CHECK(errors.empty());
      for (const std::string& e : errors) UNSCOPED_INFO(e);
    }
  }
}

TEST_CASE("every golden report belongs to a sample", "[golden]") {
  std::set<std::string> expected;
  for (const std::string& s : sample_files()) expected.insert(golden_path(s));
  for (const auto& entry :
       std::filesystem::directory_iterator(lastack::test::source_path("reports/golden"))) {
    const std::string rel = "reports/golden/" + entry.path().filename().string();
    INFO(rel << " has no sample: delete it or restore the sample");
    CHECK(expected.count(rel) == 1);
  }
}

TEST_CASE("the same input gives byte-identical JSON", "[golden]") {
  for (const std::string& sample : sample_files()) {
    DYNAMIC_SECTION(sample) {
      CHECK(analyze_sample_text(sample) == analyze_sample_text(sample));
    }
  }
}
