#include "lastack/capture/raw_frame.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace lastack::capture {

// Names as pcap_datalink_val_to_name() gives them (tcpdump prints these). LINKTYPE 12 and 14
// are the DLT_RAW values of some BSDs, which libpcap maps to LINKTYPE_RAW.
const char* linktype_name(std::uint32_t link_type) {
  switch (link_type) {
    case linktype::null_loopback: return "NULL";
    case linktype::ethernet: return "EN10MB";
    case linktype::raw:
    case linktype::raw_dlt12:
    case linktype::raw_dlt14: return "RAW";
    case linktype::loop: return "LOOP";
    case linktype::linux_sll: return "LINUX_SLL";
    case linktype::linux_sll2: return "LINUX_SLL2";
    case linktype::ipv4: return "IPV4";
    case linktype::ipv6: return "IPV6";
    case linktype::nflog: return "NFLOG";
    default: break;
  }
  // Other values get a generated name that must outlive the call: intern it. Link types are
  // 16-bit in both file formats, so the table is bounded however hostile the input.
  static std::mutex mutex;
  static std::unordered_map<std::uint32_t, std::string> names;
  const std::lock_guard<std::mutex> lock(mutex);
  auto [it, inserted] = names.try_emplace(link_type);
  if (inserted) it->second = "LINKTYPE_" + std::to_string(link_type);
  return it->second.c_str();
}

}  // namespace lastack::capture
