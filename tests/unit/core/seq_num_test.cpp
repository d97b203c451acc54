#include <catch2/catch.hpp>

#include "lastack/core/seq_num.h"

using lastack::SeqNum;

TEST_CASE("SeqNum compares serially across the 2^32 wrap", "[core][seq]") {
  const SeqNum near_top(0xFFFFFFF0u);
  const SeqNum wrapped = near_top + 0x20u;  // 0x00000010
  CHECK(wrapped.raw() == 0x10u);
  CHECK(near_top < wrapped);
  CHECK(wrapped > near_top);
  CHECK(wrapped.since(near_top) == 0x20);
  CHECK(near_top.since(wrapped) == -0x20);
  CHECK_FALSE(wrapped < near_top);
}

TEST_CASE("SeqNum window test is half-open and wrap-safe", "[core][seq]") {
  const SeqNum lo(0xFFFFFF00u);
  CHECK(SeqNum(0xFFFFFF00u).in_window(lo, 0x200));
  CHECK(SeqNum(0x000000FFu).in_window(lo, 0x200));
  CHECK_FALSE(SeqNum(0x00000100u).in_window(lo, 0x200));
  CHECK_FALSE(SeqNum(0xFFFFFEFFu).in_window(lo, 0x200));
  CHECK_FALSE(lo.in_window(lo, 0));
}
