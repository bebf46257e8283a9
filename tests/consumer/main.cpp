#include <courier/runtime.hpp>
#include <cstdio>
#include <future>

struct greet {
  int n;
};

class greeter : public courier::actor {
 public:
  using handles = courier::handles<greet>;
  explicit greeter(std::promise<int>& p) : p_{p} {}
  void on(const greet& g) { p_.set_value(g.n); }

 private:
  std::promise<int>& p_;
};

int main() {
  courier::system sys{{.workers = 1}};
  std::promise<int> p;
  sys.spawn<greeter>(p).send(greet{42});
  int n = p.get_future().get();
  std::printf("consumer: installed courier works (got %d)\n", n);
  return n == 42 ? 0 : 1;
}
