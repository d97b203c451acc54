// JsonText against nlohmann's dump of the same value: the report and the database must not change
// by a byte when a part is written as text instead of through a JSON value.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sink/json_parts.h"
#include "sink/json_text.h"

namespace f = lastack::findings;
using lastack::sink::detail::dump;
using lastack::sink::detail::Json;
using lastack::sink::detail::JsonText;

namespace {

// Writes `j` through JsonText, as the sinks do.
void write(JsonText& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      out.begin_object();
      for (const auto& [k, v] : j.items()) {
        out.key(k);
        write(out, v);
      }
      out.end_object();
      return;
    case Json::value_t::array:
      out.begin_array();
      for (const Json& v : j) write(out, v);
      out.end_array();
      return;
    case Json::value_t::string: return out.string(j.get_ref<const std::string&>());
    case Json::value_t::boolean: return out.boolean(j.get<bool>());
    case Json::value_t::number_unsigned: return out.number(j.get<std::uint64_t>());
    case Json::value_t::number_integer: return out.number(j.get<std::int64_t>());
    case Json::value_t::number_float: return out.number(j.get<double>());
    default: return out.null();
  }
}

std::string random_string(std::mt19937_64& rng) {
  // Plain text, characters JSON escapes, UTF-8 (valid and not), DEL.
  static constexpr std::string_view kPieces[] = {"a",        "lost_final_ack",
                                                 " ",        "\"",
                                                 "\\",       "\n",
                                                 "\t",       std::string_view("\0", 1),
                                                 "\x1f",     "\x7f",
                                                 "\xc3\xa9", "\xe2\x82\xac",
                                                 "\xff",     "\xc3",
                                                 "/",        "10.0.0.1:80"};
  std::string s;
  const std::size_t n = rng() % 6;
  for (std::size_t i = 0; i < n; ++i) s += kPieces[rng() % std::size(kPieces)];
  return s;
}

Json random_value(std::mt19937_64& rng, int depth) {
  const unsigned pick = static_cast<unsigned>(rng() % (depth < 4 ? 9 : 7));
  switch (pick) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return rng() >> (rng() % 64);  // unsigned, up to 2^64 - 1
    case 3: return -static_cast<std::int64_t>(rng() >> (1 + rng() % 63));
    case 4: {
      static constexpr double kDoubles[] = {0.0,        1.0,  0.5,  0.214686, 1e-7,
                                            123456.789, 1e21, -2.5, 60.0,     3.0e-5};
      return kDoubles[rng() % std::size(kDoubles)];
    }
    case 5:
    case 6: return random_string(rng);
    case 7: {
      Json a = Json::array();
      const std::size_t n = rng() % 4;
      for (std::size_t i = 0; i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      const std::size_t n = rng() % 4;
      for (std::size_t i = 0; i < n; ++i) o[random_string(rng)] = random_value(rng, depth + 1);
      return o;
    }
  }
}

// dump(2) of a value placed at `depth` of its document: lines after the first indented more.
std::string dump_at_depth(const Json& j, int depth) {
  std::string out;
  for (const char ch : dump(j, 2)) {
    out += ch;
    if (ch == '\n') out.append(2 * static_cast<std::size_t>(depth), ' ');
  }
  return out;
}

}  // namespace

TEST_CASE("JsonText writes what nlohmann's dump writes, compact and pretty", "[sink][json]") {
  std::mt19937_64 rng(20261207);
  for (int i = 0; i < 3000; ++i) {
    const Json value = random_value(rng, 0);
    std::string compact;
    auto c = JsonText::compact(compact);
    write(c, value);
    REQUIRE(compact == dump(value, -1));
    const int depth = i % 3;
    std::string pretty;
    auto p = JsonText::pretty(pretty, depth);
    write(p, value);
    REQUIRE(pretty == dump_at_depth(value, depth));
  }
}

TEST_CASE("JsonText: empty containers and nesting", "[sink][json]") {
  const Json value = Json::parse(R"({"a": {}, "b": [], "c": [[], {}, [1, [2]]], "d": {"e": {}}})");
  std::string pretty;
  auto p = JsonText::pretty(pretty, 0);
  write(p, value);
  CHECK(pretty == dump(value, 2));
}

TEST_CASE("Evidence: a repeated key keeps its first place and takes the last value",
          "[sink][json]") {
  const f::Evidence evidence = {{"state", std::string("FIN_WAIT_2")},
                                {"intervals_s", std::vector<double>{0.2146861, 0.4}},
                                {"count", std::int64_t{1}},
                                {"state", std::string("TIME_WAIT")},
                                {"frames", std::vector<std::int64_t>{}},
                                {"count", std::int64_t{2}},
                                {"answered", true}};
  std::string text;
  auto out = JsonText::compact(text);
  lastack::sink::detail::write_evidence(out, evidence);
  CHECK(text == R"({"state":"TIME_WAIT","intervals_s":[0.214686,0.4],"count":2,"frames":[],)"
                R"("answered":true})");
}
