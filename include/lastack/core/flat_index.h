// A key → small integer index (a position in the caller's own storage) for tables that see a
// lookup per packet or several per connection: a flat open-addressing table rather than a node
// per entry. Linear probing over a power-of-two array of {hash, value, key} slots (no pointer to
// chase, usually one cache line per lookup), grown at 70 % load, and erased by backward shift —
// no tombstones, so probe lengths do not degrade under the constant insert/erase churn of
// connections coming and going. `Hash` is the only hash of the key; its low 32 bits are kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lastack/core/prefetch.h"

namespace lastack {

template <class Key, class Hash>
class FlatIndex {
 public:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;  // a slot's value when unused

  FlatIndex() { slots_.resize(kMinCapacity); }

  // The value stored for `key`, or nullptr.
  [[nodiscard]] const std::uint32_t* find(const Key& key) const {
    const Slot& s = slots_[probe(key, hash_of(key))];
    return s.value == kEmpty ? nullptr : &s.value;
  }

  // Inserts key → value (value != kEmpty) unless the key is present. Returns the value now
  // stored for the key and whether it was inserted.
  std::pair<std::uint32_t, bool> try_emplace(const Key& key, std::uint32_t value) {
    Slot& s = slot_for(key);
    if (s.value != kEmpty) return {s.value, false};
    s.value = value;
    ++size_;
    return {value, true};
  }

  // Stores key → value (value != kEmpty) in one probe; returns what the key had (kEmpty: it
  // was absent).
  std::uint32_t exchange(const Key& key, std::uint32_t value) {
    Slot& s = slot_for(key);
    const std::uint32_t old = s.value;
    if (old == kEmpty) ++size_;
    s.value = value;
    return old;
  }

  // Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4 Algorithm R): after emptying a slot, move
  // back every later entry of the run whose home slot does not lie cyclically between the hole
  // and it, so every remaining key stays reachable from its home without tombstones. False when
  // the key was absent.
  bool erase(const Key& key) {
    const std::uint32_t h = hash_of(key);
    std::size_t hole = h & mask();
    for (;; hole = (hole + 1) & mask()) {
      if (slots_[hole].value == kEmpty) return false;
      if (slots_[hole].hash == h && slots_[hole].key == key) break;
    }
    for (std::size_t j = (hole + 1) & mask(); slots_[j].value != kEmpty; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      // Distance from home to j versus from home to the hole, both cyclic.
      if (((j - home) & mask()) >= ((j - hole) & mask())) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].value = kEmpty;
    --size_;
    return true;
  }

  // Starts loading the slot where a lookup of `key` begins, for a caller that knows its next keys
  // ahead (a hint: the lookup itself stays correct whatever happens in between).
  void prefetch(const Key& key) const { lastack::prefetch(&slots_[hash_of(key) & mask()]); }

  void clear() {
    for (Slot& s : slots_) s.value = kEmpty;
    size_ = 0;
  }

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
    Key key{};
  };

  static std::uint32_t hash_of(const Key& key) { return static_cast<std::uint32_t>(Hash{}(key)); }
  [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }

  // The slot holding `key`, else the empty slot that ends its probe run.
  [[nodiscard]] std::size_t probe(const Key& key, std::uint32_t h) const {
    std::size_t i = h & mask();
    while (slots_[i].value != kEmpty && !(slots_[i].hash == h && slots_[i].key == key)) {
      i = (i + 1) & mask();
    }
    return i;
  }

  // The slot holding `key`, else an empty one stamped with it (room made first; the caller
  // sets the value and counts it).
  Slot& slot_for(const Key& key) {
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    const std::uint32_t h = hash_of(key);
    Slot& s = slots_[probe(key, h)];
    if (s.value == kEmpty) {
      s.hash = h;
      s.key = key;
    }
    return s;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.value == kEmpty) continue;
      std::size_t i = s.hash & mask();
      while (slots_[i].value != kEmpty) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace lastack
