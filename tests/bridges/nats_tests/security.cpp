// Credentials and TLS settings reach nats.c: a server that demands them accepts
// the right ones and refuses the rest.
#include <catch2/catch.hpp>

#include "bridges/nats_support.hpp"

using namespace courier;
using courier::testing::nats_server;

TEST_CASE("nats security: user and password are passed to the server") {
  nats_server server{{"--user", "courier", "--pass", "s3cret"}};
  nats_config good = courier::testing::core_config(server);
  good.security.credentials = {.user = "courier", .password = "s3cret"};
  nats_bridge nats{good};
  CHECK(nats.connected());
  nats_config bad = good;
  bad.security.credentials.password = "wrong";
  CHECK_THROWS_AS(nats_bridge{bad}, std::runtime_error);
}

TEST_CASE("nats security: a token is passed to the server") {
  nats_server server{{"--auth", "t0ken"}};
  nats_config good = courier::testing::core_config(server);
  good.security.credentials.token = "t0ken";
  nats_bridge nats{good};
  CHECK(nats.connected());
  nats_config none = courier::testing::core_config(server);
  CHECK_THROWS_AS(nats_bridge{none}, std::runtime_error);
}

TEST_CASE("nats security: TLS files nats.c cannot load are refused before connecting") {
  nats_server server;
  nats_config cfg = courier::testing::core_config(server);
  cfg.security.tls = {.enabled = true, .ca_file = "/nonexistent/ca.pem"};
  CHECK_THROWS_AS(nats_bridge{cfg}, std::invalid_argument);
  nats_config pem = courier::testing::core_config(server);
  pem.ca_pem = "not a certificate";
  CHECK_THROWS_AS(nats_bridge{pem}, std::invalid_argument);
}

TEST_CASE("nats security: a TLS client does not talk to a plain-text server") {
  nats_server server;
  nats_config cfg = courier::testing::core_config(server);
  cfg.security.tls.enabled = true;
  CHECK_THROWS_AS(nats_bridge{cfg}, std::runtime_error);
}
