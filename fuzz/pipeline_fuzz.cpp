// libFuzzer target: the whole pipeline on one input file — read, decode, TCP state machine,
// flow table, detectors — then the JSON report and the terminal summary built from the result.
// The input is written to a scratch file because analyze() takes paths, as the program does.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"

namespace {

std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/lastack-pipeline-fuzz." +
         std::to_string(::getpid()) + ".pcap";
}

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
  auto report = pipeline::analyze(options);
  if (!report) std::abort();  // no filter: only input faults, which are not failures
  if (report.value().inputs.size() != 1) std::abort();
  const std::string json = sink::to_json(report.value());
  if (json.empty() || json.back() != '\n') std::abort();
  sink::write_text_summary(report.value(), devnull);
  return 0;
}
