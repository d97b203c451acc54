#include <catch2/catch.hpp>
#include <string>

#include "lastack/capture/packet_source.h"
#include "lastack/capture/raw_frame.h"

using namespace lastack::capture;

TEST_CASE("link types are named as libpcap names them", "[capture][linktype]") {
  CHECK(std::string(linktype_name(0)) == "NULL");
  CHECK(std::string(linktype_name(1)) == "EN10MB");
  CHECK(std::string(linktype_name(101)) == "RAW");
  CHECK(std::string(linktype_name(12)) == "RAW");
  CHECK(std::string(linktype_name(14)) == "RAW");
  CHECK(std::string(linktype_name(108)) == "LOOP");
  CHECK(std::string(linktype_name(113)) == "LINUX_SLL");
  CHECK(std::string(linktype_name(276)) == "LINUX_SLL2");
  CHECK(std::string(linktype_name(228)) == "IPV4");
  CHECK(std::string(linktype_name(229)) == "IPV6");
  CHECK(std::string(linktype_name(239)) == "NFLOG");
  CHECK(std::string(linktype_name(105)) == "LINKTYPE_105");
  // Generated names stay valid after other calls.
  const char* a = linktype_name(147);
  const char* b = linktype_name(148);
  CHECK(std::string(a) == "LINKTYPE_147");
  CHECK(std::string(b) == "LINKTYPE_148");
  CHECK(linktype_name(147) == a);
}

TEST_CASE("formats and input statuses have report names", "[capture][linktype]") {
  CHECK(std::string(to_string(Format::pcap)) == "pcap");
  CHECK(std::string(to_string(Format::pcapng)) == "pcapng");
  CHECK(std::string(to_string(InputStatus::ok)) == "ok");
  CHECK(std::string(to_string(InputStatus::truncated)) == "truncated");
  CHECK(std::string(to_string(InputStatus::error)) == "error");
}
