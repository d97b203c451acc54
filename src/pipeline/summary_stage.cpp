#include "summary_stage.h"

#include <utility>

namespace lastack::pipeline::detail {

namespace {

// Runs `step` unless an earlier one failed (out of memory); the failure is kept for finish() to
// rethrow. After one, batches are only passed on and recycled, so no stage waits forever.
template <class Step>
void guarded(std::exception_ptr& failure, Step&& step) {
  if (failure) return;
  try {
    step();
  } catch (...) {
    failure = std::current_exception();
  }
}

}  // namespace

SummaryStage::SummaryStage(findings::Report& report, const detect::Context& ctx,
                           RunObserver* observer, Duration lateness)
    : report_(report), ctx_(ctx), observer_(observer), time_wait_(report.settings, lateness) {
  current_ = std::make_unique<Batch>();
  created_ = 1;
  worker_ = std::thread([this] { work(); });
  if (observer_ != nullptr) observer_thread_ = std::thread([this] { observe(); });
}

SummaryStage::~SummaryStage() {
  stop_judging();
  stop_observing();
}

// The judging thread drains its queue and ends; then the observing thread is told that no
// more batches come, so that it can end once it has drained its own.
void SummaryStage::stop_judging() {
  if (worker_.joinable()) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    judging_done_ = true;
  }
  changed_.notify_all();
}

void SummaryStage::stop_observing() {
  if (observer_thread_.joinable()) observer_thread_.join();
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
      {Step::Kind::start, static_cast<std::uint32_t>(current_->starts.size()), now, hold_});
  current_->starts.push_back(detect::start_of(c));
}

void SummaryStage::finished(std::unique_ptr<tcp::Connection>& c, Timestamp now) {
  make_room();
  if (current_->used == current_->items.size()) current_->items.emplace_back();
  current_->steps.push_back(
      {Step::Kind::finish, static_cast<std::uint32_t>(current_->used), now, hold_, c->id()});
  std::swap(current_->items[current_->used++].conn, c);
}

void SummaryStage::finish() {
  if (current_ && !current_->steps.empty()) hand_over();
  current_.reset();
  stop_judging();
  if (failure_) std::rethrow_exception(failure_);
}

void SummaryStage::finish_observer() {
  stop_observing();
  if (observer_failure_) std::rethrow_exception(observer_failure_);
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

// The next batch of `queue`, or null once `closing` is set and the queue is drained.
std::unique_ptr<Batch> SummaryStage::wait_for(std::deque<std::unique_ptr<Batch>>& queue,
                                              const bool& closing) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !queue.empty() || closing; });
  if (queue.empty()) return nullptr;
  std::unique_ptr<Batch> b = std::move(queue.front());
  queue.pop_front();
  return b;
}

void SummaryStage::recycle(std::unique_ptr<Batch> b) {
  b->used = 0;
  b->starts.clear();
  b->steps.clear();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(b));
  }
  changed_.notify_all();
}

void SummaryStage::work() {
  while (std::unique_ptr<Batch> b = wait_for(ready_, closing_)) {
    guarded(failure_, [&] { consume(*b); });
    if (observer_ == nullptr || failure_) {
      recycle(std::move(b));
      continue;
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      judged_.push_back(std::move(b));
    }
    changed_.notify_all();
  }
}

void SummaryStage::observe() {
  while (std::unique_ptr<Batch> b = wait_for(judged_, judging_done_)) {
    guarded(observer_failure_, [&] { show(*b); });
    recycle(std::move(b));
  }
  // Not after a judging failure: the observer has not seen every connection.
  if (!failure_) guarded(observer_failure_, [&] { observer_->on_connections_end(); });
}

void SummaryStage::consume(Batch& b) {
  for (std::size_t k = 0; k < b.steps.size(); ++k) {
    prefetch(b, k);
    const Step& step = b.steps[k];
    switch (step.kind) {
      case Step::Kind::begin: time_wait_.advance(step.now); break;
      case Step::Kind::start:
        time_wait_.advance(step.now, step.hold);
        time_wait_.on_start(b.starts[step.index]);
        break;
      case Step::Kind::finish: judge(b.items[step.index], b, step); break;
    }
  }
}

// Before step k: the TIME_WAIT indexes' slots that a step a few ahead will look up start
// loading, and, for a connection that ends nearer, its record (found through its slot, loaded by
// then), so that the steps do not wait for memory. A connection that ends a few steps ahead is
// asked for too (the tracking thread wrote it on the other core), and nearer, its facts.
void SummaryStage::prefetch(const Batch& b, std::size_t k) const {
  if (k + kLookAhead < b.steps.size()) {
    const Step& ahead = b.steps[k + kLookAhead];
    if (ahead.kind == Step::Kind::start) time_wait_.prefetch_start(b.starts[ahead.index]);
    if (ahead.kind == Step::Kind::finish) {
      time_wait_.prefetch_end(ahead.finished_id);
      b.items[ahead.index].conn->prefetch_object();
    }
  }
  if (k + kLookAhead / 2 < b.steps.size()) {
    const Step& near = b.steps[k + kLookAhead / 2];
    if (near.kind == Step::Kind::start) time_wait_.prefetch_start_records(b.starts[near.index]);
    if (near.kind == Step::Kind::finish) {
      time_wait_.prefetch_record(near.finished_id);
      b.items[near.index].conn->prefetch_facts();
    }
  }
}

void SummaryStage::judge(Finished& f, Batch& b, const Step& step) {
  b.findings.clear();
  detect::analyze_connection(*f.conn, ctx_, f.summary, b.findings);
  f.has_findings = !b.findings.empty();
  time_wait_.on_end(f.summary);
  time_wait_.advance(step.now, step.hold);
  if (f.has_findings || report_.settings.all_connections) {
    // The observer still needs the batch's copy.
    if (observer_ != nullptr) {
      report_.connections.push_back(f.summary);
    } else {
      report_.connections.push_back(std::move(f.summary));
    }
  }
  for (const findings::Finding& fd : b.findings) report_.store->add(fd);
}

// The observer sees the connections in the order they were finalised, as judge() saw them.
void SummaryStage::show(Batch& b) {
  b.shown.clear();
  for (const Step& step : b.steps) {
    if (step.kind != Step::Kind::finish) continue;
    const Finished& f = b.items[step.index];
    b.shown.push_back({&f.summary, f.has_findings});
  }
  if (!b.shown.empty()) observer_->on_connections(b.shown);
}

}  // namespace lastack::pipeline::detail
