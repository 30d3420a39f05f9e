// Google Benchmark of the search tokenizer on one chunk of real English text (about 2,000
// bytes, the size of a 400-token chunk): the cost FTS5 pays for each row it indexes and for each
// snippet or highlight it builds.
//
//   build/bench/bench_tokenizer [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "search/tokenizer.h"

namespace {

// Two paragraphs of the Debian FAQ, repeated to chunk size.
std::string EnglishChunk() {
  const std::string paragraph =
      "Debian GNU/Linux is a particular distribution of the Linux operating system, and numerous "
      "packages that run on it. In principle, users could obtain the Linux kernel via the Internet "
      "or from elsewhere, and compile it themselves. They could then obtain source code for many "
      "applications in the same way, compile the programs, then install them into their systems. "
      "For complicated programs, this process can be not only time-consuming but error-prone. ";
  std::string chunk;
  while (chunk.size() < 2000) chunk += paragraph;
  return chunk;
}

void BM_TokenizeChunk(benchmark::State& state) {
  const on::search::Tokenizer tokenizer;
  const std::string chunk = EnglishChunk();
  size_t tokens = 0;
  for (auto _ : state) {
    tokenizer.ForEachToken(chunk, [&tokens](const on::search::Token&) {
      ++tokens;
      return true;
    });
  }
  benchmark::DoNotOptimize(tokens);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_TokenizeChunk);

}  // namespace

BENCHMARK_MAIN();
