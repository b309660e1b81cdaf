package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// Token lifetime limits (ably-auth §3.6; TK2a, RSA5).
const (
	DefaultTokenTTL   = time.Hour
	MaxTokenTTL       = 24 * time.Hour
	MaxRevocableTTL   = time.Hour
	TimestampWindow   = 2 * time.Minute
	maxTokenFieldSize = 64 << 10
)

// TokenRequestMAC computes the mac of a TokenRequest (ably-auth §3.3): the
// HMAC-SHA256, keyed with the secret's UTF-8 bytes, of keyName, ttl,
// capability, clientId, timestamp and nonce, each followed by '\n', in
// standard base64 with padding.
func TokenRequestMAC(secret string, r *herald.TokenRequest) string {
	m := hmac.New(sha256.New, []byte(secret))
	for _, f := range [...]string{r.KeyName, r.TTL, r.Capability, r.ClientID, r.Timestamp, r.Nonce} {
		m.Write([]byte(f))
		m.Write([]byte{'\n'})
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// macEqual compares a received mac with the expected one in constant time.
// Padding-less and URL-alphabet forms of the same bytes are accepted.
func macEqual(got, want string) bool {
	gb, err := decodeBase64(got)
	if err != nil {
		return false
	}
	wb, _ := base64.StdEncoding.DecodeString(want)
	return hmac.Equal(gb, wb)
}

// RequestToken issues a token for a TokenRequest posted to
// /keys/{pathKeyName}/requestToken. A signed request (mac present) needs no
// caller; an unsigned one needs caller to be Basic auth with the same key
// (docs/decisions.md "Unsigned token requests"). Refusals are reported to
// the Observer.
func (a *Authenticator) RequestToken(ctx context.Context, pathKeyName string, req *herald.TokenRequest, caller *Principal) (*herald.TokenDetails, error) {
	td, err := a.requestToken(ctx, pathKeyName, req, caller)
	if err != nil {
		a.reportFailure(ctx, err, pathKeyName, "tokenRequest")
	}
	return td, err
}

func (a *Authenticator) requestToken(ctx context.Context, pathKeyName string, req *herald.TokenRequest, caller *Principal) (*herald.TokenDetails, error) {
	if err := ValidateKeyName(pathKeyName); err != nil {
		return nil, err
	}
	if req.KeyName != "" && req.KeyName != pathKeyName {
		return nil, herald.Errorf(herald.CodeInvalidParamValue,
			"Token request keyName %q does not match the key %q in the request path", truncate(req.KeyName, 100), pathKeyName)
	}
	if req.MAC == "" {
		return a.unsigned(ctx, pathKeyName, req, caller)
	}
	for _, f := range [...]struct{ name, v string }{{"keyName", req.KeyName}, {"timestamp", req.Timestamp}, {"nonce", req.Nonce}} {
		if f.v == "" {
			return nil, herald.Errorf(herald.CodeInvalidRequestBody, "Signed token request is missing %s", f.name)
		}
	}
	e, err := a.keys.Lookup(ctx, pathKeyName)
	if errors.Is(err, herald.ErrNotFound) {
		return nil, ErrUnknownKey(pathKeyName)
	}
	if err != nil {
		return nil, err
	}
	if !e.tokenRequestMACOK(req, a.clock.Now()) {
		return nil, herald.Errorf(herald.CodeInvalidCredentials,
			"Invalid token request: the mac does not verify with key %q (sign keyName, ttl, capability, clientId, timestamp and nonce, each followed by a newline)", pathKeyName)
	}
	if err := checkStatus(e); err != nil {
		return nil, err
	}
	now := a.clock.Now()
	ts, err := a.checkTimestamp(req.Timestamp, now)
	if err != nil {
		return nil, err
	}
	switch a.nonces.Add(pathKeyName, req.Nonce, req.Timestamp, ts.Add(TimestampWindow)) {
	case NonceReplayed:
		return nil, herald.NewError(herald.CodeNonceReplayed,
			"Nonce value replayed: this signed token request was already used; create a new one")
	case NonceFull:
		return nil, herald.NewError(herald.CodeRateLimit,
			"Too many signed token requests in the last two minutes; retry shortly")
	}
	return a.issueFromRequest(ctx, e, req, now)
}

func (a *Authenticator) unsigned(ctx context.Context, keyName string, req *herald.TokenRequest, caller *Principal) (*herald.TokenDetails, error) {
	switch {
	case caller == nil:
		return nil, herald.NewError(herald.CodeInvalidCredentials,
			"Unsigned token request: sign it with the key (mac, nonce, timestamp) or authenticate with Basic auth of the key")
	case caller.Method != MethodBasic:
		return nil, herald.NewError(herald.CodeBasicAuthRequired,
			"Unsigned token requests need Basic authentication with the key; token authentication cannot request tokens")
	case caller.KeyName != keyName:
		return nil, herald.Errorf(herald.CodeIncompatibleClientID,
			"Unsigned token request for key %q authenticated with another key %q", keyName, caller.KeyName)
	}
	now := a.clock.Now()
	if req.Timestamp != "" {
		if _, err := a.checkTimestamp(req.Timestamp, now); err != nil {
			return nil, err
		}
	}
	e, err := a.keys.Lookup(ctx, keyName)
	if err != nil {
		return nil, ErrUnknownKey(keyName)
	}
	return a.issueFromRequest(ctx, e, req, now)
}

// checkTimestamp parses a ms timestamp and checks it is within ±2 minutes
// of server time (40104).
func (a *Authenticator) checkTimestamp(s string, now time.Time) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, herald.Errorf(herald.CodeInvalidParamValue, "Invalid timestamp %q: expected milliseconds since the epoch", truncate(s, 40))
	}
	ts := time.UnixMilli(ms)
	if d := now.Sub(ts); d > TimestampWindow || d < -TimestampWindow {
		return time.Time{}, herald.Errorf(herald.CodeTimestampNotCurrent,
			"Timestamp not current: the request's timestamp is %s from server time (allowed: ±2m); use queryTime or fix the clock",
			d.Round(time.Second))
	}
	return ts, nil
}

