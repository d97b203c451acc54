// FlatIndex (the flow table's and the TIME_WAIT analysis' indexes): insert, find, erase
// (backward shift), growth, and churn checked against std::unordered_map as a model, with the
// keys in the slots and with the keys in the caller's storage (KeyOf).
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lastack/core/flat_index.h"
#include "lastack/tcp/four_tuple.h"

using lastack::IpAddress;
using lastack::tcp::FourTuple;
using lastack::tcp::FourTupleHash;
using FlatFlowMap = lastack::FlatIndex<FourTuple, FourTupleHash>;

namespace {

// Distinct four-tuples: client 10.x.y.z:port → 192.0.2.1:80, from a number.
FourTuple tuple_of(std::uint32_t n) {
  const std::uint8_t client[4] = {10, static_cast<std::uint8_t>(n >> 16),
                                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  const std::uint8_t server[4] = {192, 0, 2, 1};
  FourTuple t;
  t.a_ip = IpAddress::v4(client);
  t.b_ip = IpAddress::v4(server);
  t.a_port = static_cast<std::uint16_t>(1024 + (n % 50'000));
  t.b_port = 80;
  return t;
}

}  // namespace

TEST_CASE("flat map: insert, find, insert of a present key, erase", "[core][flat_map]") {
  FlatFlowMap m;
  CHECK(m.find(tuple_of(1)) == nullptr);
  CHECK(m.try_emplace(tuple_of(1), 7) == std::pair<std::uint32_t, bool>{7, true});
  CHECK(m.try_emplace(tuple_of(2), 8) == std::pair<std::uint32_t, bool>{8, true});
  // Present: the stored value wins, nothing is inserted.
  CHECK(m.try_emplace(tuple_of(1), 99) == std::pair<std::uint32_t, bool>{7, false});
  CHECK(m.size() == 2);
  REQUIRE(m.find(tuple_of(2)) != nullptr);
  CHECK(*m.find(tuple_of(2)) == 8);
  CHECK(m.erase(tuple_of(1)));
  CHECK_FALSE(m.erase(tuple_of(1)));
  CHECK(m.find(tuple_of(1)) == nullptr);
  CHECK(*m.find(tuple_of(2)) == 8);
  CHECK(m.size() == 1);
  m.clear();
  CHECK(m.size() == 0);
  CHECK(m.find(tuple_of(2)) == nullptr);
}

TEST_CASE("flat map: grows past 70 % load and keeps every key", "[core][flat_map]") {
  FlatFlowMap m;
  const std::size_t initial = m.capacity();
  constexpr std::uint32_t kKeys = 100'000;
  for (std::uint32_t i = 0; i < kKeys; ++i) REQUIRE(m.try_emplace(tuple_of(i), i).second);
  CHECK(m.size() == kKeys);
  CHECK(m.capacity() > initial);
  CHECK((m.capacity() & (m.capacity() - 1)) == 0);  // a power of two
  CHECK(m.size() * 10 <= m.capacity() * 7);
  std::uint32_t found = 0;
  for (std::uint32_t i = 0; i < kKeys; ++i) {
    const std::uint32_t* v = m.find(tuple_of(i));
    if (v != nullptr && *v == i) ++found;
  }
  CHECK(found == kKeys);
  std::size_t visited = 0;
  m.for_each([&](const FourTuple& k, std::uint32_t v) { visited += (k == tuple_of(v)) ? 1 : 0; });
  CHECK(visited == kKeys);
}

TEST_CASE("flat map: erase in the middle of a collision run keeps the rest reachable",
          "[core][flat_map]") {
  // Keys whose hashes share a home slot in a small table form one run; erasing from its head or
  // middle must shift the others back (a hole would cut the run and hide them).
  FlatFlowMap m;
  const std::size_t mask = m.capacity() - 1;
  std::vector<FourTuple> same_home;
  for (std::uint32_t n = 0; same_home.size() < 5; ++n) {
    if ((FourTupleHash{}(tuple_of(n)) & mask) == 3) same_home.push_back(tuple_of(n));
  }
  for (std::uint32_t i = 0; i < same_home.size(); ++i) m.try_emplace(same_home[i], i);
  REQUIRE(m.capacity() == mask + 1);  // no growth: the run is intact
  CHECK(m.erase(same_home[0]));
  CHECK(m.erase(same_home[2]));
  for (std::uint32_t i : {1U, 3U, 4U}) {
    REQUIRE(m.find(same_home[i]) != nullptr);
    CHECK(*m.find(same_home[i]) == i);
  }
  CHECK(m.find(same_home[0]) == nullptr);
  CHECK(m.find(same_home[2]) == nullptr);
}

TEST_CASE("flat map: erase-heavy churn agrees with std::unordered_map", "[core][flat_map]") {
  FlatFlowMap m;
  std::unordered_map<FourTuple, std::uint32_t, FourTupleHash> model;
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> pick(0, 4'000);  // few keys: constant collisions
  for (std::uint32_t step = 0; step < 200'000; ++step) {
    const FourTuple k = tuple_of(pick(rng));
    if (rng() % 2 == 0) {
      const auto [v, inserted] = m.try_emplace(k, step);
      const auto [it, model_inserted] = model.try_emplace(k, step);
      REQUIRE(inserted == model_inserted);
      REQUIRE(v == it->second);
    } else {
      REQUIRE(m.erase(k) == (model.erase(k) == 1));
    }
  }
  REQUIRE(m.size() == model.size());
  for (const auto& [k, v] : model) {
    const std::uint32_t* got = m.find(k);
    REQUIRE(got != nullptr);
    CHECK(*got == v);
  }
  // Capacity follows the live size, not the number of operations (no tombstones pile up).
  CHECK(m.capacity() <= 8192);
}

TEST_CASE("flat map: exchange inserts an absent key and replaces a present key's value",
          "[core][flat_map]") {
  FlatFlowMap m;
  CHECK(m.exchange(tuple_of(1), 5) == FlatFlowMap::kEmpty);
  REQUIRE(m.find(tuple_of(1)) != nullptr);
  CHECK(*m.find(tuple_of(1)) == 5);
  CHECK(m.exchange(tuple_of(1), 6) == 5);
  CHECK(*m.find(tuple_of(1)) == 6);
  CHECK(m.size() == 1);
}

namespace {

// A deliberately poor hash (the low bits only), so that integer keys collide in runs.
struct LowBits {
  std::size_t operator()(std::uint64_t k) const noexcept { return k & 0xFF; }
};

}  // namespace

TEST_CASE("flat index over integer keys agrees with std::unordered_map under churn",
          "[core][flat_map]") {
  using Index = lastack::FlatIndex<std::uint64_t, LowBits>;
  Index m;
  std::unordered_map<std::uint64_t, std::uint32_t> model;
  std::mt19937_64 rng(7);
  for (std::uint32_t step = 0; step < 20'000; ++step) {
    const std::uint64_t k = (rng() % 50) << 8 | (rng() % 8);  // 8 hashes: long runs
    switch (rng() % 3) {
      case 0: {
        const auto had = model.find(k);
        REQUIRE(m.exchange(k, step) == (had == model.end() ? Index::kEmpty : had->second));
        model[k] = step;
        break;
      }
      case 1: REQUIRE(m.try_emplace(k, step).second == model.try_emplace(k, step).second); break;
      default: REQUIRE(m.erase(k) == (model.erase(k) == 1)); break;
    }
  }
  REQUIRE(m.size() == model.size());
  for (const auto& [k, v] : model) {
    const std::uint32_t* got = m.find(k);
    REQUIRE(got != nullptr);
    CHECK(*got == v);
  }
}

namespace {

// The keys of an index with KeyOf: slab positions' keys, as the flow table keeps them.
struct SlabKey {
  const std::vector<FourTuple>* slab = nullptr;
  const FourTuple& operator()(std::uint32_t at) const { return (*slab)[at]; }
};

}  // namespace

TEST_CASE("flat index with the keys in the caller's slab agrees with std::unordered_map",
          "[core][flat_map]") {
  using Index = lastack::FlatIndex<FourTuple, FourTupleHash, SlabKey>;
  STATIC_REQUIRE(Index::slot_bytes() == 8);  // {hash, value}: no key in the slot
  std::vector<FourTuple> slab;
  std::vector<std::uint32_t> free_positions;
  Index m{SlabKey{&slab}};
  std::unordered_map<FourTuple, std::uint32_t, FourTupleHash> model;
  auto take = [&](const FourTuple& k) {
    if (free_positions.empty()) {
      slab.push_back(k);  // may move the slab: the index must follow it through the pointer
      return static_cast<std::uint32_t>(slab.size() - 1);
    }
    const std::uint32_t at = free_positions.back();
    free_positions.pop_back();
    slab[at] = k;
    return at;
  };
  auto give_back = [&](std::uint32_t at) {
    slab[at] = tuple_of(999'999);  // a freed position's old key must never be read again
    free_positions.push_back(at);
  };
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::uint32_t> pick(0, 3'000);
  for (std::uint32_t step = 0; step < 100'000; ++step) {
    const FourTuple k = tuple_of(pick(rng));
    const auto had = model.find(k);
    switch (rng() % 3) {
      case 0: {  // a new owner of the key takes its place, as a reused four-tuple does
        const std::uint32_t at = take(k);
        REQUIRE(m.exchange(k, at) == (had == model.end() ? Index::kEmpty : had->second));
        if (had != model.end()) give_back(had->second);
        model[k] = at;
        break;
      }
      case 1:
        if (had == model.end()) {
          const std::uint32_t at = take(k);
          REQUIRE(m.try_emplace(k, at) == std::pair<std::uint32_t, bool>{at, true});
          model.emplace(k, at);
        } else {  // present: nothing is inserted, nothing taken from the slab
          REQUIRE(m.try_emplace(k, 12'345) == std::pair<std::uint32_t, bool>{had->second, false});
        }
        break;
      default:
        REQUIRE(m.erase(k) == (had != model.end()));
        if (had != model.end()) {
          give_back(had->second);
          model.erase(had);
        }
        break;
    }
  }
  REQUIRE(m.size() == model.size());
  for (const auto& [k, v] : model) {
    const std::uint32_t* got = m.find(k);
    REQUIRE(got != nullptr);
    CHECK(*got == v);
  }
  std::size_t visited = 0;
  m.for_each([&](const FourTuple& k, std::uint32_t v) { visited += model.at(k) == v ? 1 : 0; });
  CHECK(visited == model.size());
}
