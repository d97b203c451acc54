#include "lastack/core/result.h"

namespace lastack {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::io: return "io";
    case ErrorCode::bad_magic: return "bad_magic";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::truncated: return "truncated";
    case ErrorCode::corrupt: return "corrupt";
    case ErrorCode::usage: return "usage";
  }
  return "unknown";
}

}  // namespace lastack
