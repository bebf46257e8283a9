#include "options.hpp"

#include <chrono>

namespace courier::nats_detail {
namespace {

std::int64_t ms(duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

void set(natsStatus s, const char* setting) {
  if (s != NATS_OK)
    throw std::invalid_argument(std::string{"nats_config: "} + setting + ": " + natsStatus_GetText(s));
}

void apply_tls(natsOptions* o, const bridge_tls& t, const std::string& ca_pem) {
  if (!t.enabled && ca_pem.empty()) return;
  set(natsOptions_SetSecure(o, true), "tls.enabled");
  if (!t.ca_file.empty()) set(natsOptions_LoadCATrustedCertificates(o, t.ca_file.c_str()), "tls.ca_file");
  if (!ca_pem.empty()) set(natsOptions_SetCATrustedCertificates(o, ca_pem.c_str()), "ca_pem");
  if (!t.cert_file.empty())
    set(natsOptions_LoadCertificatesChain(o, t.cert_file.c_str(), t.key_file.c_str()), "tls.cert_file");
  if (!t.server_name.empty()) set(natsOptions_SetExpectedHostname(o, t.server_name.c_str()), "tls.server_name");
  if (!t.verify_peer) set(natsOptions_SkipServerVerification(o, true), "tls.verify_peer");
}

void apply_credentials(natsOptions* o, const bridge_credentials& c) {
  if (!c.user.empty()) set(natsOptions_SetUserInfo(o, c.user.c_str(), c.password.c_str()), "credentials.user");
  if (!c.token.empty()) set(natsOptions_SetToken(o, c.token.c_str()), "credentials.token");
  if (!c.creds_file.empty())
    set(natsOptions_SetUserCredentialsFromFiles(o, c.creds_file.c_str(),
                                                c.nkey_seed_file.empty() ? nullptr : c.nkey_seed_file.c_str()),
        "credentials.creds_file");
}

void apply_callbacks(natsOptions* o, const connection_callbacks& cb) {
  if (cb.disconnected) set(natsOptions_SetDisconnectedCB(o, cb.disconnected, cb.closure), "disconnected callback");
  if (cb.reconnected) set(natsOptions_SetReconnectedCB(o, cb.reconnected, cb.closure), "reconnected callback");
  if (cb.closed) set(natsOptions_SetClosedCB(o, cb.closed, cb.closure), "closed callback");
  if (cb.error) set(natsOptions_SetErrorHandler(o, cb.error, cb.closure), "error handler");
}

}  // namespace

options_ptr make_options(const nats_config& cfg, const connection_callbacks& cb) {
  natsOptions* raw = nullptr;
  set(natsOptions_Create(&raw), "create");
  options_ptr o{raw};
  set(natsOptions_SetURL(raw, cfg.url.c_str()), "url");
  set(natsOptions_SetName(raw, cfg.name.c_str()), "name");
  set(natsOptions_SetTimeout(raw, ms(cfg.connect_timeout)), "connect_timeout");
  set(natsOptions_SetAllowReconnect(raw, true), "reconnect");
  set(natsOptions_SetMaxReconnect(raw, cfg.max_reconnect), "max_reconnect");
  set(natsOptions_SetReconnectWait(raw, ms(cfg.reconnect_wait)), "reconnect_wait");
  set(natsOptions_SetReconnectBufSize(raw, static_cast<int>(cfg.reconnect_buffer_bytes)), "reconnect_buffer_bytes");
  set(natsOptions_SetSendAsap(raw, cfg.send_asap), "send_asap");
  apply_tls(raw, cfg.security.tls, cfg.ca_pem);
  apply_credentials(raw, cfg.security.credentials);
  apply_callbacks(raw, cb);
  return o;
}

}  // namespace courier::nats_detail
