// libFuzzer target: the whole pipeline on one input file — read, decode, TCP state machine,
// flow table, detectors — with an observer streaming every connection into an in-memory SQLite
// database on the pipeline's own thread (as `--db` does), then the JSON report and the terminal
// summary built from the result. The observer also checks the contract: on_start first, each
// connection once, on_connections_end after the last one, on_finish last. The input is written
// to a scratch file because analyze() takes paths, as the program does.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"

namespace {

std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/lastack-pipeline-fuzz." +
         std::to_string(::getpid()) + ".pcap";
}

class ContractObserver final : public lastack::pipeline::RunObserver {
 public:
  // Creating the schema costs more than most inputs' analysis, so only one input in eight (by
  // its size: the choice stays with the input when it is replayed) is also written to SQLite.
  explicit ContractObserver(bool write) : write_(write) {}

  void on_start(const lastack::findings::Report& head) override {
    if (started_) std::abort();
    started_ = true;
    if (!write_) return;
    auto opened = lastack::sink::SqliteRunWriter::open(":memory:", head);
    if (!opened) std::abort();  // an in-memory database cannot fail to open
    writer_ = std::move(opened).value();
  }
  void on_connections(std::span<const lastack::findings::JudgedConnection> batch) override {
    if (!started_ || ended_ || finished_ || batch.empty()) std::abort();
    for (const lastack::findings::JudgedConnection& c : batch) {
      if (!seen_.insert(c.summary->id).second) std::abort();
    }
    if (writer_ && !writer_->add_connections(batch)) std::abort();
  }
  void on_connections_end() override {
    if (!started_ || ended_ || finished_) std::abort();
    ended_ = true;
    if (writer_ && !writer_->end_connections()) std::abort();
  }
  void on_finish(const lastack::findings::Report& report) override {
    if (!started_ || !ended_ || finished_) std::abort();
    finished_ = true;
    if (writer_ && !writer_->finish(report)) std::abort();
    // Every connection once, but for half-open attempts a memory cap dropped unanalysed.
    const std::uint64_t dropped = report.degraded ? report.degraded->evicted_half_open : 0;
    if (seen_.size() + dropped != report.connection_count) std::abort();
  }

 private:
  bool write_;
  bool started_ = false;
  bool ended_ = false;
  bool finished_ = false;
  std::set<std::uint64_t> seen_;
  std::unique_ptr<lastack::sink::SqliteRunWriter> writer_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lastack;
  static const std::string path = scratch_path();
  static std::FILE* devnull = std::fopen("/dev/null", "w");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size != 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);

  pipeline::Options options;
  options.inputs = {path};
  options.idle_timeout = Duration::from_s(5);  // also exercise expiry
  ContractObserver observer(size % 8 == 0);
  options.observer = &observer;
  // One input in three keeps its findings in the temporary file (findings::FindingStore).
  if (size % 3 == 0) options.findings_memory = 0;
  auto report = pipeline::analyze(options);
  if (!report) std::abort();  // no filter: only input faults, which are not failures
  if (report.value().inputs.size() != 1) std::abort();
  const std::string json = sink::to_json(report.value());
  if (json.empty() || json.back() != '\n') std::abort();
  sink::write_text_summary(report.value(), devnull);
  return 0;
}