// TokenParams are the validated parameters of a token to issue.
type TokenParams struct {
	TTL         time.Duration // 0 = default
	Capability  string        // "" = the key's capability
	ClientID    string
	HasClientID bool
}

func (a *Authenticator) issueFromRequest(ctx context.Context, e *KeyEntry, req *herald.TokenRequest, now time.Time) (*herald.TokenDetails, error) {
	p := TokenParams{Capability: req.Capability, ClientID: req.ClientID, HasClientID: req.HasClientID}
	if req.TTL != "" {
		ms, err := strconv.ParseInt(req.TTL, 10, 64)
		if err != nil || ms <= 0 {
			return nil, herald.Errorf(herald.CodeInvalidParamValue,
				"Invalid ttl %q: expected a positive whole number of milliseconds", truncate(req.TTL, 40))
		}
		if ms > int64(MaxTokenTTL/time.Millisecond) {
			return nil, ttlTooLong(time.Duration(ms)*time.Millisecond, MaxTokenTTL, "")
		}
		p.TTL = time.Duration(ms) * time.Millisecond
	}
	return a.Issue(ctx, e, p, now)
}

func ttlTooLong(ttl, limit time.Duration, why string) *herald.Error {
	return herald.Errorf(herald.CodeInvalidParamValue,
		"Invalid ttl: %s exceeds the maximum token lifetime of %s%s", ttl, limit, why)
}

// Issue mints a token from key entry e. The capability is the key's (kept
// byte for byte) or, when one is requested, its intersection with the key's
// in canonical form (ably-auth §5.5).
func (a *Authenticator) Issue(ctx context.Context, e *KeyEntry, p TokenParams, now time.Time) (*herald.TokenDetails, error) {
	if err := checkStatus(e); err != nil {
		return nil, err
	}
	ttl := p.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < 0 {
		return nil, herald.NewError(herald.CodeInvalidParamValue, "Invalid ttl: it must be positive")
	}
	if ttl > MaxTokenTTL {
		return nil, ttlTooLong(ttl, MaxTokenTTL, "")
	}
	if e.Key.RevocableTokens && ttl > MaxRevocableTTL {
		return nil, ttlTooLong(ttl, MaxRevocableTTL, " for keys with revocable tokens")
	}
	if p.HasClientID && p.ClientID == "" {
		return nil, herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: it may not be an empty string")
	}
	if len(p.ClientID) > MaxClientIDLen {
		return nil, herald.Errorf(herald.CodeInvalidClientID, "Invalid clientId: longer than %d bytes", MaxClientIDLen)
	}
	if e.Capability == nil {
		return nil, herald.Errorf(herald.CodeCapabilityDenied, "Key %q has no valid capability", e.Key.KeyName())
	}
	capText := e.Key.Capability
	if strings.TrimSpace(p.Capability) != "" {
		if len(p.Capability) > maxTokenFieldSize {
			return nil, herald.NewError(herald.CodeBadRequest, "Requested capability is too large")
		}
		req, err := ParseCapability(p.Capability)
		if err != nil {
			return nil, err
		}
		got, err := Intersect(e.Capability, req)
		if err != nil {
			return nil, err
		}
		capText = got.Raw() // canonical, or the key's own text when the request covers it all
	}
	claims := TokenClaims{
		AppID: e.App.ID, KeyID: e.Key.ID, Issued: now, Expires: now.Add(ttl),
		ClientID: p.ClientID, HasClientID: p.HasClientID, Capability: capText, Revocable: e.Key.RevocableTokens,
	}
	tok, err := a.encodeToken(ctx, e, &claims)
	if err != nil {
		return nil, err
	}
	td := &herald.TokenDetails{
		Token: tok, KeyName: e.Key.KeyName(), Issued: claims.Issued.UnixMilli(), Expires: claims.Expires.UnixMilli(),
		Capability: capText,
	}
	if a.cfg.Observer != nil {
		a.cfg.Observer.TokenIssued(e.App.ID, e.Key.KeyName())
	}
	if p.HasClientID {
		td.ClientID = p.ClientID
	}
	return td, nil
}
