#include "lastack/findings/finding_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace lastack::findings {

namespace {

// Records are read back by the process that wrote them: native byte order and layout.
template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_text(std::string& out, std::string_view s) {
  put(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// A record this store wrote; running out of bytes would be a bug, not bad input.
class Record {
 public:
  explicit Record(std::string_view bytes) : rest_(bytes) {}
  template <class T>
  T get() {
    T v;
    take(&v, sizeof(T));
    return v;
  }
  std::string_view text() {
    const auto n = get<std::uint32_t>();
    if (n > rest_.size()) throw std::logic_error("finding store: corrupt record");
    const std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }

 private:
  void take(void* dst, std::size_t n) {
    if (n > rest_.size()) throw std::logic_error("finding store: corrupt record");
    std::memcpy(dst, rest_.data(), n);
    rest_.remove_prefix(n);
  }
  std::string_view rest_;
};

template <class T>
T vector_of(Record& r) {
  T v(r.get<std::uint32_t>());
  for (auto& x : v) x = r.get<typename T::value_type>();
  return v;
}

// An unlinked file in $TMPDIR (else /tmp): nothing is left behind, whatever way the run ends.
int open_temporary() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string path = dir + "/lastack-findings-XXXXXX";
  const int named = ::mkstemp(path.data());
  if (named >= 0) ::unlink(path.c_str());
  return named;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    offset += static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace

FindingStore::FindingStore(std::uint64_t memory_budget) : budget_(memory_budget) {}

FindingStore::~FindingStore() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint32_t FindingStore::intern(std::string_view name) {
  const auto found = name_ids_.find(name);
  if (found != name_ids_.end()) return found->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(names_.back(), id);
  return id;
}

std::uint32_t FindingStore::intern_key(std::string_view literal) {
  const auto [it, fresh] = key_ids_.try_emplace(literal, static_cast<std::uint32_t>(keys_.size()));
  if (fresh) keys_.push_back(literal);
  return it->second;
}

void FindingStore::encode(const Finding& f, std::string& out) {
  out.clear();
  put(out, static_cast<std::uint8_t>(f.confidence));
  put_text(out, f.subject);
  put_text(out, f.message);
  put(out, static_cast<std::uint32_t>(f.frames.size()));
  for (const FrameRef& fr : f.frames) {
    put(out, fr.input);
    put(out, fr.frame_no);
  }
  put(out, static_cast<std::uint32_t>(f.evidence.size()));
  for (const auto& [key, value] : f.evidence) {
    put(out, intern_key(key));
    put(out, static_cast<std::uint8_t>(value.index()));
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_text(out, v);
          } else if constexpr (std::is_same_v<T, std::vector<double>> ||
                               std::is_same_v<T, std::vector<std::int64_t>>) {
            put(out, static_cast<std::uint32_t>(v.size()));
            for (const auto x : v) put(out, x);
          } else {
            put(out, v);
          }
        },
        value);
  }
  put(out, static_cast<std::uint32_t>(f.links.size()));
  for (const FindingLink& l : f.links) {
    put(out, l.connection_id);
    put(out, intern(l.kind));
  }
}

// The fields encode() wrote; kind, cause, connection and time come from the entry.
void FindingStore::decode(std::string_view record, Finding& out) const {
  Record r(record);
  out.confidence = static_cast<Confidence>(r.get<std::uint8_t>());
  out.subject.assign(r.text());
  out.message.assign(r.text());
  out.frames.resize(r.get<std::uint32_t>());
  for (FrameRef& fr : out.frames) {
    fr.input = r.get<decltype(fr.input)>();
    fr.frame_no = r.get<decltype(fr.frame_no)>();
  }
  out.evidence.clear();
  const auto n = r.get<std::uint32_t>();
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::string_view key = keys_[r.get<std::uint32_t>()];
    switch (r.get<std::uint8_t>()) {
      case 0: out.evidence.emplace_back(key, r.get<bool>()); break;
      case 1: out.evidence.emplace_back(key, r.get<std::int64_t>()); break;
      case 2: out.evidence.emplace_back(key, r.get<double>()); break;
      case 3: out.evidence.emplace_back(key, std::string(r.text())); break;
      case 4: out.evidence.emplace_back(key, vector_of<std::vector<double>>(r)); break;
      case 5: out.evidence.emplace_back(key, vector_of<std::vector<std::int64_t>>(r)); break;
      default: throw std::logic_error("finding store: corrupt record");
    }
  }
  out.links.resize(r.get<std::uint32_t>());
  for (FindingLink& l : out.links) {
    l.connection_id = r.get<std::uint64_t>();
    l.kind = names_[r.get<std::uint32_t>()];
  }
}

