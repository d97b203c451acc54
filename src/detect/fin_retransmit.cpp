#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_fin_retransmit(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
