#include "capture/reader_base.h"

#include <algorithm>

namespace lastack::capture {

bool ReaderBase::end_at_boundary(std::uint64_t offset, const std::string& where,
                                 std::size_t header_size, const char* header_name) {
  if (buf_.available() == 0) {
    const Error* stream_error = buf_.stream_error();
    if (stream_error == nullptr) {
      done_ = true;  // a clean end: the last record was complete
      return false;
    }
    return stop(Error{stream_error->code, stream_error->message, offset, true});
  }
  return cut_inside(offset, where + ": " + header_name + " needs " + std::to_string(header_size) +
                                " bytes, only " + std::to_string(buf_.available()) + " remain");
}

bool ReaderBase::cut_inside(std::uint64_t offset, std::string message) {
  ErrorCode code = ErrorCode::truncated;
  if (const Error* stream_error = buf_.stream_error(); stream_error != nullptr) {
    message += " (" + stream_error->message + ")";
    code = stream_error->code;
  }
  return stop(Error{code, std::move(message), offset, true});
}

bool ReaderBase::stop(Error e) {
  status_ = e.code == ErrorCode::truncated ? InputStatus::truncated : InputStatus::error;
  error_ = std::move(e);
  done_ = true;
  return false;
}

void ReaderBase::note_link_type(std::uint32_t link_type) {
  auto& seen = info_.link_types;
  if (std::find(seen.begin(), seen.end(), link_type) == seen.end()) seen.push_back(link_type);
}

}  // namespace lastack::capture
