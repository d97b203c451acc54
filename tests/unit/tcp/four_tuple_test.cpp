// The flow key: canonical order, and the scope (VLAN) that keeps equal addresses and ports on
// different links apart, in equality and in the hash.
#include <catch2/catch.hpp>

#include <type_traits>

#include "lastack/tcp/four_tuple.h"
#include "support/scripted.h"

using lastack::tcp::Dir;
using lastack::tcp::FourTuple;
using lastack::tcp::FourTupleHash;
namespace test = lastack::test;

TEST_CASE("four-tuple: both directions give one key, and the VLAN is part of it", "[tcp][scope]") {
  static_assert(std::is_trivially_copyable_v<FourTuple>);
  const auto a = test::ip("10.0.0.1");
  const auto b = test::ip("10.0.0.2");
  Dir d1;
  Dir d2;
  const FourTuple k = FourTuple::from_packet(a, 40000, b, 80, d1, 10);
  const FourTuple back = FourTuple::from_packet(b, 80, a, 40000, d2, 10);
  CHECK(k == back);
  CHECK(d1 == Dir::a_to_b);
  CHECK(d2 == Dir::b_to_a);
  CHECK(k.vlan() == 10);
  CHECK(FourTupleHash{}(k) == FourTupleHash{}(back));

  const FourTuple other_vlan = FourTuple::from_packet(a, 40000, b, 80, d1, 20);
  const FourTuple untagged = FourTuple::from_packet(a, 40000, b, 80, d1);
  CHECK_FALSE(k == other_vlan);
  CHECK_FALSE(k == untagged);
  CHECK(untagged.scope == 0);
  CHECK(FourTupleHash{}(k) != FourTupleHash{}(other_vlan));
  CHECK(FourTupleHash{}(k) != FourTupleHash{}(untagged));

  // Only the 12 bits of a VLAN id make the VLAN; the bits above belong to the flow table.
  const FourTuple wide = FourTuple::from_packet(a, 40000, b, 80, d1, 0xF00A);
  CHECK(wide.vlan() == 10);
  CHECK(wide == k);
  FourTuple split = k;
  split.scope |= 1u << FourTuple::kScopeInterfaceShift;
  CHECK_FALSE(split == k);
  CHECK(split.vlan() == 10);
  CHECK(FourTupleHash{}(split) != FourTupleHash{}(k));
}
