#include "summary_stage.h"

#include <iterator>
#include <utility>

namespace lastack::pipeline::detail {

SummaryStage::SummaryStage(findings::Report& report, const detect::Context& ctx,
                           RunObserver* observer, Duration lateness)
    : report_(report), ctx_(ctx), observer_(observer), time_wait_(report.settings, lateness) {
  current_ = std::make_unique<Batch>();
  created_ = 1;
  worker_ = std::thread([this] { work(); });
}

SummaryStage::~SummaryStage() {
  if (!worker_.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void SummaryStage::make_room() {
  if (current_->used < kBatchItems && current_->steps.size() < 4 * kBatchItems) return;
  hand_over();
  current_ = take_free();
}

void SummaryStage::began(Timestamp first) {
  make_room();
  current_->steps.push_back({Step::Kind::begin, 0, first});
}

void SummaryStage::started(const tcp::Connection& c, Timestamp now) {
  make_room();
  current_->steps.push_back(
      {Step::Kind::start, static_cast<std::uint32_t>(current_->starts.size()), now});
  current_->starts.push_back(detect::start_of(c));
}

void SummaryStage::finished(const tcp::Connection& c, Timestamp now) {
  make_room();
  if (current_->used == current_->items.size()) current_->items.emplace_back();
  current_->steps.push_back({Step::Kind::finish, static_cast<std::uint32_t>(current_->used), now});
  current_->items[current_->used++].conn = c;
}

void SummaryStage::finish() {
  if (current_ && !current_->steps.empty()) hand_over();
  current_.reset();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  worker_.join();
  if (failure_) std::rethrow_exception(failure_);
}

void SummaryStage::hand_over() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    ready_.push_back(std::move(current_));
  }
  changed_.notify_all();
}

std::unique_ptr<Batch> SummaryStage::take_free() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (free_.empty() && created_ < kBatches) {
    ++created_;
    return std::make_unique<Batch>();
  }
  changed_.wait(lock, [this] { return !free_.empty(); });
  std::unique_ptr<Batch> b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void SummaryStage::work() {
  for (;;) {
    std::unique_ptr<Batch> b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return !ready_.empty() || closing_; });
      if (ready_.empty()) return;  // closing and drained
      b = std::move(ready_.front());
      ready_.pop_front();
    }
    // After a failure (out of memory) batches are only recycled, so the producer never waits
    // forever; finish() rethrows.
    if (!failure_) {
      try {
        consume(*b);
      } catch (...) {
        failure_ = std::current_exception();
      }
    }
    b->used = 0;
    b->starts.clear();
    b->steps.clear();
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(std::move(b));
    }
    changed_.notify_all();
  }
}

void SummaryStage::consume(Batch& b) {
  for (const Step& step : b.steps) {
    switch (step.kind) {
      case Step::Kind::begin: time_wait_.advance(step.now); break;
      case Step::Kind::start:
        time_wait_.advance(step.now);
        time_wait_.on_start(b.starts[step.index]);
        break;
      case Step::Kind::finish: judge(b.items[step.index], b, step.now); break;
    }
  }
}

void SummaryStage::judge(Finished& f, Batch& b, Timestamp now) {
  b.findings.clear();
  detect::analyze_connection(*f.conn, ctx_, f.summary, b.findings);
  const bool has_findings = !b.findings.empty();
  if (observer_ != nullptr) observer_->on_connection(f.summary, has_findings);
  time_wait_.on_end(f.summary);
  time_wait_.advance(now);
  if (has_findings || report_.settings.all_connections) {
    report_.connections.push_back(std::move(f.summary));
  }
  report_.findings.insert(report_.findings.end(), std::make_move_iterator(b.findings.begin()),
                          std::make_move_iterator(b.findings.end()));
}

}  // namespace lastack::pipeline::detail
