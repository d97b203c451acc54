#include "support/hostile.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/conversation.h"
#include "lastack/synth/frame_builder.h"
#include "unit/capture/capture_test_helpers.h"

extern char** environ;

namespace lastack::hostile {

namespace {

namespace flag = decode::tcp_flag;

IpAddress ip(const char* text) {
  IpAddress a;
  REQUIRE(parse_ip(text, a));
  return a;
}

constexpr std::int64_t kStart = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::size_t kIp = 14;
constexpr std::size_t kTcp4 = kIp + 20;

void set16(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint32_t get16(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 8) | b[at + 1];
}

synth::TcpSegmentSpec third_tuple(std::uint8_t flags, std::uint32_t payload, bool v6) {
  synth::TcpSegmentSpec s;
  s.src = v6 ? ip("2001:db8::9") : ip("10.0.0.9");
  s.dst = v6 ? ip("2001:db8::2") : ip("10.0.0.2");
  s.src_port = 5555;
  s.dst_port = 80;
  s.seq = 7000;
  s.ack = (flags & flag::ack) != 0 ? 9000 : 0;
  s.flags = flags;
  s.payload_len = payload;
  return s;
}

}  // namespace

std::vector<synth::SynthPacket> base_packets() {
  using synth::Side;
  synth::HostSpec client{ip("10.0.0.1"), 40001, 1000};
  synth::HostSpec server{ip("10.0.0.2"), 80, 5000};
  synth::Conversation one(client, server, Timestamp{kStart});
  one.step(Duration::from_ms(10));
  one.handshake();
  one.data(Side::client, 100);
  one.data(Side::server, 200);
  one.rst_no_ack(Side::client);

  client.port = 40002;
  synth::Conversation two(client, server, Timestamp{kStart + 1'000'000'000});
  two.step(Duration::from_ms(10));
  two.handshake();
  two.data(Side::client, 50);
  two.ack(Side::server);
  two.fin(Side::client);
  two.fin(Side::server);
  two.ack(Side::client);

  std::vector<synth::SynthPacket> all = one.packets();
  all.insert(all.end(), two.packets().begin(), two.packets().end());
  REQUIRE(one.packets().size() == kFirstConnFrames);
  REQUIRE(all.size() == kBaseFrames);
  return all;
}

Bytes base_pcap(const synth::PcapOptions& options) {
  return synth::write_pcap(base_packets(), options);
}

Bytes base_pcapng() {
  return synth::write_pcapng(base_packets());
}

std::vector<synth::SynthPacket> long_packets() {
  synth::Conversation c({ip("10.0.1.1"), 50000, 1}, {ip("10.0.1.2"), 443, 2},
                        Timestamp{kStart + 100'000'000'000});
  c.syn(synth::Side::client);
  c.syn_ack();
  c.ack(synth::Side::client);
  for (int i = 0; i < 4000; ++i) c.data(synth::Side::client, 100);
  std::vector<synth::SynthPacket> all = base_packets();
  all.insert(all.end(), c.packets().begin(), c.packets().end());
  REQUIRE(all.size() == kLongFrames);
  return all;
}

Bytes long_pcap() {
  return synth::write_pcap(long_packets());
}

std::vector<std::size_t> pcap_record_offsets(const Bytes& pcap) {
  std::vector<std::size_t> at;
  std::size_t pos = 24;
  while (pos + 16 <= pcap.size()) {
    at.push_back(pos);
    const std::uint32_t caplen = pcap[pos + 8] | (pcap[pos + 9] << 8) | (pcap[pos + 10] << 16) |
                                 (std::uint32_t{pcap[pos + 11]} << 24);
    pos += 16 + caplen;
  }
  return at;
}

void put32le(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

Bytes cut(Bytes b, std::size_t size) {
  b.resize(size);
  return b;
}

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(gen());
  return b;
}

Bytes text_bytes() {
  const std::string t =
      "# Release notes\n\nThis is not a capture. It is a text file someone named .pcap.\n";
  return {t.begin(), t.end()};
}

Bytes pcap_with_frames(const std::vector<Bytes>& hostile, std::uint32_t link_type) {
  std::vector<synth::SynthPacket> packets = base_packets();
  std::vector<synth::SynthPacket> extra;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    synth::SynthPacket p;
    p.ts = Timestamp{kStart + 500'000'000 + static_cast<std::int64_t>(i) * 1000};
    p.bytes = hostile[i];
    extra.push_back(std::move(p));
  }
  packets.insert(packets.begin() + kFirstConnFrames, extra.begin(), extra.end());
  synth::PcapOptions o;
  o.link_type = link_type;
  return synth::write_pcap(packets, o);
}

Bytes ng_shb() {
  capture::testing::NgBuilder b;
  b.shb();
  return b.bytes();
}
Bytes ng_idb(std::uint16_t link_type) {
  capture::testing::NgBuilder b;
  b.idb(link_type);
  return b.bytes();
}
Bytes ng_epb(std::uint32_t interface_id, const Bytes& frame, std::uint64_t ticks) {
  capture::testing::NgBuilder b;
  b.epb(interface_id, ticks != 0 ? ticks : 1'700'000'000'000'000ULL, frame);
  return b.bytes();
}
Bytes ng_block(std::uint32_t type, const Bytes& body, std::uint32_t length, std::uint32_t trailer) {
  capture::testing::NgBuilder b;
  b.block(type, body, length, trailer);
  return b.bytes();
}

Bytes gzip(const Bytes& in) {
  return capture::testing::gzip(in);
}
Bytes zstd(const Bytes& in) {
  // With the content checksum, as the zstd command writes by default.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  Bytes out(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), in.size());
  ZSTD_freeCCtx(cctx);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Bytes tcp_frame(std::uint8_t flags, std::uint32_t payload, bool v6) {
  return synth::build_frame(third_tuple(flags, payload, v6));
}

Bytes frame_ipv4_ihl(std::uint8_t ihl_nibble, std::size_t keep) {
  Bytes f = tcp_frame(flag::syn);
  f[kIp] = static_cast<std::uint8_t>(0x40 | ihl_nibble);
  if (keep != 0) f.resize(keep);
  return f;
}

Bytes frame_ipv4_total_length(std::uint16_t total_length) {
  Bytes f = tcp_frame(flag::syn);
  set16(f, kIp + 2, total_length);
  return f;
}

Bytes frame_ipv4_options() {
  Bytes f = tcp_frame(flag::syn);
  const Bytes options = {0x01, 0x01, 0x07, 0x03, 0x04, 0x00, 0x01, 0x00};  // NOP NOP RR(3) EOL
  f.insert(f.begin() + kTcp4, options.begin(), options.end());
  f[kIp] = 0x47;
  set16(f, kIp + 2, get16(f, kIp + 2) + 8);
  return f;
}

Bytes frame_tcp_offset(std::uint8_t offset_nibble) {
  Bytes f = tcp_frame(flag::syn);
  f[kTcp4 + 12] = static_cast<std::uint8_t>(offset_nibble << 4);
  return f;
}

Bytes frame_tcp_options(const Bytes& raw_options) {
  synth::TcpSegmentSpec s = third_tuple(flag::syn, 0, false);
  s.raw_options = raw_options;
  return synth::build_frame(s);
}

Bytes frame_ipv6_ext_chain(int headers) {
  Bytes f = tcp_frame(flag::syn, 0, true);
  const std::size_t tcp6 = kIp + 40;
  for (int i = 0; i < headers; ++i) {
    Bytes ext = {f[kIp + 6], 0, 0x01, 0x04, 0, 0, 0, 0};  // destination options, PadN
    f[kIp + 6] = 60;
    f.insert(f.begin() + tcp6, ext.begin(), ext.end());
    set16(f, kIp + 4, get16(f, kIp + 4) + 8);
  }
  return f;
}

Bytes frame_ipv4_fragment() {
  Bytes f = tcp_frame(flag::ack, 100);
  set16(f, kIp + 6, 0x2000);  // MF, offset 0
  return f;
}

Bytes frame_ipv6_fragment() {
  Bytes f = tcp_frame(flag::ack, 100, true);
  const Bytes frag = {f[kIp + 6], 0, 0x00, 0x01, 0, 0, 0, 7};  // offset 0, M = 1
  f[kIp + 6] = 44;
  f.insert(f.begin() + kIp + 40, frag.begin(), frag.end());
  set16(f, kIp + 4, get16(f, kIp + 4) + 8);
  return f;
}

Bytes frame_vlan_stack(int tags) {
  synth::TcpSegmentSpec s = third_tuple(flag::syn, 0, false);
  s.vlan_ids.assign(static_cast<std::size_t>(tags), 7);
  return synth::build_frame(s);
}

Bytes frame_arp() {
  Bytes f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,    0, 0,  1, 0x08, 0x06,
             0,    1,    0x08, 0,    6,    4,    0,    1, 0x02, 0, 0,  0, 0,    1,
             10,   0,    0,    1,    0,    0,    0,    0, 0,    0, 10, 0, 0,    2};
  f.resize(60, 0);
  return f;
}

Bytes frame_udp() {
  Bytes f = tcp_frame(0, 20);
  f[kIp + 9] = 17;
  return f;
}

Bytes frame_icmp_quoting_tcp() {
  // An IPv4 header (protocol 1) from 10.0.0.2, then ICMP type 3 code 3 quoting the first 28
  // bytes of connection 1's SYN as it was sent (10.0.0.1:40001 -> 10.0.0.2:80).
  const Bytes syn = base_packets().front().bytes;
  Bytes f(syn.begin(), syn.begin() + kIp);  // the same Ethernet header
  Bytes ipv4 = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1};
  Bytes icmp = {3, 3, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), syn.begin() + kIp, syn.begin() + kTcp4 + 8);
  set16(ipv4, 2, static_cast<std::uint32_t>(ipv4.size() + icmp.size()));
  f.insert(f.end(), ipv4.begin(), ipv4.end());
  f.insert(f.end(), icmp.begin(), icmp.end());
  return f;
}

// --- Running the binary ---------------------------------------------------------------------

Scratch::Scratch(const std::string& tag) {
  static int counter = 0;
  const char* base = std::getenv("LASTACK_TEST_TMP");
  path_ = base != nullptr ? fs::path(base) : fs::temp_directory_path() / "lastack-test";
  path_ /= "robust-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

Scratch::~Scratch() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  for (const auto& e : fs::recursive_directory_iterator(path_, ec)) {
    if (e.is_directory(ec))
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

namespace {

pid_t spawn(const fs::path& dir, const std::vector<std::string>& args, int stdin_fd) {
  const fs::path out_path = dir / ".stdout";
  const fs::path err_path = dir / ".stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> storage{LASTACK_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, LASTACK_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

RunResult collect(const fs::path& dir, pid_t pid) {
  int status = 0;
  struct rusage usage {};
  REQUIRE(::wait4(pid, &status, 0, &usage) == pid);
  RunResult r;
  r.max_rss_kb = usage.ru_maxrss;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(dir / ".stdout");
  r.err = read_text(dir / ".stderr");
  fs::remove(dir / ".stdout");
  fs::remove(dir / ".stderr");
  return r;
}

}  // namespace

RunResult run_lastack(const fs::path& dir, const std::vector<std::string>& args) {
  return collect(dir, spawn(dir, args, -1));
}

Child spawn_lastack_piped(const fs::path& dir, const std::vector<std::string>& args) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  Child c;
  c.pid = spawn(dir, args, fds[0]);
  ::close(fds[0]);
  c.stdin_fd = fds[1];
  return c;
}

RunResult wait_lastack(const fs::path& dir, Child& child) {
  if (child.stdin_fd >= 0) ::close(child.stdin_fd);
  child.stdin_fd = -1;
  return collect(dir, child.pid);
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::size_t count_kind(const nlohmann::json& report, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : report["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

}  // namespace lastack::hostile
