#include "lastack/flow/flat_flow_map.h"

namespace lastack::flow {

// Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4 Algorithm R): after emptying a slot, move
// back every later entry of the run whose home slot does not lie cyclically between the hole
// and it, so every remaining key stays reachable from its home without tombstones.
bool FlatFlowMap::erase(const tcp::FourTuple& key) {
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

void FlatFlowMap::clear() {
  for (Slot& s : slots_) s.value = kEmpty;
  size_ = 0;
}

void FlatFlowMap::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.value == kEmpty) continue;
    std::size_t i = s.hash & mask();
    while (slots_[i].value != kEmpty) i = (i + 1) & mask();
    slots_[i] = s;
  }
}

}  // namespace lastack::flow