void FindingStore::add(const Finding& f) {
  encode(f, scratch_);
  Entry e;
  e.ts = f.ts;
  e.connection_id = f.connection_id;
  e.offset = file_bytes_ + tail_.size();
  e.length = static_cast<std::uint32_t>(scratch_.size());
  e.kind = intern(f.kind);
  e.cause = intern(f.cause);
  e.severity = f.severity;
  entries_.push_back(e);
  tail_ += scratch_;
  if (tail_.size() > budget_ && !file_failed_) spill();
}

// Moves the memory tail to the file (whole records only, so a record is in one place).
void FindingStore::spill() {
  if (fd_ < 0) fd_ = open_temporary();
  if (fd_ < 0 || !write_all(fd_, tail_.data(), tail_.size())) {
    file_failed_ = true;  // keep the records in memory from here on (see the header)
    return;
  }
  file_bytes_ += tail_.size();
  tail_.clear();
  tail_.shrink_to_fit();
}

void FindingStore::load(const Entry& e, std::string& buf) const {
  if (e.offset >= file_bytes_) {
    buf.assign(tail_, e.offset - file_bytes_, e.length);
    return;
  }
  buf.resize(e.length);
  if (!read_all(fd_, buf.data(), e.length, e.offset)) {
    throw std::runtime_error(std::string("cannot read back the findings' temporary file: ") +
                             std::strerror(errno));
  }
}

// The finding an entry stands for (its id and related ids aside).
void FindingStore::materialise(const Entry& e, std::string& buf, Finding& out) const {
  load(e, buf);
  decode(buf, out);
  out.kind = names_[e.kind];
  out.cause = names_[e.cause];
  out.severity = e.severity;
  out.connection_id = e.connection_id;
  out.ts = e.ts;
}

// canonical_less, from the entries while their keys differ (name ranks order kinds and causes
// as their strings do); the rare full tie is settled on the findings themselves.
bool FindingStore::before(const Entry& a, const Entry& b) const {
  const auto key = [this](const Entry& e) {
    return std::make_tuple(e.ts, e.connection_id, name_rank_[e.kind], name_rank_[e.cause]);
  };
  const auto ka = key(a);
  const auto kb = key(b);
  if (ka != kb) return ka < kb;
  std::string buf;
  Finding fa;
  Finding fb;
  materialise(a, buf, fa);
  materialise(b, buf, fb);
  return canonical_less(fa, fb);
}

void FindingStore::finalize() {
  std::vector<std::uint32_t> by_name(names_.size());
  std::iota(by_name.begin(), by_name.end(), 0U);
  std::sort(by_name.begin(), by_name.end(),
            [this](std::uint32_t a, std::uint32_t b) { return names_[a] < names_[b]; });
  name_rank_.assign(names_.size(), 0);
  for (std::uint32_t r = 0; r < by_name.size(); ++r) name_rank_[by_name[r]] = r;
  std::stable_sort(entries_.begin(), entries_.end(),
                   [this](const Entry& a, const Entry& b) { return before(a, b); });
  links_ = LinkIndex{};
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    links_.add(entries_[i].connection_id, names_[entries_[i].kind], i + 1);
  }
  links_.sort();
}

const Finding& FindingStore::read(std::size_t i, Finding& scratch, std::string& buf) const {
  materialise(entries_[i], buf, scratch);
  scratch.id = i + 1;
  links_.related(scratch.id, scratch.links, scratch.related_ids);
  return scratch;
}

std::vector<Finding> FindingStore::take_all() {
  std::vector<Finding> out(entries_.size());
  std::string buf;
  for (std::size_t i = 0; i < entries_.size(); ++i) materialise(entries_[i], buf, out[i]);
  entries_.clear();
  return out;
}

}  // namespace lastack::findings
