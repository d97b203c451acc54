// The pipeline's later stages. The judging thread takes connection starts and finalised
// connections in batches from the tracking thread, in the order they happened, and judges the
// connections there (detectors, summary), then does what needs all of them but not their
// packets: the report's findings and listed connections and TIME_WAIT pressure (streamed:
// TimeWaitAccumulator). With an observer (the SQLite writer), a third thread then hands it the
// batch's summaries in the same order: SQLite's row inserts cost as much as judging, so the two
// share the core the tracking thread leaves (bench/PERFORMANCE.md: the tracking thread is the
// critical path).
// A finalised connection moves into its batch slot, and the object the slot held (judged in an
// earlier batch) goes back to the flow table to be recycled: no copy, and no allocation once the
// batches are warm. Batches keep the hand-over cheap (one lock per few hundred connections) and
// are recycled, and at most kBatches exist, so a slow stage slows the ones before it instead of
// growing memory. Private to the pipeline layer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "lastack/detect/detector.h"
#include "lastack/detect/time_wait_pressure.h"
#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"
#include "lastack/findings/report.h"
#include "lastack/pipeline/analyze.h"

namespace lastack::pipeline::detail {

struct Finished {
  std::unique_ptr<tcp::Connection> conn;  // kept after judging, for the flow table to reuse
  findings::ConnectionSummary summary;
  bool has_findings = false;
};

// One thing that happened, in order: capture time began, a connection started
// (starts[index]) or was finalised (items[index]); `now` is the capture time then, `hold` the
// first packet of the oldest connection TIME_WAIT pressure has not been told of yet.
struct Step {
  enum class Kind : std::uint8_t { begin, start, finish };
  Kind kind = Kind::begin;
  std::uint32_t index = 0;
  Timestamp now;
  Timestamp hold{INT64_MAX};
  std::uint64_t finished_id = 0;  // finish: the connection's id, for consume()'s look-ahead
};

struct Batch {
  std::vector<Finished> items;  // items[0, used) are filled; the rest keep their capacity
  std::size_t used = 0;
  std::vector<detect::ConnectionStart> starts;
  std::vector<Step> steps;
  std::vector<findings::Finding> findings;        // scratch for one connection's findings
  std::vector<findings::JudgedConnection> shown;  // scratch for the observer's batch
};

class SummaryStage {
 public:
  static constexpr std::size_t kBatchItems = 256;
  static constexpr std::size_t kBatches = 8;
  // consume() prefetches index slots and connection objects this many steps ahead, and records
  // and facts half as many.
  static constexpr std::size_t kLookAhead = 4;

  // `report`: only its store (which must be set) and connections are touched by the worker.
  // `lateness`: how long after its TIME_WAIT start (or last packet) a connection can be finalised
  // at the latest.
  SummaryStage(findings::Report& report, const detect::Context& ctx, RunObserver* observer,
               Duration lateness);
  SummaryStage(const SummaryStage&) = delete;
  SummaryStage& operator=(const SummaryStage&) = delete;
  ~SummaryStage();

  // Queues a connection that started (after its first segment) or was finalised, at capture
  // time `now` (tracking thread; `now` never goes backwards).
  void began(Timestamp first);  // the first TCP packet: the time grid starts here
  void started(const tcp::Connection& c, Timestamp now);
  void finished(std::unique_ptr<tcp::Connection>& c, Timestamp now);  // swaps c with a spare
  // From now on (tracking thread): connections first seen at `t` or later may still be told of
  // late (detect::TimeWaitAccumulator::advance).
  void hold(Timestamp t) { hold_ = t; }
  // Hands over what is left and waits for the judging thread; rethrows what it threw. The
  // observing thread goes on with the last batches and the observer's on_connections_end().
  void finish();
  // Waits for the observing thread (after finish()); rethrows what it threw.
  void finish_observer();

  // The TIME_WAIT pressure over every connection (after finish()).
  detect::TimeWaitAccumulator& time_wait() { return time_wait_; }

 private:
  void make_room();
  void hand_over();
  std::unique_ptr<Batch> take_free();
  std::unique_ptr<Batch> wait_for(std::deque<std::unique_ptr<Batch>>& queue, const bool& closing);
  void recycle(std::unique_ptr<Batch> b);
  void work();
  void observe();
  void stop_judging();
  void stop_observing();
  void consume(Batch& b);
  void prefetch(const Batch& b, std::size_t k) const;
  void judge(Finished& f, Batch& b, const Step& step);
  void show(Batch& b);

  findings::Report& report_;
  detect::Context ctx_;
  RunObserver* observer_;
  detect::TimeWaitAccumulator time_wait_;
  std::unique_ptr<Batch> current_;
  Timestamp hold_{INT64_MAX};

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> ready_;   // to judge
  std::deque<std::unique_ptr<Batch>> judged_;  // to show the observer
  std::vector<std::unique_ptr<Batch>> free_;
  std::size_t created_ = 0;
  bool closing_ = false;                 // no more batches to judge
  bool judging_done_ = false;            // no more batches to show
  std::exception_ptr failure_;           // the judging thread's
  std::exception_ptr observer_failure_;  // the observing thread's
  std::thread worker_;
  std::thread observer_thread_;
};

}  // namespace lastack::pipeline::detail
