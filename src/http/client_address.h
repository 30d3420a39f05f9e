// The address a request really comes from when proxies on this machine forward it: the web UI
// server (`open-notebook frontend`) and nginx both connect to the API from loopback and name the
// client they serve in X-Forwarded-For. Password throttling counts failures per client address,
// so without this every user behind a proxy would share one count.
#pragma once

#include <string>
#include <string_view>

namespace on::http {

// Returns the client address of a request whose TCP peer is `peer`. X-Forwarded-For is read only
// when the peer is a loopback address, because any other peer could write anything there. The
// header is read from the right: loopback entries (proxies on this machine) are skipped and the
// first other entry is the client. An entry that is not an IP address ends the search, and the
// last trusted address seen is returned.
std::string EffectiveClientAddress(std::string_view peer, std::string_view forwarded_for);

// Returns the X-Forwarded-For a proxy sends on for a request from `peer`. A loopback peer is
// another local proxy, so its chain is kept and the peer appended. Any other peer is sent alone,
// so a remote client cannot plant an address in the chain.
std::string ForwardedForChain(std::string_view peer, std::string_view incoming_forwarded_for);

}  // namespace on::http
