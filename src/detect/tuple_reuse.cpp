#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_tuple_reuse(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
