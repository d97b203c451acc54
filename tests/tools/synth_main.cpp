// lastack-synth: writes the synthetic teardown scenarios of src/synth/scenarios.cpp.
//   lastack-synth list                 names and one-line summaries
//   lastack-synth write NAME FILE      one scenario (pcap, or pcapng where the scenario says so)
//   lastack-synth write-all DIR        DIR/NAME.pcap[ng] for every scenario, and DIR/README.md
//   lastack-synth syn-flood --count N --seed S --out FILE [--legit N] [--rate SYNS_PER_S]
//                                      a SYN flood with a few legitimate connections (syn_flood.h)
// Exit status: 0 success, 2 usage error or a file that could not be written.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/synth/scenarios.h"
#include "lastack/synth/syn_flood.h"

namespace {

namespace synth = lastack::synth;

void usage(std::FILE* to) {
  std::fputs(
      "usage: lastack-synth list\n"
      "       lastack-synth write NAME FILE\n"
      "       lastack-synth write-all DIR\n"
      "       lastack-synth syn-flood --count N --seed S --out FILE [--legit N] [--rate R]\n"
      "Writes the synthetic teardown captures (samples/synthetic). Exit status 0, or 2 on error.\n",
      to);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "lastack-synth: %s\n", message.c_str());
  return 2;
}

int list() {
  std::size_t width = 0;
  for (const synth::ScenarioEntry& e : synth::scenario_registry())
    width = std::max(width, e.name.size());
  for (const synth::ScenarioEntry& e : synth::scenario_registry()) {
    std::printf("%-*s  %s\n", static_cast<int>(width), e.name.c_str(), e.summary.c_str());
  }
  return 0;
}

int write(std::string_view name, const std::string& file) {
  const std::optional<synth::Scenario> s = synth::make_scenario(name);
  if (!s) return fail("no scenario named '" + std::string(name) + "' (see 'lastack-synth list')");
  if (!synth::write_file(file, s->file_bytes())) return fail("cannot write '" + file + "'");
  return 0;
}

int write_all(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create directory '" + dir + "': " + ec.message());
  const std::vector<synth::Scenario> all = synth::make_all_scenarios();
  for (const synth::Scenario& s : all) {
    const std::string path = dir + "/" + s.file_name();
    if (!synth::write_file(path, s.file_bytes())) return fail("cannot write '" + path + "'");
  }
  const std::string readme = synth::scenarios_readme(all);
  const std::string path = dir + "/README.md";
  if (!synth::write_file(path, std::vector<std::uint8_t>(readme.begin(), readme.end()))) {
    return fail("cannot write '" + path + "'");
  }
  std::printf("lastack-synth: wrote %zu scenarios and README.md to %s\n", all.size(), dir.c_str());
  return 0;
}

// "--name value" pairs after `syn-flood`.
int syn_flood(const std::vector<std::string>& args) {
  synth::SynFloodConfig cfg;
  std::string out;
  for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
    const std::string& name = args[i];
    const std::string& value = args[i + 1];
    try {
      if (name == "--count")
        cfg.syns = std::stoull(value);
      else if (name == "--seed")
        cfg.seed = std::stoull(value);
      else if (name == "--legit")
        cfg.legitimate = static_cast<std::uint32_t>(std::stoul(value));
      else if (name == "--rate")
        cfg.syns_per_s = std::stod(value);
      else if (name == "--out")
        out = value;
      else
        return fail("unknown option '" + name + "' for syn-flood");
    } catch (const std::logic_error&) {
      return fail("invalid value '" + value + "' for " + name);
    }
  }
  if (args.size() % 2 == 0 || out.empty() || cfg.syns_per_s <= 0) {
    return fail("syn-flood needs --out FILE and a value after every option");
  }
  synth::SynFloodTruth truth;
  const lastack::Status st = synth::generate_syn_flood(cfg, out, truth);
  if (!st) return fail(st.error().message);
  std::printf("lastack-synth: wrote %llu packets to %s; most targeted %s (%llu SYNs)\n",
              static_cast<unsigned long long>(truth.packets), out.c_str(),
              truth.servers.front().c_str(),
              static_cast<unsigned long long>(truth.syns_per_server.front()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    usage(stderr);
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  try {
    if (cmd == "list" && args.size() == 1) return list();
    if (cmd == "write" && args.size() == 3) return write(args[1], args[2]);
    if (cmd == "write-all" && args.size() == 2) return write_all(args[1]);
    if (cmd == "syn-flood") return syn_flood(args);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  }
  if (cmd != "list" && cmd != "write" && cmd != "write-all" && cmd != "syn-flood") {
    std::fprintf(stderr, "lastack-synth: unknown command '%s'\n", cmd.c_str());
  } else {
    std::fprintf(stderr, "lastack-synth: wrong number of arguments for '%s'\n", cmd.c_str());
  }
  usage(stderr);
  return 2;
}
