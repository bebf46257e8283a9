// nats_reqrep: sequential request-reply round trips of a small payload;
// p50 and p99 of the round trip, through NATS and in-process.
#pragma once

#include <courier/bus/codec.hpp>
#include <courier/courier.hpp>

#include <stdexcept>

#include "nats_publish/workload.hpp"

namespace courier::bench::nats_reqrep {

inline constexpr const char* subject = "bench.reqrep";

inline std::uint64_t round_trips(const options& o) { return o.quick ? 2'000 : 20'000; }

struct ping {
  nats_publish::payload_msg body;
};
struct pong {
  nats_publish::payload_msg body;
};
struct ping_codec {
  courier::errc encode(const ping& p, std::string& out) const { return nats_publish::bytes_codec{}.encode(p.body, out); }
  courier::result<ping> decode(std::string_view in) const {
    auto b = nats_publish::bytes_codec{}.decode(in);
    if (!b) return b.error();
    return ping{b.value()};
  }
};
struct pong_codec {
  courier::errc encode(const pong& p, std::string& out) const { return nats_publish::bytes_codec{}.encode(p.body, out); }
  courier::result<pong> decode(std::string_view in) const {
    auto b = nats_publish::bytes_codec{}.decode(in);
    if (!b) return b.error();
    return pong{b.value()};
  }
};

inline void register_codecs(bus& b) {
  (void)b.codecs().add<ping>("bench.ping", 1, ping_codec{});
  (void)b.codecs().add<pong>("bench.pong", 1, pong_codec{});
}

/// Answers each ping with its payload.
class echo : public actor {
 public:
  using handles = courier::handles<ping>;
  pong on(const ping& p) { return pong{p.body}; }
};

/// Sends round_trips() requests one after another and records each round trip.
inline bench::result measure(bus& client, const options& opts) {
  const auto count = round_trips(opts);
  latency_samples lat{count};
  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto t0 = clock_type::now();
    auto r = client.request<pong>(subject, ping{nats_publish::payload_msg{nats_publish::payload(i)}},
                                  std::chrono::seconds{5})
                 .get();
    if (!r) throw std::runtime_error(std::string{"nats_reqrep: "} + to_string(r.error()));
    lat.add(clock_type::now() - t0);
  }
  bench::result res;
  res.seconds = seconds_since(start);
  res.ops = count;
  lat.fill(res);
  return res;
}

}  // namespace courier::bench::nats_reqrep
