// Vantage (detections.md §2): TTL first (the capturing host's own packets carry an initial TTL
// of 64/128/255), handshake timing as the fallback.
#include <catch2/catch.hpp>

#include <string>

#include "support/scripted.h"

using lastack::Duration;
using lastack::findings::Vantage;
using lastack::synth::Conversation;
using lastack::synth::HostSpec;
using lastack::synth::Side;
using lastack::test::ScriptedConnection;
namespace test = lastack::test;

namespace {

struct Estimate {
  Vantage vantage;
  std::string basis;
};

// Handshake with the given gaps (SYN → SYN-ACK, SYN-ACK → ACK), then a little data.
Estimate handshake(std::uint8_t client_ttl, std::uint8_t server_ttl, Duration syn_to_synack,
                   Duration synack_to_ack) {
  const HostSpec client = test::host("10.0.0.1", 40000, 1000, client_ttl);
  const HostSpec server = test::host("10.0.0.2", 80, 5000, server_ttl);
  Conversation c(client, server);
  ScriptedConnection m(c, client);
  c.syn(Side::client);
  c.after(syn_to_synack).syn_ack();
  c.after(synack_to_ack).ack(Side::client);
  c.data(Side::client, 100);
  m.sync();
  Estimate e;
  e.vantage = lastack::detect::estimate_vantage(m.conn(), e.basis);
  return e;
}

Estimate mid_stream(std::uint8_t client_ttl, std::uint8_t server_ttl) {
  const HostSpec client = test::host("10.0.0.1", 40000, 1000, client_ttl);
  const HostSpec server = test::host("10.0.0.2", 80, 5000, server_ttl);
  Conversation c(client, server);
  ScriptedConnection m(c, client, /*mid_stream=*/true);
  c.syn(Side::client, test::lost());
  c.syn_ack(test::lost());
  c.ack(Side::client, test::lost());
  c.data(Side::client, 100);
  c.ack(Side::server);
  m.sync();
  Estimate e;
  e.vantage = lastack::detect::estimate_vantage(m.conn(), e.basis);
  return e;
}

const Duration kMs = Duration::from_ms(1);

}  // namespace

TEST_CASE("vantage by TTL: the side with an initial TTL is the capturing host", "[detect]") {
  auto e = handshake(64, 57, kMs, kMs);
  CHECK(e.vantage == Vantage::near_client);
  CHECK(e.basis == "ttl");
  e = handshake(118, 128, kMs, kMs);
  CHECK(e.vantage == Vantage::near_server);
  CHECK(e.basis == "ttl");
  e = handshake(255, 60, kMs, kMs);
  CHECK(e.vantage == Vantage::near_client);
}

TEST_CASE("vantage by TTL: both decremented and no handshake → in_path", "[detect]") {
  const auto e = mid_stream(60, 50);
  CHECK(e.vantage == Vantage::in_path);
  CHECK(e.basis == "ttl");
}

TEST_CASE("vantage by timing when TTLs do not decide", "[detect]") {
  SECTION("near the client: SYN → SYN-ACK spans the round trip") {
    const auto e = handshake(64, 64, Duration::from_ms(40), Duration{200'000});
    CHECK(e.vantage == Vantage::near_client);
    CHECK(e.basis == "timing");
  }
  SECTION("near the server: SYN-ACK → ACK spans the round trip") {
    const auto e = handshake(64, 64, Duration{200'000}, Duration::from_ms(40));
    CHECK(e.vantage == Vantage::near_server);
    CHECK(e.basis == "timing");
  }
  SECTION("in the path: both halves comparable") {
    const auto e = handshake(64, 64, Duration::from_ms(10), Duration::from_ms(12));
    CHECK(e.vantage == Vantage::in_path);
    CHECK(e.basis == "timing");
  }
  SECTION("both TTLs decremented: timing refines in_path") {
    const auto e = handshake(60, 50, Duration::from_ms(40), Duration{200'000});
    CHECK(e.vantage == Vantage::near_client);
    CHECK(e.basis == "timing");
  }
}

TEST_CASE("vantage unknown: both TTLs initial and no handshake", "[detect]") {
  const auto e = mid_stream(64, 64);
  CHECK(e.vantage == Vantage::unknown);
  CHECK(e.basis == "none");
}

TEST_CASE("the summary carries the vantage", "[detect]") {
  const HostSpec client = test::host("10.0.0.1", 40000, 1000, 64);
  const HostSpec server = test::host("10.0.0.2", 80, 5000, 52);
  Conversation c(client, server);
  c.handshake();
  const auto a = test::analyze(c);
  CHECK(a.summary(1).vantage == Vantage::near_client);
}
