#include "lastack/capture/bpf_filter.h"

#include <pcap/pcap.h>

namespace lastack::capture {

struct BpfFilter::Program {
  bpf_program prog{};
  bool ok = false;
  ~Program() {
    if (ok) pcap_freecode(&prog);
  }
};

namespace {

// Compiles for one link type; the error text is libpcap's own ("syntax error", …).
bool compile_for(std::uint32_t link_type, const std::string& expr, bpf_program& prog,
                 std::string& error) {
  pcap_t* dead = pcap_open_dead(static_cast<int>(link_type), 262144);
  if (dead == nullptr) {
    error = "cannot prepare libpcap";
    return false;
  }
  const bool ok = pcap_compile(dead, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
  if (!ok) error = pcap_geterr(dead);
  pcap_close(dead);
  return ok;
}

}  // namespace

Result<std::unique_ptr<BpfFilter>> BpfFilter::compile(const std::string& expression) {
  bpf_program prog{};
  std::string error;
  if (!compile_for(1, expression, prog, error)) {
    return make_error(ErrorCode::usage, "bad filter expression '" + expression + "': " + error);
  }
  pcap_freecode(&prog);
  return std::unique_ptr<BpfFilter>(new BpfFilter(expression));
}

BpfFilter::BpfFilter(std::string expression) : expression_(std::move(expression)) {}
BpfFilter::~BpfFilter() = default;

BpfFilter::Program* BpfFilter::program_for(std::uint32_t link_type) {
  if (link_type == last_link_type_) return last_program_;
  auto& slot = programs_[link_type];
  if (!slot) {
    slot = std::make_unique<Program>();
    std::string error;
    slot->ok = compile_for(link_type, expression_, slot->prog, error);
  }
  last_link_type_ = link_type;
  last_program_ = slot.get();
  return last_program_;
}

bool BpfFilter::matches(const RawFrame& frame) {
  Program* p = program_for(frame.link_type);
  if (!p->ok) return false;
  pcap_pkthdr hdr{};
  hdr.caplen = static_cast<bpf_u_int32>(frame.bytes.size());
  hdr.len = frame.orig_len;
  return pcap_offline_filter(&p->prog, &hdr, frame.bytes.data()) != 0;
}

}  // namespace lastack::capture
