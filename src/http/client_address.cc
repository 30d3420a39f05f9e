#include "http/client_address.h"

#include <vector>

#include "ingest/ssrf_guard.h"
#include "ingest/text_decoding.h"

namespace on::http {
namespace {

bool IsLoopback(std::string_view address) {
  auto parsed = ingest::ParseIpAddress(address);
  return parsed.ok() && ingest::ClassifyAddress(*parsed) == ingest::AddressCategory::kLoopback;
}

}  // namespace

std::string EffectiveClientAddress(std::string_view peer, std::string_view forwarded_for) {
  if (forwarded_for.empty() || !IsLoopback(peer)) return std::string(peer);
  std::vector<std::string_view> entries;
  size_t start = 0;
  while (start <= forwarded_for.size()) {
    const size_t comma = forwarded_for.find(',', start);
    const size_t end = comma == std::string_view::npos ? forwarded_for.size() : comma;
    entries.push_back(ingest::TrimAscii(forwarded_for.substr(start, end - start)));
    start = end + 1;
  }
  std::string client(peer);
  for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
    auto parsed = ingest::ParseIpAddress(*entry);
    if (!parsed.ok()) break;
    client = parsed->ToString();
    if (ingest::ClassifyAddress(*parsed) != ingest::AddressCategory::kLoopback) break;
  }
  return client;
}

std::string ForwardedForChain(std::string_view peer, std::string_view incoming_forwarded_for) {
  const std::string_view incoming = ingest::TrimAscii(incoming_forwarded_for);
  if (incoming.empty() || !IsLoopback(peer)) return std::string(peer);
  return std::string(incoming) + ", " + std::string(peer);
}

}  // namespace on::http
