#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "progress.h"

using lastack::cli::ProgressMeter;
using lastack::cli::ProgressMode;
using lastack::pipeline::Progress;

namespace {

// Everything a meter wrote, read back from a temporary file.
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[256];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fseek(f, 0, SEEK_END);  // C requires a seek between reading and writing again
  return out;
}

}  // namespace

TEST_CASE("progress is enabled by mode, terminal and --quiet", "[cli][progress]") {
  using lastack::cli::progress_enabled;
  CHECK(progress_enabled(ProgressMode::automatic, false, true));
  CHECK_FALSE(progress_enabled(ProgressMode::automatic, false, false));
  CHECK_FALSE(progress_enabled(ProgressMode::automatic, true, true));
  CHECK(progress_enabled(ProgressMode::always, true, false));
  CHECK_FALSE(progress_enabled(ProgressMode::never, false, true));
}

TEST_CASE("progress line: percentage, packets, rate, ETA", "[cli][progress]") {
  Progress p;
  p.packets = 50'000;
  p.bytes_read = 25'000'000;
  p.bytes_total = 100'000'000;
  // 2 s for a quarter: 6 s to go.
  CHECK(lastack::cli::format_progress(p, 2.0) ==
        "lastack:  25.0%  50.0k packets  25.0k pkt/s  ETA 6s");

  // Unknown total (stdin): no percentage, no ETA.
  p.bytes_total = 0;
  CHECK(lastack::cli::format_progress(p, 2.0) == "lastack: 50.0k packets  25.0k pkt/s");

  // Past the end (a growing file): capped at 100 %, no ETA.
  p.bytes_total = 10'000'000;
  CHECK(lastack::cli::format_progress(p, 2.0) == "lastack: 100.0%  50.0k packets  25.0k pkt/s");

  // No time elapsed yet: no rate.
  CHECK(lastack::cli::format_progress(Progress{}, 0.0) == "lastack: 0 packets");
}

TEST_CASE("progress meter throttles, pads and clears", "[cli][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  double now = 100.0;
  {
    ProgressMeter meter(f, true, [&now] { return now; });
    Progress p;
    p.packets = 123'456'789;
    now += 0.1;
    meter.update(p);  // too soon after the start: nothing
    CHECK(contents(f).empty());
    now += 0.2;
    meter.update(p);
    std::string out = contents(f);
    CHECK(out.rfind("\rlastack: 123.46M packets", 0) == 0);
    const std::size_t first_len = out.size();
    now += 0.1;
    p.packets = 5;
    meter.update(p);  // throttled
    CHECK(contents(f).size() == first_len);
    now += 0.3;
    meter.update(p);  // shorter line: padded over the old one
    out = contents(f);
    const std::string second = out.substr(first_len);
    CHECK(second.size() == first_len);
    CHECK(second.rfind("\rlastack: 5 packets", 0) == 0);
    CHECK(second.back() == ' ');
    meter.clear();
    out = contents(f);
    CHECK(out.back() == '\r');
    const std::size_t cleared_len = out.size();
    meter.clear();  // nothing on the line: nothing written
    CHECK(contents(f).size() == cleared_len);
  }
  std::fclose(f);
}

TEST_CASE("a disabled meter writes nothing", "[cli][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  double now = 0.0;
  {
    ProgressMeter meter(f, false, [&now] { return now; });
    now = 10.0;
    meter.update(Progress{});
    meter.clear();
  }
  CHECK(contents(f).empty());
  std::fclose(f);
}
