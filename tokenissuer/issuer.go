package tokenissuer

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// Token lifetimes (ably-auth §3.6).
const (
	// DefaultTTL is the lifetime of a token when TokenParams.TTL is zero.
	DefaultTTL = time.Hour
	// MaxTTL is the longest lifetime Ably and Herald accept.
	MaxTTL = 24 * time.Hour
	// MaxRevocableTTL is the longest lifetime for a key with revocable
	// tokens.
	MaxRevocableTTL = time.Hour
)

// Other limits checked before signing.
const (
	// MaxClientIDBytes is the longest clientId accepted (Herald's limit;
	// Ably publishes none).
	MaxClientIDBytes = 1024
	// MaxRevocationKeyBytes is the longest revocation key accepted.
	MaxRevocationKeyBytes = 1024
	// MaxJWTBytes is the longest JWT MintJWT produces. Ably asks JWTs to
	// fit HTTP header limits, "typically around 8 KB" (ably-auth §4.5);
	// use a TokenRequest for larger capabilities.
	MaxJWTBytes = 8 << 10
	// maxKeyPartBytes bounds the key name and secret, as Herald does.
	maxKeyPartBytes = 256
)

// Config configures an Issuer.
type Config struct {
	// Key is the API key "appId.keyId:secret" that signs everything. It
	// never leaves the Issuer: only its name appears in what is issued.
	Key string
	// Revocable says the key has revocable tokens enabled, which caps
	// lifetimes at MaxRevocableTTL (ably-auth §3.6, §6.1).
	Revocable bool
	// MaxTTL lowers the longest lifetime the Issuer will sign. Zero means
	// MaxTTL (24 h), or MaxRevocableTTL when Revocable is set.
	MaxTTL time.Duration
	// Now returns the current time; nil means time.Now. Tokens are dated
	// with it, so the host clock should be NTP-synced.
	Now func() time.Time
	// Rand is the source of TokenRequest nonces; nil means crypto/rand.
	Rand io.Reader
}

// Issuer signs TokenRequests and mints Ably JWTs with one API key. It is
// safe for concurrent use.
type Issuer struct {
	keyName string
	secret  []byte
	maxTTL  time.Duration
	now     func() time.Time
	rand    io.Reader
	// jwtHeader is the encoded JOSE header, the same for every JWT.
	jwtHeader string
	// macs holds HMAC-SHA256 states keyed with the secret: hmac.New costs
	// several allocations, Reset costs none.
	macs sync.Pool
}

// New returns an Issuer for cfg. An invalid key or MaxTTL is a
// *herald.Error (40005 for the key, 40003 for the TTL) whose message never
// contains the secret.
func New(cfg Config) (*Issuer, error) {
	keyName, secret, err := parseKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	limit := MaxTTL
	if cfg.Revocable {
		limit = MaxRevocableTTL
	}
	switch {
	case cfg.MaxTTL < 0:
		return nil, herald.NewError(herald.CodeInvalidParamValue, "tokenissuer: Config.MaxTTL may not be negative")
	case cfg.MaxTTL > 0 && cfg.MaxTTL < limit:
		limit = cfg.MaxTTL
	}
	i := &Issuer{keyName: keyName, secret: []byte(secret), maxTTL: limit, now: cfg.Now, rand: cfg.Rand}
	if i.now == nil {
		i.now = time.Now
	}
	if i.rand == nil {
		i.rand = rand.Reader
	}
	i.jwtHeader = base64.RawURLEncoding.EncodeToString(
		[]byte(`{"typ":"JWT","alg":"HS256","kid":` + jsonString(keyName) + `}`))
	i.macs.New = func() any { return hmac.New(sha256.New, i.secret) }
	return i, nil
}

// parseKey splits "appId.keyId:secret" at the first ':' (RSA11) and checks
// both parts as Herald does.
func parseKey(key string) (keyName, secret string, err error) {
	keyName, secret, found := strings.Cut(key, ":")
	bad := func(why string) error {
		return herald.NewError(herald.CodeInvalidCredential, "tokenissuer: invalid key: "+why)
	}
	appID, keyID, dot := strings.Cut(keyName, ".")
	switch {
	case !found:
		return "", "", bad("a key has the form appId.keyId:secret and this one has no ':'")
	case !dot || appID == "" || keyID == "":
		return "", "", bad("the key name before ':' must be appId.keyId")
	case len(keyName) > 2*maxKeyPartBytes+1 || hasControl(keyName) || strings.ContainsAny(keyName, "/ "):
		return "", "", bad("the key name is malformed")
	case secret == "":
		return "", "", bad("the secret after ':' is empty")
	case len(secret) > maxKeyPartBytes || hasControl(secret):
		return "", "", bad("the secret is malformed")
	}
	return keyName, secret, nil
}

