// Terminal progress on stderr: one line rewritten in place with '\r' (percentage of bytes when
// the total is known, packets, packet rate, ETA), throttled by wall clock and erased at the end,
// so that it never mixes with the report on stdout or lingers in a terminal.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "cli.h"
#include "lastack/pipeline/analyze.h"

namespace lastack::cli {

// Whether to show progress at all: `auto` only on a terminal and not with --quiet.
bool progress_enabled(ProgressMode mode, bool quiet, bool stderr_is_terminal);

// The text of one progress line (no '\r', no newline) after `elapsed_s` seconds of wall clock.
std::string format_progress(const pipeline::Progress& p, double elapsed_s);

class ProgressMeter {
 public:
  using Clock = std::function<double()>;        // monotonic seconds; injectable for tests
  static constexpr double kMinInterval = 0.25;  // ~4 updates per second at most

  ProgressMeter(std::FILE* out, bool enabled, Clock clock = monotonic_seconds);
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;
  ~ProgressMeter();

  // Redraws the line if at least kMinInterval has passed since the last draw (or the start,
  // so a run that is over in a blink never flashes a line).
  void update(const pipeline::Progress& p);
  // Erases the line so another message can be printed on stderr; the next update redraws it.
  void clear();

  static double monotonic_seconds();

 private:
  std::FILE* out_;
  bool enabled_;
  Clock clock_;
  double start_;
  double last_draw_;
  std::size_t drawn_width_ = 0;  // characters currently on the line
};

}  // namespace lastack::cli
