#pragma once

namespace courier {
class actor;
class actor_ref;
class executor;
class manual_executor;
class message;
class message_ptr;
class runnable;
class system;
class thread_pool;
struct system_config;
struct dead_letter;
class dead_letter_subscription;
struct supervision;
struct down;
struct exit_signal;
struct idle_timeout;
struct monitor_id;
enum class dead_letter_reason : unsigned char;
template <class... Ms>
struct handles;
}  // namespace courier
