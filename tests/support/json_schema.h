// A small JSON Schema validator for tests: the subset reports/report.schema.json uses (type,
// properties, required, additionalProperties, items, enum, const, pattern, minimum and $ref to
// "#/$defs/..."). Other keywords are ignored. Each error names the JSON pointer where it is.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lastack::test {

// Errors like "/findings/0/severity: \"fatal\" is not one of the enum values"; empty = valid.
std::vector<std::string> validate_against_schema(const nlohmann::json& doc,
                                                 const nlohmann::json& schema);

// Parses `json_text` and validates it against reports/report.schema.json of the source tree.
// A parse failure or an unreadable schema is reported as an error, never thrown.
std::vector<std::string> validate_report(const std::string& json_text);

// The report schema, loaded once from the source tree.
const nlohmann::json& report_schema();

}  // namespace lastack::test
