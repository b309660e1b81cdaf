package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// Herald's Ably token format (ably-auth §3.8; docs/decisions.md "Token
// format"). A token is "<appId>.<base64url(body || mac)>":
//
//	literal:   0x01 flags uvarint(len keyId) keyId uvarint(issued ms)
//	           uvarint(ttl ms) [uvarint(len clientId) clientId]
//	           uvarint(len capability) capability
//	persisted: 0x02 ref(12 bytes)            (the rest is in the TokenStore)
//
// mac is the first 16 bytes of HMAC-SHA256 over "<appId>." || body, keyed
// with a per-key token key derived from the key secret. Tokens are signed,
// not encrypted: they carry nothing the holder does not already see in its
// TokenDetails. They never contain ':' (SDKs take a string with ':' for a
// key, RSC1a) and are verified with no store round trip; revoking or deleting
// the key invalidates them all. A literal token longer than 343 bytes is
// replaced by a persisted one (≤ 65 bytes).
const (
	tokenLiteral   = 0x01
	tokenPersisted = 0x02

	flagRevocable   = 0x01
	flagHasClientID = 0x02

	tokenMACLen        = 16
	tokenRefLen        = 12
	MaxLiteralTokenLen = 343
	maxTokenLen        = 4096
)

// TokenClaims is what an Ably token says.
type TokenClaims struct {
	AppID       string
	KeyID       string
	Ref         string // set for persisted tokens
	Issued      time.Time
	Expires     time.Time
	ClientID    string
	HasClientID bool
	Capability  string
	Revocable   bool
}

// tokenKey derives the key that signs a key's tokens from its secret, so a
// token MAC never reuses the secret directly.
func tokenKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("herald token v1"))
	return m.Sum(nil)
}

type macPool struct{ pool sync.Pool }

