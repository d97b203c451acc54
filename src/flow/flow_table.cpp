#include "lastack/flow/flow_table.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace lastack::flow {

using tcp::Connection;
using tcp::Dir;
using tcp::Role;
using tcp::Segment;
using tcp::TcpState;

namespace {

Dir flip(Dir d) {
  return d == Dir::a_to_b ? Dir::b_to_a : Dir::a_to_b;
}

// The client never got an answer: its SYN is still the only thing it sent.
// The client never got past SYN_SENT: it sent only SYNs, and the server answered at most with
// a RST (a refusal), never with a SYN-ACK.
bool still_connecting(const Connection& c) {
  const tcp::Endpoint& client = c.endpoint(Role::client);
  const tcp::Endpoint& server = c.endpoint(Role::server);
  const bool only_syns =
      client.counters.packets == client.counters.syns + client.counters.duplicates;
  const bool refused_at_most =
      server.counters.packets == server.counters.rsts + server.counters.duplicates;
  return client.first_syn.seen && only_syns && !server.isn_known && refused_at_most;
}

}  // namespace

FlowTable::FlowTable(FlowSettings settings, FinalizeFn on_finalize)
    : settings_(settings), on_finalize_(std::move(on_finalize)) {}

void FlowTable::on_segment(const tcp::FourTuple& key, Dir dir, const Segment& s,
                           std::uint32_t interface_id) {
  started_ = nullptr;
  answered_ = nullptr;
  tcp::FourTuple flow_key = key;
  const std::uint32_t at = flow_of(key, dir, s, interface_id, flow_key);
  Flow& flow = flows_[at];
  route(flow_key, flow, dir, s, interface_id);
  touch(at);
  track_half_open(at);
  note_answer(flow);
  schedule(flow, second_of(s.ts) + 1);
}

namespace {

std::uint64_t interface_bit(std::uint32_t interface_id) {
  return std::uint64_t{1} << std::min<std::uint32_t>(interface_id, 63);
}

tcp::FourTuple split_key(tcp::FourTuple key, std::uint32_t interface_id) {
  key.scope |= (std::min<std::uint32_t>(interface_id, 63) + 1)
               << tcp::FourTuple::kScopeInterfaceShift;
  return key;
}

}  // namespace

// Capture interfaces (README: Inputs). The key has the VLAN but not the pcapng interface: one
// capture often holds the same packets twice, from two interfaces (both sides of a bridge or a
// router, `any` next to eth0), and those copies are one connection (Connection drops the exact
// copies as duplicates). Yet two hosts behind different interfaces may use the same private
// addresses and ports, and that is two connections. The first interface that carries a key owns
// its flow; the first segment of the key from any other interface decides, once, which case it
// is: if it fits what the flow holds (its live or previous incarnation's sequence spaces, SYN by
// ISN, or the tombstone's) it is the same traffic seen again and the interface joins the flow;
// otherwise that interface's traffic on this key gets a flow of its own, keyed with the
// interface in the scope. With random ISNs (RFC 9293 §3.4.1) unrelated traffic fits by chance
// with a probability of about window / 2^32 per side. Per packet this is the one lookup it was;
// two for a split interface's packets, and for new keys once anything was split.
std::uint32_t FlowTable::flow_of(const tcp::FourTuple& key, Dir dir, const Segment& s,
                                 std::uint32_t interface_id, tcp::FourTuple& flow_key) {
  const std::uint64_t bit = interface_bit(interface_id);
  flow_key = key;
  const std::uint32_t* found = index_.find(key);
  if (found == nullptr && any_split_) {
    // A split interface keeps its flow when the owner's has expired.
    const tcp::FourTuple own = split_key(key, interface_id);
    if (const std::uint32_t* split = index_.find(own)) {
      flow_key = own;
      return *split;
    }
  }
  if (found == nullptr) {
    const std::uint32_t at = add_flow(key);
    flows_[at].joined_ifaces = bit;
    return at;
  }
  const std::uint32_t owner_at = *found;
  Flow& owner = flows_[owner_at];
  if ((owner.joined_ifaces & bit) != 0) return owner_at;
  if ((owner.split_ifaces & bit) == 0) {
    if (carries(owner, dir, s)) {
      owner.joined_ifaces |= bit;
      return owner_at;
    }
    owner.split_ifaces |= bit;
    any_split_ = true;
  }
  flow_key = split_key(key, interface_id);
  const std::uint32_t* split = index_.find(flow_key);
  return split != nullptr ? *split : add_flow(flow_key);
}

