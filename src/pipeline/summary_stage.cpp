#include "summary_stage.h"

#include <iterator>
#include <utility>

namespace lastack::pipeline::detail {

SummaryStage::SummaryStage(findings::Report& report, const detect::Context& ctx,
                           RunObserver* observer)
    : report_(report), ctx_(ctx), observer_(observer) {
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

void SummaryStage::add(const tcp::Connection& c) {
  if (current_->used == kBatchItems) {
    hand_over();
    current_ = take_free();
  }
  if (current_->used == current_->items.size()) current_->items.emplace_back();
  current_->items[current_->used++].conn = c;
}

void SummaryStage::finish() {
  if (current_ && current_->used > 0) hand_over();
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
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(std::move(b));
    }
    changed_.notify_all();
  }
}

void SummaryStage::consume(Batch& b) {
  const bool keep_all = report_.settings.all_connections;
  for (std::size_t i = 0; i < b.used; ++i) {
    Finished& f = b.items[i];
    b.findings.clear();
    detect::analyze_connection(*f.conn, ctx_, f.summary, b.findings);
    const bool has_findings = !b.findings.empty();
    if (observer_ != nullptr) observer_->on_connection(f.summary, has_findings);
    all_.push_back(f.summary);
    if (has_findings || keep_all) report_.connections.push_back(f.summary);
    report_.findings.insert(report_.findings.end(), std::make_move_iterator(b.findings.begin()),
                            std::make_move_iterator(b.findings.end()));
  }
}

}  // namespace lastack::pipeline::detail
