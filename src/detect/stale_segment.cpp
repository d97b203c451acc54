#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_stale_segment(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