bool FlowTable::carries(const Flow& f, Dir dir, const Segment& s) const {
  if (f.current && f.current->fits(s, f.current->role_of(dir))) return true;
  if (f.previous && f.previous->fits(s, f.previous->role_of(dir))) return true;
  if (f.tomb) {
    const Role from = dir == f.tomb->client_dir ? Role::client : Role::server;
    if (f.tomb->fits(s, from)) return true;
  }
  return false;
}

// A free slab position when there is one, else a new one (after making room for it).
std::uint32_t FlowTable::add_flow(const tcp::FourTuple& key) {
  make_room(kNil, false, true);
  std::uint32_t at = 0;
  if (free_flows_.empty()) {
    at = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  } else {
    at = free_flows_.back();
    free_flows_.pop_back();
  }
  flows_[at].key = key;
  index_.try_emplace(key, at);
  link_back(recent_, &Flow::recent, at);
  return at;
}

void FlowTable::remove_flow(std::uint32_t at) {
  Flow& f = flows_[at];
  if (f.half_open_id != 0) unlink(half_open_, &Flow::half_open, at);
  unlink(recent_, &Flow::recent, at);
  unschedule(f);
  index_.erase(f.key);
  f = Flow{};
  free_flows_.push_back(at);
}

void FlowTable::link_back(List& list, Links Flow::*links, std::uint32_t at) {
  Links& l = flows_[at].*links;
  l.prev = list.tail;
  l.next = kNil;
  (list.tail == kNil ? list.head : (flows_[list.tail].*links).next) = at;
  list.tail = at;
}

void FlowTable::unlink(List& list, Links Flow::*links, std::uint32_t at) {
  Links& l = flows_[at].*links;
  (l.prev == kNil ? list.head : (flows_[l.prev].*links).next) = l.next;
  (l.next == kNil ? list.tail : (flows_[l.next].*links).prev) = l.prev;
  l = Links{};
}

// Moves a flow that just saw a packet to the most recently active end.
void FlowTable::touch(std::uint32_t at) {
  if (recent_.tail == at) return;
  unlink(recent_, &Flow::recent, at);
  link_back(recent_, &Flow::recent, at);
}

// A connection that began half-open (its first packet a SYN) is answered by its first packet
// beyond SYNs and RSTs. (One that began otherwise, e.g. with a reordered SYN-ACK, can look
// half-open for a while later; that is not an answer.)
void FlowTable::note_answer(Flow& flow) {
  if (started_ != nullptr && flow.current.get() == started_ && started_->half_open()) {
    flow.unanswered_id = started_->id();
    return;
  }
  if (flow.unanswered_id == 0 || !flow.current || flow.current->id() != flow.unanswered_id) return;
  if (flow.current->half_open()) return;
  flow.unanswered_id = 0;
  answered_ = flow.current.get();
}

// Keeps half_open_ listing exactly the flows whose current connection is half-open, in the
// order those connections became so.
void FlowTable::track_half_open(std::uint32_t at) {
  Flow& f = flows_[at];
  const bool half_open = f.current != nullptr && f.current->half_open();
  if (f.half_open_id != 0 && (!half_open || f.current->id() != f.half_open_id)) {
    unlink(half_open_, &Flow::half_open, at);
    f.half_open_id = 0;
  }
  if (half_open && f.half_open_id == 0) {
    link_back(half_open_, &Flow::half_open, at);
    f.half_open_id = f.current->id();
  }
}