// KeyName returns the name "appId.keyId" of the Issuer's key.
func (i *Issuer) KeyName() string { return i.keyName }

// MaxTTL returns the longest lifetime the Issuer signs.
func (i *Issuer) MaxTTL() time.Duration { return i.maxTTL }

// TokenParams say what a token grants. Every field is validated before
// anything is signed.
type TokenParams struct {
	// TTL is the token's lifetime: zero means DefaultTTL; it may not be
	// negative or exceed the Issuer's MaxTTL. JWT lifetimes are whole
	// seconds (fractions are dropped) and at least one second.
	TTL time.Duration
	// Capability is what the token may do; it is validated and sent in
	// canonical form. Nil in a TokenRequest means the key's capability;
	// a JWT requires one (ably/docs jwt.mdx lists x-ably-capability as
	// required), so write Capability{"*": {"*"}} for the key's all.
	Capability Capability
	// ClientID binds the token to an identity: "" is an anonymous token,
	// "*" a wildcard that may act as any clientId (ably-auth §7.1).
	ClientID string

	// The fields below are JWT-only (ably-auth §4.1, §4.3, §4.4); a
	// TokenRequest cannot carry them, so CreateTokenRequest refuses them
	// rather than issue a token without them.

	// RevocationKey is x-ably-revocation-key, a revocation target (§6).
	RevocationKey string
	// ChannelClaims map a resource (channel name or pattern) to a value
	// copied into extras.userClaim of what the client publishes there.
	ChannelClaims map[string]string
	// RateLimits map a resource to the messages per second the connection
	// may publish on each matching attachment (> 0; fractions allowed).
	RateLimits map[string]float64
}

// checked is the validated form of TokenParams.
type checked struct {
	ttl        time.Duration
	capability string // canonical; "" = none given
}

// check validates p for a token of kind "JWT" or "TokenRequest".
func (i *Issuer) check(p *TokenParams, jwt bool) (checked, error) {
	var c checked
	ttl := p.TTL
	switch {
	case ttl == 0:
		ttl = min(DefaultTTL, i.maxTTL)
	case ttl < 0:
		return c, ttlError("ttl %s is negative", p.TTL)
	case ttl > i.maxTTL:
		return c, ttlError("ttl %s exceeds the maximum token lifetime of %s", p.TTL, i.maxTTL)
	case jwt && ttl < time.Second:
		return c, ttlError("ttl %s is under a second; JWT times are whole seconds", p.TTL)
	case !jwt && ttl < time.Millisecond:
		return c, ttlError("ttl %s is under a millisecond; TokenRequest ttls are whole milliseconds", p.TTL)
	}
	c.ttl = ttl
	if p.Capability != nil || jwt {
		if p.Capability == nil {
			return c, capabilityError("a JWT needs one (x-ably-capability); use {\"*\":[\"*\"]} for everything the key allows")
		}
		canon, err := p.Capability.Canonical()
		if err != nil {
			return c, err
		}
		c.capability = canon
	}
	if err := checkClientID(p.ClientID); err != nil {
		return c, err
	}
	if !jwt {
		if p.RevocationKey != "" || len(p.ChannelClaims) > 0 || len(p.RateLimits) > 0 {
			return c, herald.NewError(herald.CodeInvalidParameter,
				"a TokenRequest cannot carry a revocation key, channel claims or rate limits (they are JWT-only); mint a JWT instead")
		}
		return c, nil
	}
	return c, checkJWTClaims(p)
}

func ttlError(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeInvalidParamValue, "invalid ttl: "+format, args...)
}

// checkClientID applies Herald's clientId rules (ably-auth §7.6): "" means
// none; otherwise valid UTF-8, no control characters, at most
// MaxClientIDBytes. "*" is the wildcard.
func checkClientID(id string) error {
	if id == "" {
		return nil
	}
	if !utf8.ValidString(id) || hasControl(id) || len(id) > MaxClientIDBytes {
		return herald.Errorf(herald.CodeInvalidClientID,
			"invalid clientId %s: it must be valid UTF-8 without control characters, at most %d bytes", quote(id), MaxClientIDBytes)
	}
	return nil
}

