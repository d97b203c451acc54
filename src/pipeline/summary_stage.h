// The pipeline's second thread: takes finalised connections (summary + findings) in batches
// from the analysing thread and does what needs all of them but not their packets: the
// report's findings and listed connections, TIME_WAIT pressure, and the observer (the SQLite
// writer). Batches keep the hand-over cheap (one lock per few hundred connections) and are
// recycled, and at most kBatches exist, so a slow consumer slows the producer instead of
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

#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"
#include "lastack/findings/report.h"
#include "lastack/pipeline/analyze.h"

namespace lastack::pipeline::detail {

struct Finished {
  findings::ConnectionSummary summary;
  std::uint32_t findings_begin = 0;  // this connection's findings in Batch::findings
  std::uint32_t findings_end = 0;
};

struct Batch {
  std::vector<Finished> items;  // items[0, used) are filled; the rest keep their capacity
  std::size_t used = 0;
  std::vector<findings::Finding> findings;
};

class SummaryStage {
 public:
  static constexpr std::size_t kBatchItems = 256;
  static constexpr std::size_t kBatches = 8;

  // `report`: only its findings, connections and time_wait are touched by the worker.
  SummaryStage(findings::Report& report, RunObserver* observer);
  SummaryStage(const SummaryStage&) = delete;
  SummaryStage& operator=(const SummaryStage&) = delete;
  ~SummaryStage();

  // The slot for the next finalised connection (analysing thread).
  Finished& next_slot();
  // Findings of the connection in the slot just taken go here.
  std::vector<findings::Finding>& findings_out() { return current_->findings; }
  // The slot's connection is complete.
  void commit_slot();
  // Hands over what is left and waits for the worker; rethrows what the worker threw.
  void finish();

  // Every summary, for the TIME_WAIT pressure analysis at the end.
  [[nodiscard]] const std::vector<findings::ConnectionSummary>& all_summaries() const {
    return all_;
  }

 private:
  void hand_over();
  std::unique_ptr<Batch> take_free();
  void work();
  void consume(Batch& b);

  findings::Report& report_;
  RunObserver* observer_;
  std::unique_ptr<Batch> current_;
  std::vector<findings::ConnectionSummary> all_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> ready_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::size_t created_ = 0;
  bool closing_ = false;
  std::exception_ptr failure_;
  std::thread worker_;
};

}  // namespace lastack::pipeline::detail