func newMACPool(key []byte) *macPool {
	return &macPool{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// sum writes the token MAC of appID and body into dst (16 bytes).
func (p *macPool) sum(dst []byte, appID string, body []byte) {
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(appID))
	h.Write([]byte{'.'})
	h.Write(body)
	var out [sha256.Size]byte
	copy(dst, h.Sum(out[:0]))
	p.pool.Put(h)
}

var b64 = base64.RawURLEncoding

func (a *Authenticator) encodeToken(ctx context.Context, e *KeyEntry, c *TokenClaims) (string, error) {
	body := make([]byte, 0, 64+len(c.ClientID)+len(c.Capability))
	body = append(body, tokenLiteral, tokenFlags(c))
	body = appendString(body, c.KeyID)
	body = binary.AppendUvarint(body, uint64(c.Issued.UnixMilli()))
	body = binary.AppendUvarint(body, uint64(c.Expires.UnixMilli()-c.Issued.UnixMilli()))
	if c.HasClientID {
		body = appendString(body, c.ClientID)
	}
	body = appendString(body, c.Capability)
	if tok := sealToken(e, c.AppID, body); len(tok) <= MaxLiteralTokenLen {
		return tok, nil
	}
	if a.tokens == nil {
		return "", herald.NewError(herald.CodeBadRequest, "Token capability is too large for this server")
	}
	ref := make([]byte, tokenRefLen)
	if _, err := rand.Read(ref); err != nil {
		return "", err
	}
	c.Ref = b64.EncodeToString(ref)
	rec := &herald.StoredToken{
		AppID: c.AppID, Ref: c.Ref, KeyID: c.KeyID, Issued: c.Issued, Expires: c.Expires,
		ClientID: c.ClientID, HasClientID: c.HasClientID, Capability: c.Capability, Revocable: c.Revocable,
	}
	if err := a.tokens.SaveToken(ctx, rec); err != nil {
		return "", err
	}
	a.storedCache.put(c.AppID+"."+c.Ref, rec)
	return sealToken(e, c.AppID, append([]byte{tokenPersisted}, ref...)), nil
}

func tokenFlags(c *TokenClaims) byte {
	var f byte
	if c.Revocable {
		f |= flagRevocable
	}
	if c.HasClientID {
		f |= flagHasClientID
	}
	return f
}

func sealToken(e *KeyEntry, appID string, body []byte) string {
	var mac [tokenMACLen]byte
	e.macs.sum(mac[:], appID, body)
	return appID + "." + b64.EncodeToString(append(body, mac[:]...))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func errMalformedToken(why string) *herald.Error {
	return herald.NewError(herald.CodeInvalidToken, "Invalid token: "+why)
}

// tokenReader walks a token body.
type tokenReader struct {
	b   []byte
	bad bool
}

func (r *tokenReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *tokenReader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// VerifyToken checks an Ably token and returns its claims and key. Errors:
// 40145 malformed, 40143 unknown key or stored record, 40144-free; 40142
// expired; 40131 key revoked; 40120 app disabled.
func (a *Authenticator) VerifyToken(ctx context.Context, tok string) (*TokenClaims, *KeyEntry, *Capability, error) {
	if len(tok) > maxTokenLen {
		return nil, nil, nil, errMalformedToken("too long")
	}
	appID, enc, ok := strings.Cut(tok, ".")
	if !ok || appID == "" || enc == "" {
		return nil, nil, nil, errMalformedToken("not of the form appId.token")
	}
	var buf, src [512]byte
	var raw []byte
	if n := b64.DecodedLen(len(enc)); len(enc) <= len(src) {
		m, err := b64.Decode(buf[:n], src[:copy(src[:], enc)])
		if err != nil {
			return nil, nil, nil, errMalformedToken("not base64url")
		}
		raw = buf[:m]
	} else {
		var err error
		if raw, err = b64.DecodeString(enc); err != nil {
			return nil, nil, nil, errMalformedToken("not base64url")
		}
	}
	if len(raw) < 1+tokenMACLen {
		return nil, nil, nil, errMalformedToken("too short")
	}
	body, mac := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
	var c TokenClaims
	c.AppID = appID
	var capBytes []byte
	switch body[0] {
	case tokenLiteral:
		var err error
		if capBytes, err = parseLiteral(body, &c); err != nil {
			return nil, nil, nil, err
		}
	case tokenPersisted:
		if len(body) != 1+tokenRefLen {
			return nil, nil, nil, errMalformedToken("bad persisted token length")
		}
		rec, err := a.storedToken(ctx, appID, b64.EncodeToString(body[1:]))
		if err != nil {
			return nil, nil, nil, err
		}
		c.KeyID, c.Ref, c.Issued, c.Expires = rec.KeyID, rec.Ref, rec.Issued, rec.Expires
		c.ClientID, c.HasClientID, c.Capability, c.Revocable = rec.ClientID, rec.HasClientID, rec.Capability, rec.Revocable
		capBytes = []byte(rec.Capability)
	default:
		return nil, nil, nil, errMalformedToken("unknown token version")
	}
	e, err := a.keys.Lookup(ctx, appID+"."+c.KeyID)
	if errors.Is(err, herald.ErrNotFound) {
		return nil, nil, nil, herald.NewError(herald.CodeTokenUnrecognised, "Token unrecognised: the key that issued it does not exist")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if ok, stale := e.tokenMACOK(appID, body, mac, a.clock.Now()); !ok {
		if stale {
			return nil, nil, nil, errMalformedToken("it was signed with a secret of the key that has since been rotated, and the rotation's overlap has ended")
		}
		return nil, nil, nil, errMalformedToken("signature does not verify (was it issued by this server with this key?)")
	}
	if err := checkStatus(e); err != nil {
		return nil, nil, nil, err
	}
	if !a.clock.Now().Before(c.Expires) {
		return nil, nil, nil, herald.NewError(herald.CodeTokenExpired, "Token expired")
	}
	capa, err := a.capabilities.get(capBytes)
	if err != nil {
		return nil, nil, nil, err
	}
	c.Capability = capa.Raw()
	return &c, e, capa, nil
}

// parseLiteral fills c from a literal token body and returns the
// capability bytes (turned into a string only on a capability cache miss).
func parseLiteral(body []byte, c *TokenClaims) ([]byte, error) {
	if len(body) < 2 {
		return nil, errMalformedToken("truncated")
	}
	flags := body[1]
	r := tokenReader{b: body[2:]}
	keyID := r.bytes()
	issued := r.uvarint()
	ttl := r.uvarint()
	var clientID []byte
	if flags&flagHasClientID != 0 {
		clientID = r.bytes()
	}
	capa := r.bytes()
	if r.bad || len(r.b) != 0 || len(keyID) == 0 || issued > 1<<53 || ttl > 1<<40 {
		return nil, errMalformedToken("truncated or corrupt")
	}
	c.KeyID = string(keyID)
	c.Issued = time.UnixMilli(int64(issued))
	c.Expires = time.UnixMilli(int64(issued + ttl))
	c.HasClientID = flags&flagHasClientID != 0
	if c.HasClientID {
		c.ClientID = string(clientID)
	}
	c.Revocable = flags&flagRevocable != 0
	return capa, nil
}

func (a *Authenticator) storedToken(ctx context.Context, appID, ref string) (*herald.StoredToken, error) {
	if rec := a.storedCache.get(appID + "." + ref); rec != nil {
		return rec, nil
	}
	if a.tokens == nil {
		return nil, herald.NewError(herald.CodeTokenUnrecognised, "Token unrecognised")
	}
	rec, err := a.tokens.Token(ctx, appID, ref)
	if errors.Is(err, herald.ErrNotFound) {
		return nil, herald.NewError(herald.CodeTokenUnrecognised, "Token unrecognised: no such stored token (it may have expired)")
	}
	if err != nil {
		return nil, err
	}
	a.storedCache.put(appID+"."+ref, rec)
	return rec, nil
}

// boundedCache is a small map that is dropped whole when it fills: simple,
// bounded, and good enough for caches whose misses are cheap to refill.
type boundedCache[V any] struct {
	mu  sync.RWMutex
	max int
	m   map[string]V
}

func newBoundedCache[V any](max int) *boundedCache[V] {
	return &boundedCache[V]{max: max, m: map[string]V{}}
}

func (c *boundedCache[V]) get(k string) V {
	c.mu.RLock()
	v := c.m[k]
	c.mu.RUnlock()
	return v
}

func (c *boundedCache[V]) put(k string, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]V{}
	}
	c.m[k] = v
	c.mu.Unlock()
}

// capabilityCache compiles each distinct capability text once; tokens from
// one app mostly share a handful of capabilities.
type capabilityCache struct{ c *boundedCache[*Capability] }

func (cc capabilityCache) get(text []byte) (*Capability, error) {
	cc.c.mu.RLock()
	c := cc.c.m[string(text)] // no allocation for the lookup
	cc.c.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := ParseCapability(string(text))
	if err != nil {
		return nil, errMalformedToken("its capability does not parse")
	}
	cc.c.put(string(text), c)
	return c, nil
}
