#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_abortive_close(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
