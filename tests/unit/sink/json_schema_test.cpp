// The test validator itself: each keyword it supports must reject a violating document, or the
// "reports validate against the schema" tests prove nothing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/sink/sinks.h"
#include "support/json_schema.h"
#include "support/report_fixture.h"

using lastack::test::validate_against_schema;
using nlohmann::json;

namespace {

bool any_error_contains(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors) {
    if (e.find(text) != std::string::npos) return true;
  }
  return false;
}

const json kSchema = json::parse(R"({
  "type": "object",
  "required": ["name", "n"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "pattern": "^[a-z]+$"},
    "n": {"type": "integer", "minimum": 1},
    "maybe": {"type": ["string", "null"]},
    "level": {"enum": ["low", "high"]},
    "version": {"const": 1},
    "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
    "free": {"type": "object"},
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}
  },
  "$defs": {"tag": {"type": "string", "pattern": "^#"}}
})");

std::vector<std::string> validate(const char* doc) {
  return validate_against_schema(json::parse(doc), kSchema);
}

}  // namespace

TEST_CASE("validator accepts a conforming document", "[sink][schema]") {
  CHECK(validate(R"({"name": "abc", "n": 2, "maybe": null, "level": "low", "version": 1,
                     "tags": ["#a", "#b"], "free": {"x": [1, {}]}, "counts": {"a": 1}})")
            .empty());
  CHECK(validate(R"({"name": "abc", "n": 2.0, "maybe": "x"})").empty());  // 2.0 is an integer
}

TEST_CASE("validator rejects each keyword's violation with a JSON pointer", "[sink][schema]") {
  CHECK(any_error_contains(validate(R"([])"), "/: [] is not of type"));
  CHECK(any_error_contains(validate(R"({"n": 1})"), "missing required property \"name\""));
  CHECK(
      any_error_contains(validate(R"({"name": "a", "n": 1, "x": 0})"), "/x: property not allowed"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1.5})"), "/n: 1.5 is not of type"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 0})"), "/n: 0 is below the minimum"));
  CHECK(any_error_contains(validate(R"({"name": "A", "n": 1})"), "/name: \"A\" does not match"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1, "maybe": 3})"),
                           "/maybe: 3 is not of type [\"string\",\"null\"]"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1, "level": "mid"})"),
                           "/level: \"mid\" is not one of"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1, "version": 2})"),
                           "/version: 2 is not the constant 1"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1, "tags": ["#a", "b"]})"),
                           "/tags/1: \"b\" does not match"));
  CHECK(any_error_contains(validate(R"({"name": "a", "n": 1, "counts": {"a/b": "x"}})"),
                           "/counts/a~1b: \"x\" is not of type"));
}

TEST_CASE("validator reports unresolvable refs and a false schema", "[sink][schema]") {
  const json schema = json::parse(R"({"properties": {"a": {"$ref": "#/$defs/missing"},
                                                     "b": false}})");
  const auto errors = validate_against_schema(json::parse(R"({"a": 1, "b": 2})"), schema);
  CHECK(any_error_contains(errors, "/a: unresolved $ref #/$defs/missing"));
  CHECK(any_error_contains(errors, "/b: no value is allowed here"));
}

TEST_CASE("report schema rejects broken reports", "[sink][schema]") {
  const std::string good = lastack::sink::to_json(lastack::test::make_fixture_report());
  REQUIRE(lastack::test::validate_report(good).empty());
  auto broken = [&](auto&& edit) {
    json doc = json::parse(good);
    edit(doc);
    return lastack::test::validate_report(doc.dump());
  };
  CHECK(any_error_contains(broken([](json& d) { d["findings"][0]["severity"] = "fatal"; }),
                           "/findings/0/severity"));
  CHECK(any_error_contains(broken([](json& d) { d["findings"][1]["ts"] = "2026-11-21 09:00"; }),
                           "/findings/1/ts"));
  CHECK(any_error_contains(broken([](json& d) { d["findings"][0].erase("message"); }),
                           "missing required property \"message\""));
  CHECK(any_error_contains(broken([](json& d) { d["findings"][0]["extra"] = 1; }),
                           "/findings/0/extra"));
  CHECK(any_error_contains(broken([](json& d) { d["connections"][0]["close_kind"] = "closed"; }),
                           "/connections/0/close_kind"));
  CHECK(any_error_contains(broken([](json& d) { d["connections"][2]["client"] = "2001:db8::1:1"; }),
                           "/connections/2/client"));
  CHECK(any_error_contains(broken([](json& d) { d["inputs"][0]["status"] = "fine"; }),
                           "/inputs/0/status"));
  CHECK(any_error_contains(broken([](json& d) { d["schema_version"] = 2; }), "/schema_version"));
  CHECK(any_error_contains(broken([](json& d) { d["summary"]["packets"] = -1; }),
                           "/summary/packets"));
  CHECK(any_error_contains(broken([](json& d) { d["generated_at"] = "now"; }),
                           "/generated_at: property not allowed"));
  // Evidence is free-form.
  CHECK(broken([](json& d) { d["findings"][0]["evidence"]["anything"] = {{"x", 1}}; }).empty());
  CHECK_FALSE(lastack::test::validate_report("{not json").empty());
}
