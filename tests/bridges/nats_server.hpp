// A real nats-server on a free loopback port, with JetStream and a private store.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>


namespace courier::testing {

/// Runs `nats-server -js` bound to 127.0.0.1 only, for the lifetime of the object
/// (and no longer than the thread that started it).
class nats_server {
 public:
  /// Starts the server (with `extra_args`, e.g. `--user u --pass p`) and waits
  /// until it accepts clients; throws if it cannot.
  explicit nats_server(std::vector<std::string> extra_args = {})
      : port_{free_port()}, dir_{make_dir()}, extra_{std::move(extra_args)} {
    start();
  }
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;
  ~nats_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// nats://127.0.0.1:PORT
  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

  /// Stops the server; the JetStream store is kept for a later start().
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(std::chrono::seconds{10})) {
      ::kill(pid_, SIGKILL);
      reap(std::chrono::seconds{10});
    }
    pid_ = -1;
  }

  /// Starts the server on the same port and store; waits until it accepts clients.
  void start() {
    if (pid_ > 0) return;
    const std::string bin = binary();
    const std::string port = std::to_string(port_);
    const std::string store = (dir_ / "store").string();
    const std::string log = (dir_ / "server.log").string();
    std::vector<std::string> args{bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", store, "-l", log};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("nats_server: cannot fork");
    if (pid_ == 0) exec_child(argv, parent);
    wait_ready(std::chrono::seconds{20});
  }

  /// Stops and starts again on the same port, keeping the store.
  void restart() {
    stop();
    start();
  }

 private:
  static std::string binary() {
    if (const char* path = std::getenv("PATH")) {
      std::string p = path;
      for (std::size_t b = 0, e; b <= p.size(); b = e + 1) {
        e = p.find(':', b);
        if (e == std::string::npos) e = p.size();
        auto candidate = std::filesystem::path(p.substr(b, e - b)) / "nats-server";
        if (b != e && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      }
    }
    if (::access("/usr/sbin/nats-server", X_OK) == 0) return "/usr/sbin/nats-server";
    throw std::runtime_error("nats_server: no nats-server binary on PATH or in /usr/sbin");
  }

  /// In the forked child: async-signal-safe calls only. The server gets SIGTERM
  /// when the thread that started it dies, so a crashed or killed test leaves
  /// no server behind.
  [[noreturn]] static void exec_child(const std::vector<char*>& argv, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  static std::filesystem::path make_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "courier-nats-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("nats_server: mkdtemp failed");
    return tmpl;
  }

  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  /// A port the kernel just handed out on 127.0.0.1, released for the server to take.
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("nats_server: no free loopback port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
  }

  /// True once a client connection gets the server's INFO line.
  bool greets() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a = loopback(port_);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      pollfd p{fd, POLLIN, 0};
      char buf[4] = {};
      ok = ::poll(&p, 1, 1000) == 1 && ::recv(fd, buf, sizeof buf, 0) == 4 && std::string(buf, 4) == "INFO";
    }
    ::close(fd);
    return ok;
  }

  void wait_ready(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("nats_server: exited during start-up; see " + (dir_ / "server.log").string());
      }
      if (greets()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});  // polling interval, not a wait for an event
    }
    stop();
    throw std::runtime_error("nats_server: not accepting connections after the deadline");
  }

  bool reap(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || r < 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});  // polling interval
    }
    return false;
  }

  int port_;
  std::filesystem::path dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
};

}  // namespace courier::testing
