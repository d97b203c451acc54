// Micro-benchmarks of the hot path, layer by layer, on bench traffic (bench_traffic.h):
//   BM_Reader     open_capture + next() over a whole pcap / pcapng file (page-cached)
//   BM_Decode     decode_frame on frames already in memory
//   BM_FlowTable  FlowTable::on_segment + expire on segments already decoded (no detectors)
//   BM_Analyze    pipeline::analyze end to end (detectors, no sinks)
// Items/s = packets/s. The capture (LASTACK_MICROBENCH_PACKETS, default 200000) is generated
// once into $TMPDIR.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lastack/capture/packet_source.h"
#include "lastack/decode/decoded_packet.h"
#include "lastack/flow/flow_table.h"
#include "lastack/pipeline/analyze.h"
#include "lastack/synth/bench_traffic.h"
#include "lastack/tcp/four_tuple.h"
#include "lastack/tcp/segment.h"

namespace {

using namespace lastack;

std::string capture_path(bool pcapng) {
  static std::string paths[2];
  std::string& p = paths[pcapng ? 1 : 0];
  if (!p.empty()) return p;
  const char* env = std::getenv("LASTACK_MICROBENCH_PACKETS");
  synth::BenchConfig cfg;
  cfg.seed = 7;
  cfg.packets = env != nullptr ? std::strtoull(env, nullptr, 10) : 200000;
  cfg.pcapng = pcapng;
  p = (std::filesystem::temp_directory_path() /
       ("lastack-microbench-" + std::to_string(cfg.packets) + (pcapng ? ".pcapng" : ".pcap")))
          .string();
  synth::BenchTruth truth;
  if (!synth::generate_bench_capture(cfg, p, truth)) std::abort();
  return p;
}

// Frames held in memory (bytes copied out of the reader's buffer).
struct Frames {
  std::vector<capture::RawFrame> frames;
  std::vector<std::vector<std::uint8_t>> bytes;
};

const Frames& frames() {
  static std::unique_ptr<Frames> f;
  if (f) return *f;
  f = std::make_unique<Frames>();
  auto src = capture::open_capture(capture_path(false), 0);
  if (!src) std::abort();
  capture::RawFrame fr;
  while (src.value()->next(fr)) {
    f->bytes.emplace_back(fr.bytes.begin(), fr.bytes.end());
    f->frames.push_back(fr);
  }
  for (std::size_t i = 0; i < f->frames.size(); ++i) f->frames[i].bytes = ByteView(f->bytes[i]);
  return *f;
}

struct Decoded {
  tcp::FourTuple key;
  tcp::Dir dir;
  tcp::Segment seg;
};

const std::vector<Decoded>& decoded() {
  static std::vector<Decoded> d;
  if (!d.empty()) return d;
  decode::DecodedPacket pkt;
  for (const capture::RawFrame& fr : frames().frames) {
    decode::decode_frame(fr, pkt);
    if (pkt.outcome != decode::Outcome::tcp) continue;
    Decoded x;
    x.key =
        tcp::FourTuple::from_packet(pkt.src, pkt.tcp.src_port, pkt.dst, pkt.tcp.dst_port, x.dir);
    x.seg = tcp::make_segment(fr, pkt);
    d.push_back(x);
  }
  return d;
}

void BM_Reader(benchmark::State& state) {
  const std::string path = capture_path(state.range(0) != 0);
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto src = capture::open_capture(path, 0);
    capture::RawFrame fr;
    while (src.value()->next(fr)) {
      benchmark::DoNotOptimize(fr.bytes.data());
      ++n;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  state.SetLabel(state.range(0) != 0 ? "pcapng" : "pcap");
}
BENCHMARK(BM_Reader)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const Frames& f = frames();
  decode::DecodedPacket pkt;
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (const capture::RawFrame& fr : f.frames) {
      decode::decode_frame(fr, pkt);
      benchmark::DoNotOptimize(pkt.tcp.seq);
    }
    n += f.frames.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_DecodeAndSegment(benchmark::State& state) {
  const Frames& f = frames();
  decode::DecodedPacket pkt;
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (const capture::RawFrame& fr : f.frames) {
      decode::decode_frame(fr, pkt);
      tcp::Dir dir;
      const tcp::FourTuple key =
          tcp::FourTuple::from_packet(pkt.src, pkt.tcp.src_port, pkt.dst, pkt.tcp.dst_port, dir);
      const tcp::Segment s = tcp::make_segment(fr, pkt);
      benchmark::DoNotOptimize(key);
      benchmark::DoNotOptimize(s);
    }
    n += f.frames.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_DecodeAndSegment)->Unit(benchmark::kMillisecond);

void BM_FlowTable(benchmark::State& state) {
  const std::vector<Decoded>& d = decoded();
  std::uint64_t n = 0;
  std::uint64_t finalized = 0;
  for (auto _ : state) {
    flow::FlowTable table(flow::FlowSettings{}, [&finalized](std::unique_ptr<tcp::Connection>& c) {
      finalized += c->id();
    });
    for (const Decoded& x : d) {
      table.on_segment(x.key, x.dir, x.seg, 0);
      table.expire(x.seg.ts);
    }
    table.finish();
    n += d.size();
  }
  benchmark::DoNotOptimize(finalized);
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_FlowTable)->Unit(benchmark::kMillisecond);

void BM_Analyze(benchmark::State& state) {
  pipeline::Options opt;
  opt.inputs = {capture_path(false)};
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto r = pipeline::analyze(opt);
    n += r.value().counters.packets;
    benchmark::DoNotOptimize(r.value().findings.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_Analyze)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
