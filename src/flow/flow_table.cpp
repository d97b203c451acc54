#include "lastack/flow/flow_table.h"

#include <algorithm>
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
  tcp::FourTuple flow_key = key;
  Flow& flow = flow_of(key, dir, s, interface_id, flow_key);
  route(flow_key, flow, dir, s, interface_id);
  schedule(flow_key, flow, second_of(s.ts) + 1);
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
FlowTable::Flow& FlowTable::flow_of(const tcp::FourTuple& key, Dir dir, const Segment& s,
                                    std::uint32_t interface_id, tcp::FourTuple& flow_key) {
  const std::uint64_t bit = interface_bit(interface_id);
  flow_key = key;
  if (any_split_ && index_.find(key) == nullptr) {
    // A split interface keeps its flow when the owner's has expired.
    const tcp::FourTuple own = split_key(key, interface_id);
    if (const std::uint32_t* split = index_.find(own)) {
      flow_key = own;
      return flows_[*split];
    }
  }
  bool fresh = false;
  Flow& owner = flow_at(key, fresh);
  if (fresh) {
    owner.joined_ifaces = bit;
    return owner;
  }
  if ((owner.joined_ifaces & bit) != 0) return owner;
  if ((owner.split_ifaces & bit) == 0) {
    if (carries(owner, dir, s)) {
      owner.joined_ifaces |= bit;
      return owner;
    }
    owner.split_ifaces |= bit;
    any_split_ = true;
  }
  flow_key = split_key(key, interface_id);
  return flow_at(flow_key, fresh);
}

// The flow of `key`, made (in the slab position the index was offered) when new.
FlowTable::Flow& FlowTable::flow_at(const tcp::FourTuple& key, bool& fresh) {
  const std::uint32_t vacant =
      free_flows_.empty() ? static_cast<std::uint32_t>(flows_.size()) : free_flows_.back();
  const auto [at, inserted] = index_.try_emplace(key, vacant);
  if (inserted) add_flow();
  fresh = inserted;
  return flows_[at];
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

// Takes the slab position on_segment offered the index (the last free one, else a new one).
std::uint32_t FlowTable::add_flow() {
  if (free_flows_.empty()) {
    flows_.emplace_back();
    return static_cast<std::uint32_t>(flows_.size() - 1);
  }
  const std::uint32_t at = free_flows_.back();
  free_flows_.pop_back();
  return at;
}

void FlowTable::remove_flow(const tcp::FourTuple& key, std::uint32_t at) {
  index_.erase(key);
  flows_[at] = Flow{};
  free_flows_.push_back(at);
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
    flow.previous = flow.current;
  } else if (flow.tomb && s.ts <= flow.tomb_until) {
    previous = flow.tomb;
  }
  flow.tomb.reset();
  if (previous) {
    previous->client_role_now = previous->client_dir == client_dir ? Role::client : Role::server;
  }
  flow.current = make_connection(key, client_dir, ++flow.incarnations, mid_stream);
  started_ = flow.current;
  flow.current->set_interface_id(interface_id);
  if (previous) flow.current->set_previous(*previous);
  ++live_;
}

// A recycled connection when one is spare (no allocation), else a new one.
Connection* FlowTable::make_connection(const tcp::FourTuple& key, Dir client_dir,
                                       std::uint32_t incarnation, bool mid_stream) {
  ++next_id_;
  if (spare_.empty()) {
    return &connections_.emplace_back(next_id_, incarnation, key, client_dir, mid_stream);
  }
  Connection* c = spare_.back();
  spare_.pop_back();
  c->restart(next_id_, incarnation, key, client_dir, mid_stream);
  return c;
}

void FlowTable::finalize(Connection*& c) {
  if (c == nullptr) return;
  --live_;
  on_finalize_(*c);
  spare_.push_back(c);
  c = nullptr;
}

// Finalises a settled connection early, keeping its tombstone for reuse detection.
void FlowTable::retire(Flow& flow, Connection*& c) {
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

void FlowTable::schedule(const tcp::FourTuple& key, Flow& f, std::int64_t not_before_s) {
  const std::int64_t at = std::max(second_of(deadline(f)) + 1, not_before_s);
  if (f.scheduled_s >= 0 && f.scheduled_s <= at) return;  // an earlier check is pending
  f.scheduled_s = at;
  auto [bucket, fresh] = buckets_.try_emplace(at);
  if (fresh) bucket->second = std::move(spare_bucket_);
  bucket->second.push_back(key);
  next_due_s_ = std::min(next_due_s_, at);
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

// Buckets are taken in ascending order and each in the order flows were put in it, so the
// order of finalisation (and of connection-id reuse in the pool) is deterministic.
void FlowTable::expire_due(Timestamp now) {
  const std::int64_t now_s = second_of(now);
  while (!buckets_.empty() && buckets_.begin()->first <= now_s) {
    const std::int64_t bucket = buckets_.begin()->first;
    std::vector<tcp::FourTuple> keys = std::move(buckets_.begin()->second);
    buckets_.erase(buckets_.begin());
    for (const tcp::FourTuple& key : keys) {
      const std::uint32_t* found = index_.find(key);
      if (found == nullptr) continue;
      const std::uint32_t at = *found;
      Flow& f = flows_[at];
      if (f.scheduled_s != bucket) continue;  // stale entry
      f.scheduled_s = -1;
      expire_flow(f, now);
      if (!f.current && !f.previous && !f.tomb) {
        remove_flow(key, at);
      } else {
        schedule(key, f, now_s + 1);
      }
    }
    keys.clear();
    spare_bucket_ = std::move(keys);
  }
  next_due_s_ = buckets_.empty() ? INT64_MAX : buckets_.begin()->first;
}

void FlowTable::finish() {
  std::vector<Connection*> rest;
  rest.reserve(live_);
  for (Flow& f : flows_) {
    if (f.previous) rest.push_back(f.previous);
    if (f.current) rest.push_back(f.current);
  }
  index_.clear();
  flows_.clear();
  free_flows_.clear();
  buckets_.clear();
  next_due_s_ = INT64_MAX;
  std::sort(rest.begin(), rest.end(), [](const Connection* a, const Connection* b) {
    return a->id() < b->id();
  });
  for (Connection*& c : rest) finalize(c);
}

}  // namespace lastack::flow
