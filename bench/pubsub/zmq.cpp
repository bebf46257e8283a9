#include <array>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <zmq.h>

#include "harness.hpp"

namespace {

using courier::bench::clock_type;

constexpr const char* endpoint = "inproc://courier-bench-pubsub";
constexpr int payload_size = 16;
constexpr int probe_size = 1;
constexpr int end_size = 3;

void check(int rc, const char* what) {
  if (rc != 0)
    throw std::runtime_error(std::string{"pubsub/zmq: "} + what + ": " + zmq_strerror(zmq_errno()));
}

}  // namespace

COURIER_BENCH("pubsub", "zmq") {
  const std::uint64_t messages = courier::bench::workload::pubsub_messages(opts);
  void* ctx = zmq_ctx_new();
  void* pub = zmq_socket(ctx, ZMQ_PUB);
  void* sub = zmq_socket(ctx, ZMQ_SUB);
  const int unlimited_hwm = 0;
  const int receive_timeout_ms = 5000;
  check(zmq_setsockopt(pub, ZMQ_SNDHWM, &unlimited_hwm, sizeof unlimited_hwm), "ZMQ_SNDHWM");
  check(zmq_setsockopt(sub, ZMQ_RCVHWM, &unlimited_hwm, sizeof unlimited_hwm), "ZMQ_RCVHWM");
  check(zmq_setsockopt(sub, ZMQ_RCVTIMEO, &receive_timeout_ms, sizeof receive_timeout_ms),
        "ZMQ_RCVTIMEO");
  check(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0), "ZMQ_SUBSCRIBE");
  check(zmq_bind(pub, endpoint), "bind");
  check(zmq_connect(sub, endpoint), "connect");

  std::atomic<bool> joined{false};
  bool timed_out = false;
  std::uint64_t received = 0;
  clock_type::time_point start;
  clock_type::time_point end;

  std::thread subscriber([&] {
    std::array<char, 64> buffer;
    for (;;) {
      const int size = zmq_recv(sub, buffer.data(), buffer.size(), 0);
      if (size == payload_size) {
        ++received;
      } else if (size == probe_size) {
        joined.store(true, std::memory_order_release);
      } else {
        timed_out = size != end_size;
        break;
      }
    }
    end = clock_type::now();
  });
  std::thread publisher([&] {
    while (!joined.load(std::memory_order_acquire)) {
      zmq_send(pub, "?", probe_size, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::array<char, payload_size> payload{};
    start = clock_type::now();
    for (std::uint64_t i = 0; i < messages; ++i) {
      std::memcpy(payload.data(), &i, sizeof i);
      zmq_send(pub, payload.data(), payload.size(), 0);
    }
    zmq_send(pub, "end", end_size, 0);
  });
  publisher.join();
  subscriber.join();
  zmq_close(sub);
  zmq_close(pub);
  zmq_ctx_term(ctx);

  if (timed_out)
    throw std::runtime_error("pubsub/zmq: subscriber timed out waiting for the end marker");
  courier::bench::result r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops = received;
  r.extra.emplace_back("dropped", static_cast<double>(messages - received));
  return r;
}
