// TCP sequence numbers live in a 32-bit circle: comparisons are serial (RFC 1982, RFC 9293 §3.4),
// so this type has no way to compare raw uint32_t values by accident.
#pragma once

#include <cstdint>

namespace lastack {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t raw) : raw_(raw) {}

  [[nodiscard]] constexpr std::uint32_t raw() const { return raw_; }

  // Signed distance from `from` to this, in (-2^31, 2^31].
  [[nodiscard]] constexpr std::int32_t since(SeqNum from) const {
    return static_cast<std::int32_t>(raw_ - from.raw_);
  }
  constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(raw_ + n); }
  constexpr SeqNum operator-(std::uint32_t n) const { return SeqNum(raw_ - n); }
  constexpr bool operator==(const SeqNum&) const = default;

  friend constexpr bool operator<(SeqNum a, SeqNum b) { return a.since(b) < 0; }
  friend constexpr bool operator>(SeqNum a, SeqNum b) { return a.since(b) > 0; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) { return a.since(b) <= 0; }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) { return a.since(b) >= 0; }

  // True when lo <= this < lo + len (serially), the RFC 9293 §3.4 window test.
  [[nodiscard]] constexpr bool in_window(SeqNum lo, std::uint32_t len) const {
    return static_cast<std::uint32_t>(raw_ - lo.raw_) < len;
  }

 private:
  std::uint32_t raw_ = 0;
};

}  // namespace lastack
