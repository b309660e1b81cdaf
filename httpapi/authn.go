package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// credentials collects what the request carries: the Authorization header,
// X-Ably-ClientId, and whether it came over TLS.
func (h *Handler) credentials(r *http.Request) (auth.Credentials, error) {
	c := auth.Credentials{TLS: h.isTLS(r)}
	if err := auth.ParseAuthorization(r.Header.Get("Authorization"), &c); err != nil {
		return c, err
	}
	if err := auth.ParseClientIDHeader(r.Header.Get("X-Ably-ClientId"), &c); err != nil {
		return c, err
	}
	return c, nil
}

// authenticate verifies the request's credentials and records its app for
// stats.
func (h *Handler) authenticate(r *http.Request) (*auth.Principal, error) {
	c, err := h.credentials(r)
	if err != nil {
		return nil, err
	}
	p, err := h.deps.Auth.Authenticate(r.Context(), c)
	if err != nil {
		if h.deps.Metrics != nil {
			h.deps.Metrics.AuthFailed(herald.AsError(err).Code)
		}
		return nil, err
	}
	setApp(r, p.AppID)
	return p, nil
}

// isTLS reports whether r reached us over TLS: directly, or through a
// trusted proxy that says X-Forwarded-Proto: https. The header is ignored
// from any other peer, since a client could set it.
func (h *Handler) isTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return IsTrustedHTTPS(r, h.cfg.TrustedProxies)
}

// IsTrustedHTTPS reports whether r came from one of trusted and that proxy
// says the client used HTTPS.
func IsTrustedHTTPS(r *http.Request, trusted []netip.Prefix) bool {
	return auth.ViaTrustedTLSProxy(r.RemoteAddr, r.Header.Get("X-Forwarded-Proto"), trusted)
}
