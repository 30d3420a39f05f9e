#include "http/client_address.h"

#include <gtest/gtest.h>

namespace on::http {
namespace {

TEST(ClientAddress, DirectPeerIgnoresHeader) {
  EXPECT_EQ(EffectiveClientAddress("203.0.113.9", ""), "203.0.113.9");
  // A remote peer may not choose the address its failures are counted under.
  EXPECT_EQ(EffectiveClientAddress("203.0.113.9", "198.51.100.1"), "203.0.113.9");
}

TEST(ClientAddress, LoopbackProxyNamesClient) {
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(EffectiveClientAddress("::1", " 2001:db8::7 "), "2001:db8::7");
}

// nginx, then the web UI server, then the API: both proxies are on loopback.
TEST(ClientAddress, ChainOfLocalProxies) {
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", "198.51.100.1, 127.0.0.1"), "198.51.100.1");
  // Entries left of the first remote one were written by the client and are not trusted.
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", "10.9.9.9, 198.51.100.1, 127.0.0.1"), "198.51.100.1");
}

TEST(ClientAddress, GarbageStopsTheSearch) {
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", "not-an-address"), "127.0.0.1");
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", "198.51.100.1, unknown, 127.0.0.2"), "127.0.0.2");
  EXPECT_EQ(EffectiveClientAddress("127.0.0.1", ","), "127.0.0.1");
}

TEST(ClientAddress, ForwardedChainTrustsOnlyLocalPeers) {
  EXPECT_EQ(ForwardedForChain("198.51.100.1", ""), "198.51.100.1");
  // A remote browser's own header is dropped, so it cannot plant an address.
  EXPECT_EQ(ForwardedForChain("198.51.100.1", "10.0.0.1"), "198.51.100.1");
  // nginx on loopback already named the browser.
  EXPECT_EQ(ForwardedForChain("127.0.0.1", "198.51.100.1"), "198.51.100.1, 127.0.0.1");
}

}  // namespace
}  // namespace on::http
