#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_rst_after_close(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