void FlowTable::route(const tcp::FourTuple& key, Flow& flow, Dir dir, const Segment& s,
                      std::uint32_t interface_id) {
  if (!flow.current) {
    if (absorbed_by_tomb(flow, dir, s)) return;
    start_incarnation(flow, key, dir, s, interface_id);
    flow.current->on_segment(s, flow.current->role_of(dir));
    return;
  }
  Connection& cur = *flow.current;
  const Role from = cur.role_of(dir);
  if (s.syn() && !s.ack_flag()) {
    const tcp::Endpoint& sender = cur.endpoint(from);
    const bool same_isn = sender.isn_known && s.seq == sender.isn;
    if (!same_isn && from == Role::client && still_connecting(cur)) {
      cur.note_syn_retry(s);  // detections.md §2: an application retry, not reuse
      return;
    }
    if (!same_isn && starts_new_incarnation(cur, from, s)) {
      start_incarnation(flow, key, dir, s, interface_id);
      flow.current->on_segment(s, Role::client);
      return;
    }
  } else if (s.syn() && s.ack_flag() && cur.closed() && !cur.fits(s, from)) {
    // A SYN-ACK whose ack cannot belong to the current incarnation: its SYN was not captured.
    start_incarnation(flow, key, dir, s, interface_id);
    flow.current->on_segment(s, Role::server);
    return;
  }
  if (flow.previous && s.rst() && still_connecting(cur) && from == Role::server) {
    // A refusal of the new SYN by a peer still in LAST_ACK (older stacks answer a SYN in a
    // synchronized state with RST, RFC 793 §3.9): it ends the previous incarnation too.
    Connection& prev = *flow.previous;
    const Role prev_from = prev.role_of(dir);
    if (prev.endpoint(prev_from).state == TcpState::last_ack) prev.on_segment(s, prev_from);
  }
  if (flow.previous && !cur.fits(s, from)) {
    Connection& prev = *flow.previous;
    const Role prev_from = prev.role_of(dir);
    if (prev.fits(s, prev_from)) {
      prev.on_segment(s, prev_from);
      cur.note_stale(s, from);
      return;
    }
  } else if (!flow.previous && flow.tomb && !cur.fits(s, from)) {
    const Role prev_from = dir == flow.tomb->client_dir ? Role::client : Role::server;
    if (flow.tomb->fits(s, prev_from)) {
      ++late_segments_;
      cur.note_stale(s, from);
      return;
    }
  }
  cur.on_segment(s, from);
}

// With no live incarnation, a segment that fits the finalised one's sequence space is a late
// straggler of it (counted); a SYN or anything else starts a new incarnation.
bool FlowTable::absorbed_by_tomb(Flow& flow, Dir dir, const Segment& s) {
  if (!flow.tomb) return false;
  if (s.ts > flow.tomb_until) {
    flow.tomb.reset();
    return false;
  }
  if (s.syn()) return false;
  const Role prev_from = dir == flow.tomb->client_dir ? Role::client : Role::server;
  if (!flow.tomb->fits(s, prev_from)) return false;
  ++late_segments_;
  return true;
}

// detections.md §2: a SYN with a new ISN starts a new incarnation when the current one is
// closed, idle beyond the limit, or the SYN lies outside its sequence space.
bool FlowTable::starts_new_incarnation(const Connection& cur, Role from, const Segment& s) const {
  if (cur.closed()) return true;
  if (s.ts - cur.last_ts() > settings_.idle_timeout) return true;
  const tcp::Endpoint& sender = cur.endpoint(from);
  if (!sender.sent_any) return false;
  Segment probe = s;
  probe.flags = decode::tcp_flag::ack;  // test the SYN's seq as if it were a plain segment
  probe.ack = cur.endpoint(tcp::other(from)).snd_max;
  return !cur.fits(probe, from);
}

