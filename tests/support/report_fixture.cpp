#include "support/report_fixture.h"

#include <cstdlib>
#include <utility>

#include "lastack/core/ip_address.h"

namespace lastack::test {

namespace f = findings;

namespace {

Timestamp at_ms(std::int64_t ms) {
  return Timestamp{kFixtureBaseNs + ms * 1'000'000};
}

f::ConnectionSummary connection(std::uint64_t id, const char* client, std::uint16_t cport,
                                const char* server, std::uint16_t sport) {
  f::ConnectionSummary c;
  c.id = id;
  c.client_ip = fixture_ip(client);
  c.client_port = cport;
  c.server_ip = fixture_ip(server);
  c.server_port = sport;
  return c;
}

f::InputReport first_input() {
  f::InputReport in;
  in.path = "captures/rot-0.pcap";
  in.format = "pcap";
  in.link_types = {"EN10MB"};
  in.packets = 120;
  in.size_bytes = 9'024;
  in.first_ts = at_ms(0);
  in.last_ts = at_ms(59'000);
  return in;
}

f::InputReport second_input() {
  f::InputReport in;
  in.path = "captures/rot-1.pcapng.gz";
  in.format = "pcapng";
  in.compression = "gzip";
  in.link_types = {"EN10MB", "LINUX_SLL2"};
  in.packets = 80;
  in.size_bytes = 4'200;
  in.first_ts = at_ms(60'000);
  in.last_ts = at_ms(61'500);
  in.status = "truncated";
  in.error = "the last record is cut short (need 66 bytes, have 20)";
  in.error_offset = 4'096;
  in.interface_drops = 3;
  return in;
}

f::ConnectionSummary closed_connection() {
  f::ConnectionSummary c = connection(1, "10.0.0.1", 40000, "10.0.0.2", 80);
  c.first_frame = 1;
  c.first_ts = at_ms(0);
  c.last_ts = at_ms(1'210);
  c.handshake_seen = true;
  c.close_kind = f::CloseKind::fin;
  c.active_closer = f::Side::client;
  c.time_wait_holder = f::Side::client;
  c.time_wait_start = at_ms(1'000);
  c.final_ack_seen = true;
  c.client_final_state = "TIME_WAIT";
  c.server_final_state = "CLOSED";
  c.client = {7, 517, 1, 1, 0};
  c.server = {6, 1'448, 1, 2, 0};
  c.history = "ShADadFfF";
  c.vantage = f::Vantage::near_client;
  return c;
}

f::ConnectionSummary reused_connection() {
  f::ConnectionSummary c = connection(2, "10.0.0.1", 40000, "10.0.0.2", 80);
  c.incarnation = 2;
  c.first_frame = 118;
  c.first_ts = at_ms(59'000);
  c.last_ts = at_ms(60'100);
  c.handshake_seen = true;
  c.client_final_state = "ESTABLISHED";
  c.server_final_state = "ESTABLISHED";
  c.client = {4, 0, 2, 0, 1};
  c.server = {2, 0, 1, 0, 0};
  c.history = "SaRSsA";
  c.vantage = f::Vantage::near_client;
  return c;
}

f::ConnectionSummary aborted_connection() {
  f::ConnectionSummary c = connection(3, "2001:db8::1", 51000, "2001:db8::2", 443);
  c.input = 1;
  c.interface_id = 1;
  c.first_frame = 1;
  c.first_ts = at_ms(60'000);
  c.last_ts = at_ms(60'400);
  c.handshake_seen = true;
  c.close_kind = f::CloseKind::abortive;
  c.active_closer = f::Side::server;
  c.client_final_state = "CLOSED";
  c.server_final_state = "CLOSED";
  c.client = {4, 1'200, 1, 0, 0};
  c.server = {4, 300, 1, 0, 1};
  c.history = "ShADadR";
  c.vantage = f::Vantage::near_server;
  return c;
}

f::ConnectionSummary open_connection() {
  f::ConnectionSummary c = connection(4, "192.168.1.5", 33000, "192.168.1.9", 22);
  c.first_frame = 40;
  c.first_ts = at_ms(2'000);
  c.last_ts = at_ms(58'000);
  c.mid_stream = true;
  c.client_final_state = "ESTABLISHED";
  c.server_final_state = "ESTABLISHED";
  c.client = {30, 2'000, 0, 0, 0};
  c.server = {28, 9'000, 0, 0, 0};
  c.history = "Dd";
  return c;
}

f::Finding lost_final_ack() {
  f::Finding fd;
  fd.kind = "lost_final_ack";
  fd.cause = "reacked";
  fd.severity = f::Severity::warning;
  fd.connection_id = 1;
  fd.ts = at_ms(1'210);
  fd.frames = {{0, 31}, {0, 33}, {0, 34}};
  fd.message =
      "server re-sent its FIN 0.21 s after the client's final ACK: the ACK was lost after the "
      "capture point; the client, still in TIME_WAIT, ACKed again";
  // 1.21 - 1.0 is 0.20999999999999996 in binary: the sink must print 0.21.
  fd.evidence = {{"fin_transmissions", std::int64_t{2}},
                 {"intervals_s", std::vector<double>{1.21 - 1.0}},
                 {"vantage", std::string("near_client")},
                 {"final_ack_captured", true}};
  fd.links = {{1, "fin_retransmit"}};
  return fd;
}

f::Finding fin_retransmit() {
  f::Finding fd;
  fd.kind = "fin_retransmit";
  fd.cause = "final_ack_lost";
  fd.severity = f::Severity::info;
  fd.connection_id = 1;
  fd.ts = at_ms(1'210);
  fd.frames = {{0, 31}, {0, 34}};
  fd.message = "server sent its FIN twice (fin_seq 1449): the client's final ACK was lost";
  fd.evidence = {{"count", std::int64_t{2}},
                 {"fin_seq", std::int64_t{1449}},
                 {"intervals_s", std::vector<double>{0.21}},
                 {"backoff", 1.0}};
  fd.links = {{1, "lost_final_ack"}};
  return fd;
}

f::Finding tuple_reuse() {
  f::Finding fd;
  fd.kind = "tuple_reuse";
  fd.cause = "while_last_ack";
  fd.severity = f::Severity::error;
  fd.connection_id = 2;
  fd.ts = at_ms(60'100);
  fd.frames = {{0, 118}, {1, 2}};
  fd.message =
      "the client reopened 10.0.0.1:40000 -> 10.0.0.2:80 while the server was still in LAST_ACK; "
      "the first SYN was answered with a challenge ACK and the connection took 1.1 s longer";
  fd.evidence = {{"gap_s", 57.79},
                 {"isn_delta", std::int64_t{-123456}},
                 {"syn_retransmits", std::int64_t{1}},
                 {"tsvals", std::vector<std::int64_t>{1000, 1059}}};
  fd.links = {{1, "lost_final_ack"}};
  return fd;
}

f::Finding abortive_close() {
  f::Finding fd;
  fd.kind = "abortive_close";
  fd.cause = "unread_data";
  fd.severity = f::Severity::error;
  fd.confidence = f::Confidence::probable;
  fd.connection_id = 3;
  fd.ts = at_ms(60'400);
  fd.frames = {{1, 7}, {1, 9}};
  fd.message = "the server reset the connection with 300 bytes from the client unread";
  fd.evidence = {{"unacked_bytes_c2s", std::int64_t{300}}, {"unacked_bytes_s2c", std::int64_t{0}}};
  fd.links = {{3, "stale_segment"}};  // never produced: finalize() must drop it
  return fd;
}

}  // namespace

IpAddress fixture_ip(const char* text) {
  IpAddress a;
  if (!parse_ip(text, a)) std::abort();
  return a;
}

f::Report make_fixture_report() {
  f::Report r;
  r.tool_version = "0.1.0-test";
  r.settings.filter = "tcp port 80 or tcp port 443";
  r.inputs = {first_input(), second_input()};
  r.counters.packets = 200;
  r.counters.tcp_packets = 180;
  r.counters.not_ip = 6;
  r.counters.not_tcp = 9;
  r.counters.fragments = 2;
  r.counters.duplicates = 1;
  r.counters.late_segments = 2;
  r.counters.malformed = {{"tcp_header_too_short", 1}, {"ip_bad_length", 1}};
  r.connection_count = 4;
  // Out of id order on purpose; finalize() sorts them.
  r.connections = {reused_connection(), closed_connection(), open_connection(),
                   aborted_connection()};
  r.findings = {abortive_close(), tuple_reuse(), lost_final_ack(), fin_retransmit()};
  r.finalize();
  return r;
}

f::Report make_quiet_report() {
  f::Report r;
  r.tool_version = "0.1.0-test";
  r.settings.fail_on = std::nullopt;
  r.inputs = {first_input()};
  r.counters.packets = 120;
  r.counters.tcp_packets = 120;
  r.connection_count = 2;
  f::ConnectionSummary a = closed_connection();
  a.final_ack_seen = true;
  f::ConnectionSummary b = open_connection();
  b.id = 2;
  r.connections = {a, b};
  r.finalize();
  return r;
}

}  // namespace lastack::test
