#include "support/json_schema.h"

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace lastack::test {

namespace {

using nlohmann::json;

std::string escape_pointer_token(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

bool has_type(const json& doc, const std::string& type) {
  if (type == "null") return doc.is_null();
  if (type == "boolean") return doc.is_boolean();
  if (type == "string") return doc.is_string();
  if (type == "object") return doc.is_object();
  if (type == "array") return doc.is_array();
  if (type == "number") return doc.is_number();
  if (type == "integer") {
    if (doc.is_number_integer()) return true;
    // JSON Schema counts 2.0 as an integer.
    return doc.is_number_float() && std::floor(doc.get<double>()) == doc.get<double>();
  }
  return false;
}

class Validator {
 public:
  Validator(const json& root, std::vector<std::string>& errors) : root_(root), errors_(errors) {}

  void check(const json& doc, const json& schema, const std::string& where, int depth) {
    if (depth > 64) return fail(where, "schema recursion too deep");
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) fail(where, "no value is allowed here");
      return;
    }
    if (!schema.is_object()) return;
    if (schema.contains("$ref")) check_ref(doc, schema["$ref"], where, depth);
    check_type(doc, schema, where);
    check_enum_const(doc, schema, where);
    check_string(doc, schema, where);
    check_number(doc, schema, where);
    if (doc.is_object()) check_object(doc, schema, where, depth);
    if (doc.is_array() && schema.contains("items")) {
      for (std::size_t i = 0; i < doc.size(); ++i) {
        check(doc[i], schema["items"], where + "/" + std::to_string(i), depth + 1);
      }
    }
  }

 private:
  void fail(const std::string& where, const std::string& what) {
    errors_.push_back((where.empty() ? "/" : where) + ": " + what);
  }

  void check_ref(const json& doc, const json& ref, const std::string& where, int depth) {
    const std::string text = ref.is_string() ? ref.get<std::string>() : "";
    if (text.rfind("#/", 0) != 0) return fail(where, "unsupported $ref " + short_dump(ref));
    const json::json_pointer pointer(text.substr(1));
    if (!root_.contains(pointer)) return fail(where, "unresolved $ref " + text);
    check(doc, root_.at(pointer), where, depth + 1);
  }

  void check_type(const json& doc, const json& schema, const std::string& where) {
    if (!schema.contains("type")) return;
    const json& type = schema["type"];
    bool ok = false;
    if (type.is_string()) ok = has_type(doc, type.get<std::string>());
    if (type.is_array()) {
      for (const json& t : type) ok = ok || (t.is_string() && has_type(doc, t.get<std::string>()));
    }
    if (!ok) fail(where, short_dump(doc) + " is not of type " + short_dump(type));
  }

  void check_enum_const(const json& doc, const json& schema, const std::string& where) {
    if (schema.contains("const") && doc != schema["const"]) {
      fail(where, short_dump(doc) + " is not the constant " + short_dump(schema["const"]));
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const json& v : schema["enum"]) found = found || v == doc;
      if (!found) fail(where, short_dump(doc) + " is not one of " + short_dump(schema["enum"]));
    }
  }

  void check_string(const json& doc, const json& schema, const std::string& where) {
    if (!doc.is_string() || !schema.contains("pattern")) return;
    const std::string pattern = schema["pattern"].get<std::string>();
    auto it = regex_cache_.find(pattern);
    if (it == regex_cache_.end()) {
      it = regex_cache_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    }
    if (!std::regex_search(doc.get<std::string>(), it->second)) {
      fail(where, short_dump(doc) + " does not match pattern " + pattern);
    }
  }

  void check_number(const json& doc, const json& schema, const std::string& where) {
    if (!doc.is_number() || !schema.contains("minimum")) return;
    if (doc.get<double>() < schema["minimum"].get<double>()) {
      fail(where, short_dump(doc) + " is below the minimum " + short_dump(schema["minimum"]));
    }
  }

  void check_object(const json& doc, const json& schema, const std::string& where, int depth) {
    const json empty = json::object();
    const json& properties = schema.contains("properties") ? schema["properties"] : empty;
    if (schema.contains("required")) {
      for (const json& key : schema["required"]) {
        if (!doc.contains(key.get<std::string>())) {
          fail(where, "missing required property " + short_dump(key));
        }
      }
    }
    for (const auto& [key, value] : doc.items()) {
      const std::string at = where + "/" + escape_pointer_token(key);
      if (properties.contains(key)) {
        check(value, properties[key], at, depth + 1);
      } else if (schema.contains("additionalProperties")) {
        const json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) {
          fail(at, "property not allowed here");
        } else {
          check(value, extra, at, depth + 1);
        }
      }
    }
  }

  const json& root_;
  std::vector<std::string>& errors_;
  std::map<std::string, std::regex> regex_cache_;
};

}  // namespace

std::vector<std::string> validate_against_schema(const nlohmann::json& doc,
                                                 const nlohmann::json& schema) {
  std::vector<std::string> errors;
  try {
    Validator(schema, errors).check(doc, schema, "", 0);
  } catch (const std::exception& e) {  // a malformed schema (bad regex, wrong keyword types)
    errors.push_back(std::string("schema error: ") + e.what());
  }
  return errors;
}

const nlohmann::json& report_schema() {
  static const nlohmann::json schema = [] {
    std::ifstream in(LASTACK_SOURCE_DIR "/reports/report.schema.json");
    return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }();
  return schema;
}

std::vector<std::string> validate_report(const std::string& json_text) {
  const nlohmann::json& schema = report_schema();
  if (schema.is_discarded()) return {"cannot read reports/report.schema.json"};
  const nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return {"the report is not valid JSON"};
  return validate_against_schema(doc, schema);
}

}  // namespace lastack::test