void FlowTable::start_incarnation(Flow& flow, const tcp::FourTuple& key, Dir dir, const Segment& s,
                                  std::uint32_t interface_id) {
  make_room(position(flow), true, false);
  Dir client_dir = dir;
  bool mid_stream = true;
  if (s.syn()) {
    mid_stream = false;
    if (s.ack_flag()) client_dir = flip(dir);  // a SYN-ACK: the receiver is the client
  }
  std::optional<tcp::PreviousIncarnation> previous;
  if (flow.current) {
    flow.current->set_successor_start(s.ts, s.frame);
    previous = flow.current->snapshot();
    if (flow.previous) finalize(flow.previous);
    flow.previous = std::move(flow.current);
  } else if (flow.tomb && s.ts <= flow.tomb_until) {
    previous = flow.tomb;
  }
  flow.tomb.reset();
  if (previous) {
    previous->client_role_now = previous->client_dir == client_dir ? Role::client : Role::server;
  }
  flow.current = make_connection(key, client_dir, ++flow.incarnations, mid_stream);
  started_ = flow.current.get();
  flow.current->set_interface_id(interface_id);
  if (previous) flow.current->set_previous(*previous);
  ++live_;
}

// A recycled connection when one is spare (no allocation), else a new one.
std::unique_ptr<Connection> FlowTable::make_connection(const tcp::FourTuple& key, Dir client_dir,
                                                       std::uint32_t incarnation, bool mid_stream) {
  ++next_id_;
  if (spare_.empty()) {
    ++connection_objects_;
    return std::make_unique<Connection>(next_id_, incarnation, key, client_dir, mid_stream);
  }
  std::unique_ptr<Connection> c = std::move(spare_.back());
  spare_.pop_back();
  c->restart(next_id_, incarnation, key, client_dir, mid_stream);
  // The next spare was last read by the judging thread, on the other core: ask for it now, a
  // few packets before the next connection starts and rewrites it.
  if (!spare_.empty()) {
    spare_.back()->prefetch_object();
    spare_.back()->prefetch_facts();
  }
  return c;
}

void FlowTable::finalize(std::unique_ptr<Connection>& c) {
  if (!c) return;
  --live_;
  on_finalize_(c);
  if (c) {
    spare_.push_back(std::move(c));
  } else {
    --connection_objects_;  // the caller kept it
  }
}

// Finalises a settled connection early, keeping its tombstone for reuse detection.
void FlowTable::retire(Flow& flow, std::unique_ptr<Connection>& c) {
  flow.tomb = c->snapshot();
  flow.tomb_until = c->last_ts() + settings_.msl * 2;
  finalize(c);
}

// The earliest capture time at which something about this flow may have to be finalised.
Timestamp FlowTable::deadline(const Flow& f) const {
  const Duration two_msl = settings_.msl * 2;
  Timestamp d{INT64_MAX};
  auto earliest = [&d](Timestamp t) { d = std::min(d, t); };
  if (f.previous) {
    earliest(f.previous->last_ts() + (f.previous->settled() ? settings_.settle : two_msl));
  }
  if (f.current) {
    const Connection& c = *f.current;
    const Duration wait = c.settled()  ? settings_.settle
                          : c.closed() ? std::min(two_msl, settings_.idle_timeout)
                                       : settings_.idle_timeout;
    earliest(c.last_ts() + wait);
  }
  if (f.tomb) earliest(f.tomb_until);
  return d;
}

void FlowTable::schedule(Flow& f, std::int64_t not_before_s) {
  const std::int64_t at = std::max(second_of(deadline(f)) + 1, not_before_s);
  if (f.scheduled_s >= 0 && f.scheduled_s <= at) return;  // an earlier check is pending
  unschedule(f);
  f.scheduled_s = at;
  link_back(buckets_[at], &Flow::timer, position(f));
  next_due_s_ = std::min(next_due_s_, at);
}

