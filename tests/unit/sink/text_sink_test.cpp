#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "lastack/sink/sinks.h"
#include "support/report_fixture.h"

namespace f = lastack::findings;

namespace {

std::vector<std::string> summary_lines(const f::Report& r) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  lastack::sink::write_text_summary(r, out);
  std::fclose(out);
  std::stringstream ss(std::string(buf, size));
  std::free(buf);
  std::vector<std::string> lines;
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("Text summary: inputs, counts, severities, kinds and one line per finding",
          "[sink][text]") {
  const auto lines = summary_lines(lastack::test::make_fixture_report());
  CHECK(lines == std::vector<std::string>{
                     "input captures/rot-0.pcap: pcap, 120 packets",
                     "input captures/rot-1.pcapng.gz: pcapng+gzip, 80 packets [truncated at "
                     "byte 4096: the last record is cut short (need 66 bytes, have 20)]",
                     "packets 200, tcp 180, connections 4, late segments 2 (not analysed)",
                     "findings 4: error 2, warning 1, info 1", "  abortive_close 1",
                     "  fin_retransmit 1", "  lost_final_ack 1", "  tuple_reuse 1",
                     "2026-11-21T09:00:01.210000000Z 10.0.0.1:40000 -> 10.0.0.2:80 #1 "
                     "fin_retransmit/final_ack_lost info frames 31,34: server sent its FIN "
                     "twice (fin_seq 1449): the client's final ACK was lost",
                     "2026-11-21T09:00:01.210000000Z 10.0.0.1:40000 -> 10.0.0.2:80 #1 "
                     "lost_final_ack/reacked warning frames 31,33,34: server re-sent its FIN "
                     "0.21 s after the client's final ACK: the ACK was lost after the capture "
                     "point; the client, still in TIME_WAIT, ACKed again",
                     "2026-11-21T09:01:00.100000000Z 10.0.0.1:40000 -> 10.0.0.2:80 #2 "
                     "tuple_reuse/while_last_ack error frames 0:118,1:2: the client reopened "
                     "10.0.0.1:40000 -> 10.0.0.2:80 while the server was still in LAST_ACK; "
                     "the first SYN was answered with a challenge ACK and the connection took "
                     "1.1 s longer",
                     "2026-11-21T09:01:00.400000000Z [2001:db8::1]:51000 -> [2001:db8::2]:443 "
                     "#1 abortive_close/unread_data error frames 7,9: the server reset the "
                     "connection with 300 bytes from the client unread"});
}

TEST_CASE("Text summary says no findings when there are none", "[sink][text]") {
  const auto lines = summary_lines(lastack::test::make_quiet_report());
  CHECK(lines == std::vector<std::string>{"input captures/rot-0.pcap: pcap, 120 packets",
                                          "packets 120, tcp 120, connections 2", "no findings"});
}

TEST_CASE("Text summary is deterministic", "[sink][text]") {
  CHECK(summary_lines(lastack::test::make_fixture_report()) ==
        summary_lines(lastack::test::make_fixture_report()));
}

TEST_CASE("Text summary says when the analysis degraded", "[sink][text][flood]") {
  f::Report r = lastack::test::make_quiet_report();
  f::Degradation d;
  d.memcap_bytes = 96ULL << 20;
  d.evicted_half_open = 12;
  r.degraded = d;
  const auto lines = summary_lines(r);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2] ==
        "degraded: memory cap 96 MiB reached: 12 half-open attempts counted, not analysed; 0 "
        "connections finalised early");
}

TEST_CASE("Text summary says when TIME_WAIT pressure applied events late", "[sink][text][tw]") {
  f::Report r = lastack::test::make_quiet_report();
  r.time_wait = f::TimeWaitPressure{};
  CHECK(summary_lines(r).size() == 3);  // nothing late: nothing said
  r.time_wait->late_events = 3;
  const auto lines = summary_lines(r);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2] ==
        "time_wait: 3 events came after the streaming window and were applied at its edge "
        "(counts around them approximate)");
}