// checkJWTClaims validates the JWT-only fields.
func checkJWTClaims(p *TokenParams) error {
	if k := p.RevocationKey; k != "" && (!utf8.ValidString(k) || hasControl(k) || len(k) > MaxRevocationKeyBytes) {
		return herald.Errorf(herald.CodeInvalidParamValue,
			"invalid revocation key %s: it must be valid UTF-8 without control characters, at most %d bytes", quote(k), MaxRevocationKeyBytes)
	}
	for r, v := range p.ChannelClaims {
		if reason := resourceProblem(r); reason != "" {
			return herald.Errorf(herald.CodeInvalidParamValue, "invalid channel claim: resource %s %s", quote(r), reason)
		}
		if !utf8.ValidString(v) {
			return herald.Errorf(herald.CodeInvalidParamValue, "invalid channel claim for %s: the value is not valid UTF-8", quote(r))
		}
	}
	for r, v := range p.RateLimits {
		if reason := resourceProblem(r); reason != "" {
			return herald.Errorf(herald.CodeInvalidParamValue, "invalid rate limit: resource %s %s", quote(r), reason)
		}
		if !(v > 0) || math.IsInf(v, 0) {
			return herald.Errorf(herald.CodeInvalidParamValue,
				"invalid rate limit for %s: %v messages per second; it must be a finite number above 0", quote(r), v)
		}
	}
	return nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// TokenRequest is a signed request for an Ably token (ably-auth §3.2),
// ready to hand to an SDK's authCallback or to return from an authUrl as
// JSON; the SDK exchanges it at POST /keys/{keyName}/requestToken. TTL and
// Timestamp are milliseconds; a zero TTL and empty Capability or ClientID
// are left out (the server's defaults apply) and sign as empty strings.
type TokenRequest struct {
	KeyName    string `json:"keyName"`
	TTL        int64  `json:"ttl,omitempty"`
	Capability string `json:"capability,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	Timestamp  int64  `json:"timestamp"`
	Nonce      string `json:"nonce"`
	MAC        string `json:"mac"`
}

// CreateTokenRequest validates p and returns a TokenRequest signed with
// the Issuer's key, timestamped now, with a fresh 32-character nonce. The
// server accepts it for two minutes, once (ably-auth §3.4).
func (i *Issuer) CreateTokenRequest(p TokenParams) (*TokenRequest, error) {
	c, err := i.check(&p, false)
	if err != nil {
		return nil, err
	}
	var raw [16]byte
	if _, err := io.ReadFull(i.rand, raw[:]); err != nil {
		return nil, herald.NewError(herald.CodeInternal, "tokenissuer: reading a random nonce failed").WithCause(err)
	}
	r := &TokenRequest{
		KeyName:    i.keyName,
		TTL:        c.ttl.Milliseconds(),
		Capability: c.capability,
		ClientID:   p.ClientID,
		Timestamp:  i.now().UnixMilli(),
		Nonce:      hex.EncodeToString(raw[:]),
	}
	r.MAC = i.mac(r)
	return r, nil
}

// MAC returns the mac of r signed with secret (ably-auth §3.3): the
// HMAC-SHA256, keyed with the secret's UTF-8 bytes, of keyName, ttl,
// capability, clientId, timestamp and nonce, each followed by '\n' (a zero
// ttl and empty fields write nothing but the '\n'), in standard base64. It
// does not validate r: CreateTokenRequest does.
func MAC(secret string, r *TokenRequest) string {
	return macWith(hmac.New(sha256.New, []byte(secret)), r)
}

func (i *Issuer) mac(r *TokenRequest) string {
	m := i.macs.Get().(hash.Hash)
	defer i.macs.Put(m)
	m.Reset()
	return macWith(m, r)
}

func macWith(m hash.Hash, r *TokenRequest) string {
	var b []byte
	b = append(b, r.KeyName...)
	b = append(b, '\n')
	if r.TTL != 0 {
		b = strconv.AppendInt(b, r.TTL, 10)
	}
	b = append(b, '\n')
	b = append(b, r.Capability...)
	b = append(b, '\n')
	b = append(b, r.ClientID...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, r.Timestamp, 10)
	b = append(b, '\n')
	b = append(b, r.Nonce...)
	b = append(b, '\n')
	m.Write(b)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TokenDetails describes an issued token in the JSON shape SDKs read
// (ably-auth §3.5; TD1-TD6): times in milliseconds, capability as a
// string. An SDK tells it from a TokenRequest by its issued field.
type TokenDetails struct {
	Token      string `json:"token"`
	KeyName    string `json:"keyName,omitempty"`
	Issued     int64  `json:"issued"`
	Expires    int64  `json:"expires"`
	Capability string `json:"capability"`
	ClientID   string `json:"clientId,omitempty"`
}
