// The flow table's index: four-tuple → a small integer (the flow's slot in the table's own
// storage). One lookup per packet, so it is a flat open-addressing table rather than a node
// per entry: linear probing over a power-of-two array of {hash, value, key} slots (no pointer
// to chase, usually one cache line per lookup), grown at 70 % load, and erased by backward
// shift — no tombstones, so probe lengths do not degrade under the constant insert/erase churn
// of connections coming and going. tcp::FourTupleHash is the only hash of the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lastack/tcp/four_tuple.h"

namespace lastack::flow {

class FlatFlowMap {
 public:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;  // a slot's value when unused

  FlatFlowMap() { slots_.resize(kMinCapacity); }

  // The value stored for `key`, or nullptr.
  [[nodiscard]] const std::uint32_t* find(const tcp::FourTuple& key) const {
    const std::uint32_t h = hash_of(key);
    for (std::size_t i = h & mask(); slots_[i].value != kEmpty; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && slots_[i].key == key) return &slots_[i].value;
    }
    return nullptr;
  }

  // Inserts key → value (value != kEmpty) unless the key is present. Returns the value now
  // stored for the key and whether it was inserted.
  std::pair<std::uint32_t, bool> try_emplace(const tcp::FourTuple& key, std::uint32_t value) {
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    const std::uint32_t h = hash_of(key);
    std::size_t i = h & mask();
    for (; slots_[i].value != kEmpty; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && slots_[i].key == key) return {slots_[i].value, false};
    }
    slots_[i] = Slot{h, value, key};
    ++size_;
    return {value, true};
  }

  // Removes the key; false when it was absent.
  bool erase(const tcp::FourTuple& key);
  void clear();

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t capacity() const { return slots_.size(); }
  // Bytes per slot, for memory accounting.
  static constexpr std::size_t slot_bytes() { return sizeof(Slot); }

  // Calls fn(key, value) for every entry, in slot order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.value != kEmpty) fn(s.key, s.value);
    }
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;

  // The hash is kept so that probing rejects most other keys without comparing them, and so
  // that growing and backward shifting never rehash.
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t value = kEmpty;
    tcp::FourTuple key;
  };

  static std::uint32_t hash_of(const tcp::FourTuple& key) {
    return static_cast<std::uint32_t>(tcp::FourTupleHash{}(key));
  }
  [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }
  void grow();

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace lastack::flow
