#include "progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace lastack::cli {

namespace {

// "950", "12.3k", "4.56M": a progress line is read at a glance, not copied.
std::string short_count(double v) {
  char buf[32];
  if (v < 1e4)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v < 1e6)
    std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else if (v < 1e9)
    std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  return buf;
}

// "45s", "3m07s", "2h05m".
std::string short_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  return buf;
}

}  // namespace

bool progress_enabled(ProgressMode mode, bool quiet, bool stderr_is_terminal) {
  switch (mode) {
    case ProgressMode::always: return true;
    case ProgressMode::never: return false;
    case ProgressMode::automatic: return stderr_is_terminal && !quiet;
  }
  return false;
}

std::string format_progress(const pipeline::Progress& p, double elapsed_s) {
  std::string line = "lastack: ";
  const bool total_known = p.bytes_total > 0;
  if (total_known) {
    // bytes_read can pass the total for inputs that grow while read; never show > 100%.
    const double frac =
        std::min(1.0, static_cast<double>(p.bytes_read) / static_cast<double>(p.bytes_total));
    char pct[16];
    std::snprintf(pct, sizeof pct, "%5.1f%%  ", frac * 100.0);
    line += pct;
  }
  line += short_count(static_cast<double>(p.packets)) + " packets";
  if (elapsed_s <= 0) return line;
  line += "  " + short_count(static_cast<double>(p.packets) / elapsed_s) + " pkt/s";
  if (total_known && p.bytes_read > 0 && p.bytes_read < p.bytes_total) {
    const double byte_rate = static_cast<double>(p.bytes_read) / elapsed_s;
    const auto left = static_cast<double>(p.bytes_total - p.bytes_read);
    line += "  ETA " + short_duration(left / byte_rate);
  }
  return line;
}

double ProgressMeter::monotonic_seconds() {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

ProgressMeter::ProgressMeter(std::FILE* out, bool enabled, Clock clock)
    : out_(out),
      enabled_(enabled),
      clock_(std::move(clock)),
      start_(clock_()),
      last_draw_(start_) {}

ProgressMeter::~ProgressMeter() {
  clear();
}

void ProgressMeter::update(const pipeline::Progress& p) {
  if (!enabled_) return;
  const double now = clock_();
  if (now - last_draw_ < kMinInterval) return;
  last_draw_ = now;
  const std::string line = format_progress(p, now - start_);
  // Pad over the tail of a longer previous line instead of using an ANSI erase, so that
  // --progress always into a file or a dumb terminal stays readable.
  const std::size_t pad = drawn_width_ > line.size() ? drawn_width_ - line.size() : 0;
  std::fprintf(out_, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
  std::fflush(out_);
  drawn_width_ = line.size();
}

void ProgressMeter::clear() {
  if (!enabled_ || drawn_width_ == 0) return;
  std::fprintf(out_, "\r%*s\r", static_cast<int>(drawn_width_), "");
  std::fflush(out_);
  drawn_width_ = 0;
}

}  // namespace lastack::cli
