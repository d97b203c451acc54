#include "json_text.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#include "json_parts.h"

namespace lastack::sink::detail {

namespace {

template <class Int>
void append_integer(std::string& out, Int v) {
  std::array<char, 24> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), res.ptr);
}

}  // namespace

void JsonText::open(char bracket) {
  before_value();
  assert(level_ < kMaxDepth);  // the report's deepest value is four levels down
  in_array_[static_cast<std::size_t>(level_)] = bracket == '[';
  empty_[static_cast<std::size_t>(level_)] = true;
  ++level_;
  out_ += bracket;
}

// nlohmann writes an empty container as {} or [] in every layout.
void JsonText::close(char bracket) {
  --level_;
  if (is_pretty() && !empty_[static_cast<std::size_t>(level_)]) line(false, depth_ + level_);
  out_ += bracket;
}

void JsonText::separator() {
  bool& empty = empty_[static_cast<std::size_t>(level_ - 1)];
  const bool comma = !empty;
  empty = false;
  if (is_pretty()) {
    line(comma, depth_ + level_);
  } else if (comma) {
    out_ += ',';
  }
}

// [","] "\n" and the indent of `depth`, in one append for the depths a report has.
void JsonText::line(bool comma, int depth) {
  static constexpr std::string_view kLine =
      ",\n                                                                ";
  const std::size_t spaces = 2 * static_cast<std::size_t>(depth);
  const std::size_t fits = std::min(spaces, kLine.size() - 2);
  out_.append(kLine.data() + (comma ? 0 : 1), (comma ? 2 : 1) + fits);
  if (fits < spaces) out_.append(spaces - fits, ' ');
}

void JsonText::before_value() {
  if (level_ > 0 && in_array_[static_cast<std::size_t>(level_ - 1)]) separator();
}

void JsonText::key(std::string_view k) {
  separator();
  quoted(k);
  out_ += is_pretty() ? ": " : ":";
}

void JsonText::null() {
  before_value();
  out_ += "null";
}

void JsonText::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
}

void JsonText::number(std::uint64_t v) {
  before_value();
  append_integer(out_, v);
}

void JsonText::number(std::int64_t v) {
  before_value();
  append_integer(out_, v);
}

void JsonText::number(double v) {
  before_value();
  out_ += dump(Json(v), -1);
}

void JsonText::string(std::string_view v) {
  before_value();
  quoted(v);
}

void JsonText::quoted(std::string_view v) {
  const bool plain = std::all_of(v.begin(), v.end(), [](char ch) {
    return ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\';
  });
  if (!plain) {
    out_ += dump(Json(std::string(v)), -1);
    return;
  }
  const std::size_t at = out_.size();
  out_.resize(at + v.size() + 2);
  char* p = out_.data() + at;
  *p++ = '"';
  std::memcpy(p, v.data(), v.size());
  p[v.size()] = '"';
}

}  // namespace lastack::sink::detail
