// tcpdump filter expressions, compiled by libpcap once per link type and run per packet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lastack/capture/raw_frame.h"
#include "lastack/core/result.h"

namespace lastack::capture {

class BpfFilter {
 public:
  // Compiles `expression` for Ethernet to validate it; a bad expression is a usage error.
  static Result<std::unique_ptr<BpfFilter>> compile(const std::string& expression);
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  // True when the frame passes. A link type the expression cannot be compiled for passes
  // nothing (counted by the caller as filtered out).
  bool matches(const RawFrame& frame);

 private:
  explicit BpfFilter(std::string expression);
  struct Program;
  Program* program_for(std::uint32_t link_type);

  std::string expression_;
  std::map<std::uint32_t, std::unique_ptr<Program>> programs_;
  std::uint32_t last_link_type_ = 0xFFFFFFFF;
  Program* last_program_ = nullptr;
};

}  // namespace lastack::capture
