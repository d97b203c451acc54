// A key → small integer index (a position in the caller's own storage) for tables that see a
// lookup per packet or several per connection: a flat open-addressing table rather than a node
// per entry. Linear probing over a power-of-two array of {hash, value} slots, grown at 70 % load,
// and erased by backward shift — no tombstones, so probe lengths do not degrade under the
// constant insert/erase churn of connections coming and going. `Hash` is the only hash of the
// key; its low 32 bits are kept.
//
// Where the key is: by default in the slot too (no pointer to chase). When the caller's storage
// already holds each entry's key, `KeyOf` (key_of(value) → that key) lets the slots hold only
// {hash, value}: 8 bytes instead of a four-tuple's 48, so six times as many slots share the
// cache, and a key is read from the caller's entry only when its hash matches. The caller then
// sets an entry's key before inserting its value and keeps it until the value is erased.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "lastack/core/huge_pages.h"
#include "lastack/core/prefetch.h"

namespace lastack {

// The default KeyOf: each slot keeps its key.
struct KeyInSlot {};

template <class Key, class Hash, class KeyOf = KeyInSlot>
class FlatIndex {
  static constexpr bool kKeyInSlot = std::is_same_v<KeyOf, KeyInSlot>;

 public:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;  // a slot's value when unused

  FlatIndex() requires kKeyInSlot { slots_.resize(kMinCapacity); }
  explicit FlatIndex(KeyOf key_of) requires(!kKeyInSlot) : key_of_(std::move(key_of)) {
    slots_.resize(kMinCapacity);
  }

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
      if (holds(slots_[hole], h, key)) break;
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
      if (s.value != kEmpty) fn(key_of(s), s.value);
    }
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;

  // The hash is kept so that probing rejects most other keys without comparing them, and so
  // that growing and backward shifting never rehash.
  struct BareSlot {
    std::uint32_t hash = 0;
    std::uint32_t value = kEmpty;
  };
  struct SlotWithKey {
    std::uint32_t hash = 0;
    std::uint32_t value = kEmpty;
    Key key{};
  };
  using Slot = std::conditional_t<kKeyInSlot, SlotWithKey, BareSlot>;

  [[nodiscard]] const Key& key_of(const Slot& s) const {
    if constexpr (kKeyInSlot) {
      return s.key;
    } else {
      return key_of_(s.value);
    }
  }
  [[nodiscard]] bool holds(const Slot& s, std::uint32_t h, const Key& key) const {
    return s.hash == h && key_of(s) == key;
  }

  static std::uint32_t hash_of(const Key& key) { return static_cast<std::uint32_t>(Hash{}(key)); }
  [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }

  // The slot holding `key`, else the empty slot that ends its probe run.
  [[nodiscard]] std::size_t probe(const Key& key, std::uint32_t h) const {
    std::size_t i = h & mask();
    while (slots_[i].value != kEmpty && !holds(slots_[i], h, key)) {
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
      if constexpr (kKeyInSlot) s.key = key;
    }
    return s;
  }

  void grow() {
    HugeVector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.value == kEmpty) continue;
      std::size_t i = s.hash & mask();
      while (slots_[i].value != kEmpty) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  HugeVector<Slot> slots_;  // the largest ones on huge pages (core/huge_pages.h)
  std::size_t size_ = 0;
  [[no_unique_address]] KeyOf key_of_;
};

}  // namespace lastack
