// JSON written straight as text, in exactly the layout nlohmann's dump gives the same value
// (pretty with an indent of 2 at a given depth, or compact): the report's findings and
// connections, and the SQLite findings' JSON columns. Building a JSON value per finding and
// dumping it cost more than writing the rest of the report (callgrind: ~100 instructions per
// byte of findings, against ~40 here). Private to the sink layer.
//
// Values are integers, bools, null, strings and doubles. A string with anything but printable
// ASCII goes through nlohmann (its escaping, and U+FFFD for invalid UTF-8), and so does a
// double (its shortest round-trip form), so the text is the same as nlohmann's.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lastack::sink::detail {

class JsonText {
 public:
  // Compact: no whitespace (dump(-1)). Pretty: dump(2) for a value that sits at `depth` of its
  // document (its first line's indent is the caller's; lines after it are indented for it).
  static JsonText compact(std::string& out) { return JsonText(out, -1); }
  static JsonText pretty(std::string& out, int depth) { return JsonText(out, depth); }

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // The key of the next value, in the object just begun.
  void key(std::string_view k);

  void null();
  void boolean(bool v);
  void number(std::uint64_t v);
  void number(std::int64_t v);
  void number(double v);
  void string(std::string_view v);

 private:
  static constexpr int kMaxDepth = 16;

  JsonText(std::string& out, int depth) : out_(out), depth_(depth) {}
  void open(char bracket);
  void close(char bracket);
  // What goes before a value: in an array, the separator and the element's line.
  void before_value();
  void separator();
  void quoted(std::string_view v);
  void line(bool comma, int depth);
  [[nodiscard]] bool is_pretty() const { return depth_ >= 0; }

  std::string& out_;
  int depth_;      // of the value being written (pretty); -1 when compact
  int level_ = 0;  // containers open
  // Per open container: is it an array, and has it no member yet.
  std::array<bool, kMaxDepth> in_array_{};
  std::array<bool, kMaxDepth> empty_{};
};

}  // namespace lastack::sink::detail
