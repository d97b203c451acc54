// Targeted checks on the real-kernel captures of samples/real (see samples/real/README.md for
// how each was recorded): each yields exactly its expected findings, and every connection has
// the right client, close kind, active closer and TIME_WAIT holder. These are written by hand
// from the recordings, so a wrong golden cannot be accepted unread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>

#include "support/golden.h"

namespace {

struct ExpectedFinding {
  const char* sample;
  const char* kind;
  const char* cause;
  const char* severity;
  const char* confidence;
  std::vector<int> frames;
};

// clang-format off
const std::vector<ExpectedFinding> kExpected = {
  {"data_after_close.client", "rst_after_close", "data_after_close", "error", "confirmed", {10, 11}},
  {"data_after_close.server", "rst_after_close", "data_after_close", "error", "confirmed", {10, 11}},
  {"first_fin_lost.server", "fin_retransmit", "fin_not_acknowledged", "info", "confirmed", {8, 9, 10}},
  {"ipv6_lost_final_ack.client", "fin_retransmit", "final_ack_lost", "info", "confirmed", {10, 12, 13}},
  {"ipv6_lost_final_ack.client", "lost_final_ack", "reacked", "warning", "confirmed", {10, 11, 12, 13}},
  {"ipv6_lost_final_ack.server", "fin_retransmit", "final_ack_lost", "info", "confirmed", {10, 11, 12}},
  {"ipv6_lost_final_ack.server", "lost_final_ack", "reacked", "warning", "probable", {10, 11, 12}},
  {"linger_zero.client", "abortive_close", "linger_zero", "warning", "confirmed", {10}},
  {"linger_zero.server", "abortive_close", "linger_zero", "warning", "confirmed", {10}},
  {"lost_final_ack.client", "fin_retransmit", "final_ack_lost", "info", "confirmed", {10, 12, 13}},
  {"lost_final_ack.client", "lost_final_ack", "reacked", "warning", "confirmed", {10, 11, 12, 13}},
  {"lost_final_ack.server", "fin_retransmit", "final_ack_lost", "info", "confirmed", {10, 11, 12}},
  {"lost_final_ack.server", "lost_final_ack", "reacked", "warning", "probable", {10, 11, 12}},
  {"lost_final_ack_x3.client", "fin_retransmit", "final_ack_lost", "warning", "confirmed", {10, 12, 14, 16, 17}},
  {"lost_final_ack_x3.client", "lost_final_ack", "reacked", "warning", "confirmed", {10, 11, 12, 13, 14, 15, 16, 17}},
  {"lost_final_ack_x3.server", "fin_retransmit", "final_ack_lost", "warning", "confirmed", {10, 11, 12, 13, 14}},
  {"lost_final_ack_x3.server", "lost_final_ack", "reacked", "warning", "probable", {10, 11, 12, 13, 14}},
  {"no_time_wait_rst.client", "fin_retransmit", "final_ack_lost", "warning", "confirmed", {10, 12}},
  {"no_time_wait_rst.client", "lost_final_ack", "reset", "error", "confirmed", {10, 11, 12, 13}},
  {"no_time_wait_rst.client", "rst_after_close", "no_time_wait", "error", "confirmed", {12, 13}},
  {"no_time_wait_rst.server", "fin_retransmit", "final_ack_lost", "warning", "confirmed", {10, 11}},
  {"no_time_wait_rst.server", "lost_final_ack", "reset", "error", "probable", {10, 11, 12}},
  {"no_time_wait_rst.server", "rst_after_close", "no_time_wait", "error", "confirmed", {11, 12}},
  {"orphan_fin_wait2_rst.client", "rst_after_close", "no_time_wait", "error", "confirmed", {10, 11}},
  {"orphan_fin_wait2_rst.server", "rst_after_close", "no_time_wait", "error", "confirmed", {10, 11}},
  {"reuse_client_active.client", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {10, 11}},
  {"reuse_client_active.server", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {10, 11}},
  {"reuse_server_active.client", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {10, 11}},
  {"reuse_server_active.server", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {10, 11}},
  {"stale_segment_nots.client", "tuple_reuse", "unsafe", "warning", "confirmed", {188, 189}},
  {"stale_segment_nots.client", "stale_segment", "stale_data", "critical", "confirmed", {293}},
  {"stale_segment_nots.server", "tuple_reuse", "unsafe", "warning", "confirmed", {188, 189}},
  {"stale_segment_nots.server", "stale_segment", "stale_data", "critical", "confirmed", {293}},
  {"stale_segment_nots_badack.client", "tuple_reuse", "unsafe", "warning", "confirmed", {188, 189}},
  {"stale_segment_nots_badack.client", "stale_segment", "stale_data", "warning", "confirmed", {246}},
  {"stale_segment_nots_badack.server", "tuple_reuse", "unsafe", "warning", "confirmed", {188, 189}},
  {"stale_segment_nots_badack.server", "stale_segment", "stale_data", "warning", "confirmed", {246}},
  {"stale_segment_ts.client", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {193, 194}},
  {"stale_segment_ts.client", "stale_segment", "stale_data", "warning", "confirmed", {217}},
  {"stale_segment_ts.server", "tuple_reuse", "rfc6191_safe", "info", "confirmed", {193, 194}},
  {"stale_segment_ts.server", "stale_segment", "stale_data", "warning", "confirmed", {217}},
  {"syn_in_last_ack.client", "tuple_reuse", "while_last_ack", "error", "confirmed", {10, 11}},
  {"syn_in_last_ack.client", "lost_final_ack", "ended_by_reuse", "error", "confirmed", {9, 10, 12, 13}},
  {"syn_in_last_ack.client", "rst_after_close", "reuse_rejected", "error", "confirmed", {12, 13}},
  {"syn_in_last_ack.server", "tuple_reuse", "while_last_ack", "error", "confirmed", {9, 10}},
  {"syn_in_last_ack.server", "lost_final_ack", "ended_by_reuse", "error", "probable", {9, 11, 12}},
  {"syn_in_last_ack.server", "rst_after_close", "reuse_rejected", "error", "confirmed", {11, 12}},
};
// clang-format on

using Row = std::tuple<std::string, std::string, std::string, std::string, std::vector<int>>;

std::string describe(const Row& r) {
  std::ostringstream o;
  o << std::get<0>(r) << "/" << std::get<1>(r) << " " << std::get<2>(r) << " " << std::get<3>(r)
    << " frames";
  for (int f : std::get<4>(r)) o << " " << f;
  return o.str();
}

std::string sample_path(const std::string& name) {
  return "samples/real/" + name + ".pcap";
}

}  // namespace

