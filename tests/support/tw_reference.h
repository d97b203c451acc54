// The TIME_WAIT pressure oracle for tests: the batch sweep lastack had before the streaming
// accumulator (commit d7ce2e9, src/detect/time_wait_pressure.cpp), kept here only — every event
// of every connection built from the finished summaries, sorted and swept at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lastack/findings/report.h"

namespace lastack::test {

// The pressure section and its findings as the batch sweep computes them. `step_s` forces the
// series step (0: the batch rule, ceil(span / 600) seconds).
findings::TimeWaitPressure reference_time_wait(
    const std::vector<findings::ConnectionSummary>& connections,
    const std::vector<findings::InputReport>& inputs, const findings::Settings& settings,
    std::vector<findings::Finding>& out, std::int64_t step_s = 0);

// Every field, one line per holder/pair/finding: compare two results and see the difference.
std::string describe_tw(const findings::TimeWaitPressure& tw);
std::string describe_tw(const std::vector<findings::Finding>& findings);

}  // namespace lastack::test
