package auth

import (
	"net"
	"net/netip"
	"strings"
)

// ViaTrustedTLSProxy reports whether a plain-HTTP request came from one of
// the trusted proxies and that proxy says the client used TLS (the first
// X-Forwarded-Proto value is https or wss). From any other peer the header
// is ignored, since a client could set it.
func ViaTrustedTLSProxy(remoteAddr, forwardedProto string, trusted []netip.Prefix) bool {
	if len(trusted) == 0 {
		return false
	}
	first, _, _ := strings.Cut(forwardedProto, ",")
	proto := strings.ToLower(strings.TrimSpace(first))
	if proto != "https" && proto != "wss" {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