TEST_CASE("each real sample yields exactly its expected findings", "[real]") {
  for (const std::string& sample : lastack::test::sample_files()) {
    if (sample.rfind("samples/real/", 0) != 0) continue;
    const std::string name = sample.substr(13, sample.size() - 13 - 5);
    // The TIME_WAIT pressure recordings (hundreds of connections) have their exact checks in
    // time_wait_pressure_test.cpp.
    if (name.rfind("port_exhaustion", 0) == 0 || name.rfind("server_close_many", 0) == 0) continue;
    DYNAMIC_SECTION(name) {
      std::multiset<std::string> expected;
      for (const ExpectedFinding& e : kExpected) {
        if (name == e.sample) {
          expected.insert(describe({e.kind, e.cause, e.severity, e.confidence, e.frames}));
        }
      }
      const nlohmann::json report = lastack::test::analyze_sample(sample);
      std::multiset<std::string> actual;
      for (const auto& f : report["findings"]) {
        actual.insert(describe({f["kind"], f["cause"], f["severity"], f["confidence"],
                                f["frames"].get<std::vector<int>>()}));
      }
      CHECK(actual == expected);
    }
  }
}

namespace {

struct ExpectedConnection {
  const char* sample;  // both vantage points are checked
  int connections;
  const char* close_kind;
  const char* active_closer;
  const char* time_wait_holder;
  bool final_ack_seen_near_client;
  bool final_ack_seen_near_server;  // a final ACK dropped in the router never reaches s0
};

const std::vector<ExpectedConnection> kConnections = {
    {"client_close", 1, "fin", "client", "client", true, true},
    {"server_close", 3, "fin", "server", "server", true, true},
    {"half_close", 1, "fin", "client", "client", true, true},
    {"simultaneous_close", 1, "fin", "both", "both", true, true},
    {"keepalive", 1, "fin", "client", "client", true, true},
    {"zero_window", 1, "fin", "client", "client", true, true},
    {"lost_final_ack", 1, "fin", "client", "client", true, true},
    {"first_fin_lost", 1, "fin", "server", "server", true, true},
    {"linger_zero", 1, "abortive", "none", "none", false, false},
    {"no_time_wait_rst", 1, "rst", "client", "client", true, false},
};

}  // namespace

TEST_CASE("real samples: every connection has the right ends, close and TIME_WAIT holder",
          "[real]") {
  for (const ExpectedConnection& e : kConnections) {
    for (const char* vantage : {"client", "server"}) {
      const std::string name = std::string(e.sample) + "." + vantage;
      DYNAMIC_SECTION(name) {
        const nlohmann::json report = lastack::test::analyze_sample(sample_path(name));
        const auto& conns = report["connections"];
        REQUIRE(conns.size() == static_cast<std::size_t>(e.connections));
        for (const auto& c : conns) {
          // The recordings put the client at 10.77.1.2 (or fd77:1::2) and the server on 8080.
          CHECK(c["client"].get<std::string>().rfind("10.77.1.2:", 0) == 0);
          CHECK(c["server"] == "10.77.2.2:8080");
          CHECK(c["close_kind"] == e.close_kind);
          CHECK(c["active_closer"] == e.active_closer);
          CHECK(c["time_wait_holder"] == e.time_wait_holder);
          const bool near_client = std::string(vantage) == "client";
          CHECK(c["final_ack_seen"] ==
                (near_client ? e.final_ack_seen_near_client : e.final_ack_seen_near_server));
          CHECK(c["handshake_seen"] == true);
          CHECK(c["vantage"] == std::string("near_") + vantage);
        }
      }
    }
  }
}

TEST_CASE("real samples: a reused four-tuple gives two incarnations", "[real]") {
  for (const char* name : {"reuse_client_active.client", "reuse_server_active.server",
                           "syn_in_last_ack.client", "stale_segment_nots.server"}) {
    DYNAMIC_SECTION(name) {
      const nlohmann::json report = lastack::test::analyze_sample(sample_path(name));
      REQUIRE(report["connections"].size() == 2);
      CHECK(report["connections"][0]["incarnation"] == 1);
      CHECK(report["connections"][1]["incarnation"] == 2);
      CHECK(report["connections"][0]["client"] == report["connections"][1]["client"]);
    }
  }
}