// Takes a flow out of its bucket (a bucket left empty goes with it).
void FlowTable::unschedule(Flow& f) {
  if (f.scheduled_s < 0) return;
  const auto bucket = buckets_.find(f.scheduled_s);
  unlink(bucket->second, &Flow::timer, position(f));
  if (bucket->second.head == kNil) buckets_.erase(bucket);
  f.scheduled_s = -1;
  next_due_s_ = buckets_.empty() ? INT64_MAX : buckets_.begin()->first;
}

// A closed incarnation is kept 2MSL after its last packet (RFC 9293 §3.4.1: late duplicates and
// FIN retransmissions can come that long), a settled one only briefly (it leaves a tombstone),
// an open one until it is idle too long.
void FlowTable::expire_flow(Flow& f, Timestamp now) {
  const Duration two_msl = settings_.msl * 2;
  if (f.previous) {
    const Duration idle = now - f.previous->last_ts();
    if (idle > two_msl || (f.previous->settled() && idle > settings_.settle)) {
      finalize(f.previous);
    }
  }
  if (f.current) {
    const Duration idle = now - f.current->last_ts();
    if (f.current->settled() && idle > settings_.settle) {
      if (f.previous) finalize(f.previous);
      retire(f, f.current);
    } else if ((f.current->closed() && idle > two_msl) || idle > settings_.idle_timeout) {
      if (f.previous) finalize(f.previous);
      finalize(f.current);
    }
  }
  if (f.tomb && now > f.tomb_until) f.tomb.reset();
}

// The due flows are scattered over the slab and their connections over the heap: a cache miss
// each. Fetching the next flow's connection, and the flow after it, while this one is expired
// overlaps them.
void FlowTable::prefetch_ahead(std::uint32_t next) const {
  if (next == kNil) return;
  const Flow& n = flows_[next];
  if (n.timer.next != kNil) lastack::prefetch(&flows_[n.timer.next]);
  if (n.current) n.current->prefetch();
}

// Buckets are taken in ascending order and each in the order flows were put in it, so the
// order of finalisation (and of connection-id reuse in the pool) is deterministic. A flow put
// back goes to a later bucket (now_s + 1 at the earliest), never the one being taken.
void FlowTable::expire_due(Timestamp now) {
  const std::int64_t now_s = second_of(now);
  while (!buckets_.empty() && buckets_.begin()->first <= now_s) {
    List& due = buckets_.begin()->second;
    while (due.head != kNil) {
      const std::uint32_t at = due.head;
      Flow& f = flows_[at];
      prefetch_ahead(f.timer.next);
      unlink(due, &Flow::timer, at);
      f.scheduled_s = -1;
      expire_flow(f, now);
      if (!f.current && !f.previous && !f.tomb) {
        remove_flow(at);
      } else {
        track_half_open(at);
        schedule(f, now_s + 1);
      }
    }
    buckets_.erase(buckets_.begin());
  }
  next_due_s_ = buckets_.empty() ? INT64_MAX : buckets_.begin()->first;
}

// Nothing is recycled from here on: each connection is freed once handed over, so that the
// summaries the caller builds can reuse its memory.
void FlowTable::finish() {
  std::vector<std::unique_ptr<Connection>> rest;
  rest.reserve(live_);
  for (Flow& f : flows_) {
    if (f.previous) rest.push_back(std::move(f.previous));
    if (f.current) rest.push_back(std::move(f.current));
  }
  // Released, not just emptied: the slab and the index are the table's big blocks, and the
  // end of a run, when every connection is judged at once, is when its memory peaks.
  index_ = Index{KeyOfFlow{&flows_}};
  flows_ = HugeVector<Flow>{};
  free_flows_ = std::vector<std::uint32_t>{};
  spare_ = std::vector<std::unique_ptr<Connection>>{};
  recent_ = List{};
  half_open_ = List{};
  buckets_.clear();
  next_due_s_ = INT64_MAX;
  std::sort(rest.begin(), rest.end(),
            [](const auto& a, const auto& b) { return a->id() < b->id(); });
  for (std::unique_ptr<Connection>& c : rest) {
    --live_;
    on_finalize_(c);
    c.reset();
  }
  connection_objects_ = 0;
}

