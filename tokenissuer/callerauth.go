package tokenissuer

import (
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/heraldrt/herald"
)

// Authenticator identifies the caller of an auth server: the browser or
// device asking for a token. Authenticate returns a non-empty
// Identity.User, or an error, usually a *herald.Error with status 401,
// which the handler sends as it is. It must be safe for concurrent use and
// must not log or return the credential it checks.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator: an application
// can check its own session cookie this way.
type AuthenticatorFunc func(r *http.Request) (Identity, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Identity, error) { return f(r) }

// MinBearerSecretBytes is the shortest secret BearerAuth accepts.
const MinBearerSecretBytes = 16

// BearerAuth returns an Authenticator that expects "Authorization: Bearer
// <secret>" and maps each secret to the identity it stands for. Secrets
// are kept only as SHA-256 digests, and looked up by digest; each
// must be at least MinBearerSecretBytes long, and each identity needs a
// User. A missing or unknown secret is a 40101 (401).
func BearerAuth(secrets map[string]Identity) (Authenticator, error) {
	b := bearerAuth{ids: make(map[[sha256.Size]byte]Identity, len(secrets))}
	for s, id := range secrets {
		switch {
		case len(s) < MinBearerSecretBytes:
			return nil, herald.Errorf(herald.CodeBadRequest,
				"bearer secret for user %s is shorter than %d bytes", quote(id.User), MinBearerSecretBytes)
		case id.User == "":
			return nil, herald.NewError(herald.CodeBadRequest, "a bearer secret maps to an identity without a user")
		}
		b.ids[sha256.Sum256([]byte(s))] = id
	}
	return b, nil
}

type bearerAuth struct {
	ids map[[sha256.Size]byte]Identity
}

func (b bearerAuth) Authenticate(r *http.Request) (Identity, error) {
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Identity{}, unauthorized("send Authorization: Bearer <secret>")
	}
	// Secrets are looked up by digest: the lookup's timing can only tell
	// an attacker about the digest of their own guess, never about a
	// stored secret (comparing secrets directly would need a
	// constant-time compare against each one).
	if id, ok := b.ids[sha256.Sum256([]byte(strings.TrimSpace(secret)))]; ok {
		return id, nil
	}
	return Identity{}, unauthorized("the bearer secret is not recognised")
}

func unauthorized(msg string) *herald.Error {
	return herald.NewError(herald.CodeInvalidCredentials, "auth server: "+msg)
}

// HeaderAuth returns an Authenticator for an auth server behind a reverse
// proxy that has already authenticated the user (oauth2-proxy, an API
// gateway, the application's own login) and says who it is in userHeader,
// for example X-Authenticated-User. varHeaders name further headers that
// supply placeholder variables, e.g. {"group": "X-Authenticated-Group"}.
//
// The headers are trusted only on requests whose TCP peer is in
// trustedProxies (parse CIDRs with netip.ParsePrefix); anyone else could
// set them, so other peers are refused with 40101 (401). The proxy must
// remove these headers from the requests it forwards. A missing or empty
// user header is a 401 too.
func HeaderAuth(userHeader string, varHeaders map[string]string, trustedProxies []netip.Prefix) (Authenticator, error) {
	if userHeader == "" {
		return nil, herald.NewError(herald.CodeBadRequest, "HeaderAuth needs the name of the user header")
	}
	if len(trustedProxies) == 0 {
		return nil, herald.NewError(herald.CodeBadRequest, "HeaderAuth needs at least one trusted proxy address range")
	}
	for name := range varHeaders {
		if !isIdentifier(name) || name == VarUser || name == VarClientID {
			return nil, herald.Errorf(herald.CodeBadRequest, "HeaderAuth: %s is not a usable variable name", quote(name))
		}
	}
	return headerAuth{user: userHeader, vars: varHeaders, proxies: trustedProxies}, nil
}

type headerAuth struct {
	user    string
	vars    map[string]string
	proxies []netip.Prefix
}

func (h headerAuth) Authenticate(r *http.Request) (Identity, error) {
	if !h.trusted(r.RemoteAddr) {
		return Identity{}, unauthorized("this request did not come through the trusted proxy")
	}
	id := Identity{User: r.Header.Get(h.user)}
	if id.User == "" {
		return Identity{}, unauthorized("the proxy did not say who the user is")
	}
	for name, header := range h.vars {
		if v := r.Header.Get(header); v != "" {
			if id.Vars == nil {
				id.Vars = make(map[string]string, len(h.vars))
			}
			id.Vars[name] = v
		}
	}
	return id, nil
}

func (h headerAuth) trusted(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// QueryAuth returns an Authenticator that believes the user named by the
// query or form parameter param (ably-js sends its clientId option as
// "clientId"). It checks nothing: anyone can be anyone. Use it only in
// development.
func QueryAuth(param string) Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (Identity, error) {
		u := r.FormValue(param)
		if u == "" {
			return Identity{}, unauthorized("development mode: pass the user as the " + quote(param) + " parameter")
		}
		return Identity{User: u}, nil
	})
}
