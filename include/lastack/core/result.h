// Errors as values: the library reports file-level faults through Result<T>, never by throwing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace lastack {

enum class ErrorCode : std::uint8_t {
  io,           // open/read/write failed (errno-level)
  bad_magic,    // not a capture format we know
  unsupported,  // a known format with a version or link type we do not handle
  truncated,    // the input ends inside a record
  corrupt,      // impossible lengths or structure mid-file
  usage,        // a caller asked for something invalid (bad filter, bad option)
};

std::string_view to_string(ErrorCode code);

// A file-level fault. `offset` is the byte offset in the (decompressed) input where the
// faulty record starts; `has_offset` is false for faults that have no position (open failed).
struct Error {
  ErrorCode code = ErrorCode::io;
  std::string message;
  std::uint64_t offset = 0;
  bool has_offset = false;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), 0, false};
}
inline Error make_error_at(ErrorCode code, std::uint64_t offset, std::string message) {
  return Error{code, std::move(message), offset, true};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace lastack
