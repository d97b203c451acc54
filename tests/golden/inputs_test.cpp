// The same traffic, however it arrives — pcap, pcapng, gzip, zstd, standard input, or split into
// rotated files — gives the same connections and findings.
#include <catch2/catch.hpp>

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "lastack/capture/packet_source.h"
#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "lastack/synth/capture_writer.h"
#include "support/golden.h"

namespace fs = std::filesystem;

namespace {

struct Capture {
  std::vector<lastack::synth::SynthPacket> packets;
  std::uint32_t link_type = 1;
};

Capture read_capture(const std::string& path) {
  Capture c;
  auto src = lastack::capture::open_capture(path, 0);
  REQUIRE(src.ok());
  lastack::capture::RawFrame f;
  while (src.value()->next(f)) {
    c.link_type = f.link_type;
    c.packets.push_back({f.ts, {f.bytes.begin(), f.bytes.end()}, f.orig_len, 0});
  }
  return c;
}

std::string scratch(const std::string& name) {
  const char* env = std::getenv("LASTACK_TEST_TMP");
  const fs::path dir =
      fs::path(env != nullptr ? env : fs::temp_directory_path().string()) / "inputs_test";
  fs::create_directories(dir);
  return (dir / name).string();
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> gzip_of(const std::vector<std::uint8_t>& in) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&z, in.size()) + 64);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::vector<std::uint8_t> zstd_of(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Findings and connections with every frame turned into its position in the whole traffic, so
// that reports of differently split inputs can be compared.
// Inputs are taken in time order (rotated files do not overlap), whatever the argument order.
nlohmann::json comparable(const nlohmann::json& report) {
  const auto& inputs = report["inputs"];
  std::vector<std::size_t> order(inputs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return inputs[a]["first_ts"].get<std::string>() < inputs[b]["first_ts"].get<std::string>();
  });
  std::vector<std::uint64_t> base(inputs.size());  // frames before each input
  std::uint64_t total = 0;
  for (std::size_t i : order) {
    base[i] = total;
    total += inputs[i]["packets"].get<std::uint64_t>();
  }
  nlohmann::json out;
  out["connections"] = report["connections"];
  for (auto& c : out["connections"]) {
    c["first_frame"] = base[c["input"].get<std::size_t>()] + c["first_frame"].get<std::uint64_t>();
    c.erase("input");
  }
  out["findings"] = report["findings"];
  for (auto& f : out["findings"]) {
    nlohmann::json frames = nlohmann::json::array();
    if (f.contains("frame_refs")) {
      for (const auto& r : f["frame_refs"]) {
        frames.push_back(base[r["input"].get<std::size_t>()] + r["frame"].get<std::uint64_t>());
      }
      f.erase("frame_refs");
    } else {
      for (const auto& n : f["frames"]) {
        frames.push_back(base[f["input"].get<std::size_t>()] + n.get<std::uint64_t>());
      }
    }
    f["frames"] = frames;
    f.erase("input");
  }
  return out;
}

nlohmann::json analyze(const std::vector<std::string>& paths) {
  lastack::pipeline::Options o;
  o.inputs = paths;
  o.settings.all_connections = true;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  return nlohmann::json::parse(lastack::sink::to_json(r.value()));
}

const char* const kSample = "samples/real/lost_final_ack_x3.client.pcap";

}  // namespace

TEST_CASE("pcap, pcapng, gzip, zstd and stdin give identical results", "[inputs]") {
  const std::string original = lastack::test::source_path(kSample);
  const nlohmann::json reference = comparable(analyze({original}));
  REQUIRE(reference["findings"].size() == 2);
  const Capture cap = read_capture(original);
  const std::string text = lastack::test::read_text(original);
  const std::vector<std::uint8_t> pcap_bytes(text.begin(), text.end());
  lastack::synth::PcapngOptions ng;
  ng.interfaces[0].link_type = cap.link_type;
  ng.interfaces[0].tsresol = 9;
  const std::map<std::string, std::vector<std::uint8_t>> variants = {
      {"copy.pcapng", lastack::synth::write_pcapng(cap.packets, ng)},
      {"copy.pcap.gz", gzip_of(pcap_bytes)},
      {"copy.pcap.zst", zstd_of(pcap_bytes)},
      {"copy-named-wrongly.pcap", gzip_of(pcap_bytes)},  // detected by content, not by name
  };
  for (const auto& [name, bytes] : variants) {
    DYNAMIC_SECTION(name) {
      const std::string path = scratch(name);
      write_bytes(path, bytes);
      const nlohmann::json report = analyze({path});
      CHECK(lastack::test::first_difference(comparable(report), reference) == "");
      CHECK(report["inputs"][0]["status"] == "ok");
    }
  }
  SECTION("standard input") {
    const std::string out = scratch("stdin.json");
    const std::string cmd = std::string(LASTACK_BINARY) +
                            " analyze - --connections all --quiet --json '" + out + "' < '" +
                            original + "'";
    const int rc = std::system(cmd.c_str());
    CHECK(WEXITSTATUS(rc) == 0);  // the findings are warnings; --fail-on is error
    const nlohmann::json report = nlohmann::json::parse(lastack::test::read_text(out));
    CHECK(report["inputs"][0]["path"] == "-");
    CHECK(lastack::test::first_difference(comparable(report), reference) == "");
  }
}

TEST_CASE("a capture split into rotated files reads as one capture", "[inputs]") {
  const std::string original = lastack::test::source_path(kSample);
  const nlohmann::json reference = comparable(analyze({original}));
  const Capture cap = read_capture(original);
  for (std::size_t per_file : {1U, 4U, 5U, 11U}) {
    DYNAMIC_SECTION("files of " << per_file << " packets") {
      std::vector<std::string> paths;
      for (std::size_t i = 0; i < cap.packets.size(); i += per_file) {
        std::vector<lastack::synth::SynthPacket> part(
            cap.packets.begin() + static_cast<std::ptrdiff_t>(i),
            cap.packets.begin() +
                static_cast<std::ptrdiff_t>(std::min(i + per_file, cap.packets.size())));
        lastack::synth::PcapOptions po;
        po.link_type = cap.link_type;
        paths.push_back(
            scratch("rot" + std::to_string(per_file) + "." + std::to_string(paths.size())));
        write_bytes(paths.back(), lastack::synth::write_pcap(part, po));
      }
      const nlohmann::json in_order = analyze(paths);
      CHECK(in_order["inputs"].size() == paths.size());
      CHECK(lastack::test::first_difference(comparable(in_order), reference) == "");
      // The merge is by time, not by argument order.
      std::reverse(paths.begin(), paths.end());
      CHECK(lastack::test::first_difference(comparable(analyze(paths)), reference) == "");
    }
  }
}
