// half_open_flood: one finding about the evicted half-open attempts, none without them.
#include <catch2/catch.hpp>

#include "lastack/detect/half_open_flood.h"
#include "support/scripted.h"

namespace f = lastack::findings;
using lastack::test::evidence;

namespace {

f::Degradation flood() {
  f::Degradation d;
  d.memcap_bytes = 96ULL << 20;
  d.evicted_half_open = 900;
  d.targets = {{lastack::test::ip("10.30.0.1"), 80, 600},
               {lastack::test::ip("10.30.0.2"), 443, 300}};
  d.first_half_open_frame = lastack::FrameRef{0, 3};
  d.first_half_open_ts = lastack::test::kT0;
  return d;
}

}  // namespace

TEST_CASE("half_open_flood: evicted attempts give one warning about the top target",
          "[detect][flood]") {
  const auto fd = lastack::detect::detect_half_open_flood(flood());
  REQUIRE(fd);
  CHECK(fd->kind == "half_open_flood");
  CHECK(fd->cause == "evicted_half_open");
  CHECK(fd->severity == f::Severity::warning);
  CHECK(fd->connection_id == 0);
  CHECK(fd->subject == "server 10.30.0.1:80");
  CHECK(fd->ts == lastack::test::kT0);
  REQUIRE(fd->frames.size() == 1);
  CHECK(fd->frames[0].frame_no == 3);
  CHECK(evidence<std::int64_t>(*fd, "evicted_half_open") == 900);
  CHECK(evidence<std::string>(*fd, "top_target") == "10.30.0.1:80");
  CHECK(evidence<std::int64_t>(*fd, "top_target_half_open") == 600);
  CHECK(evidence<std::string>(*fd, "top_targets") == "10.30.0.1:80 (600), 10.30.0.2:443 (300)");
  CHECK(fd->message.find("900 half-open") == 0);
}

TEST_CASE("half_open_flood: nothing when only live connections were evicted", "[detect][flood]") {
  f::Degradation d;
  d.evicted_live = 5;
  CHECK_FALSE(lastack::detect::detect_half_open_flood(d));
  f::Report r;
  lastack::detect::analyze_half_open_flood(r);  // not degraded at all
  CHECK(r.findings.empty());
  r.degraded = flood();
  lastack::detect::analyze_half_open_flood(r);
  CHECK(r.findings.size() == 1);
}