// --- Memory budget ---

// The accounted footprint of one connection: the object, a typical facts vector (8 facts; a
// recycled one keeps at most kKeptFacts), allocator overhead and what the caller keeps of it.
std::uint64_t FlowTable::connection_bytes() const {
  return sizeof(Connection) + 8 * sizeof(tcp::Fact) + 32 + settings_.caller_bytes_per_connection;
}

// Of one four-tuple: its slab entry (the slab grows by doubling: up to two), its index slots
// (load between 35 % and 70 %: up to three); its timer is a link in the slab entry.
std::uint64_t FlowTable::flow_bytes() {
  return 2 * sizeof(Flow) + 3 * Index::slot_bytes();
}

// What is allocated, not what is in use: connection objects are recycled and slab positions
// reused, never returned, so the peak is what counts.
std::uint64_t FlowTable::bytes_in_use() const {
  return connection_objects_ * connection_bytes() + flows_.size() * flow_bytes();
}

EvictionStats FlowTable::evictions() const {
  EvictionStats out = evicted_;
  out.by_target = evicted_targets_.sorted();
  out.other_targets = evicted_targets_.others();
  return out;
}

// Evicts until what the caller is about to allocate (a connection object when none is spare,
// a slab position when none is free) fits the budget. Never touches the flow at `keep`.
void FlowTable::make_room(std::uint32_t keep, bool connection, bool flow) {
  if (settings_.memory_budget == 0) return;
  for (;;) {
    const std::uint64_t extra = (connection && spare_.empty() ? connection_bytes() : 0) +
                                (flow && free_flows_.empty() ? flow_bytes() : 0);
    if (extra == 0 || bytes_in_use() + extra <= settings_.memory_budget) break;
    if (!evict_half_open(keep) && !evict_least_recent(keep)) break;
  }
}

// Drops the oldest half-open attempt unanalysed (the degradation a SYN flood forces; RFC 4987
// §3.1: a bounded backlog that recycles its oldest half-open entry) and counts it against its
// server.
bool FlowTable::evict_half_open(std::uint32_t keep) {
  std::uint32_t at = half_open_.head;
  if (at == keep && at != kNil) at = flows_[at].half_open.next;
  if (at == kNil) return false;
  Flow& f = flows_[at];
  const Connection& c = *f.current;
  const bool client_is_a = c.client_dir() == Dir::a_to_b;
  evicted_targets_.add(client_is_a ? c.tuple().b_ip : c.tuple().a_ip,
                       client_is_a ? c.tuple().b_port : c.tuple().a_port);
  if (!evicted_.first_half_open_frame) {
    evicted_.first_half_open_frame = c.endpoint(Role::client).first_syn.frame;
    evicted_.first_half_open_ts = c.endpoint(Role::client).first_syn.ts;
  }
  ++evicted_.half_open;
  unlink(half_open_, &Flow::half_open, at);
  f.half_open_id = 0;
  --live_;
  spare_.push_back(std::move(f.current));
  if (!f.previous && !f.tomb) remove_flow(at);
  return true;
}

// Finalises the least recently active four-tuple's connections early, as an idle timeout
// would, and drops it with its tombstone.
bool FlowTable::evict_least_recent(std::uint32_t keep) {
  std::uint32_t at = recent_.head;
  if (at == keep && at != kNil) at = flows_[at].recent.next;
  if (at == kNil) return false;
  Flow& f = flows_[at];
  if (!f.current && !f.previous) ++evicted_.tombstones;
  for (std::unique_ptr<Connection>* c : {&f.previous, &f.current}) {
    if (*c == nullptr) continue;
    ++evicted_.live;
    finalize(*c);
  }
  remove_flow(at);
  return true;
}

}  // namespace lastack::flow
