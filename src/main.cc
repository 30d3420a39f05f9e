#include <cstdio>

int main() {
  std::puts("open-notebook");
  return 0;
}
