#include "lastack/detect/detector.h"

namespace lastack::detect {

void detect_lost_final_ack(const Subject&, const Context&, std::vector<findings::Finding>&) {}

}  // namespace lastack::detect
