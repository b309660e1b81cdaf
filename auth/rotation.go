package auth

import (
	"crypto/hmac"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// Key rotation (Herald's extension; docs/decisions.md "Key
// rotation"). A rotated key gets a new secret and keeps the old one as
// Key.PreviousSecret until Key.PreviousExpires. While that overlap window is
// open, everything made with the old secret still verifies: Basic auth,
// signed token requests, Ably tokens and JWTs. New tokens are always signed
// with the current secret. When the window ends the old secret stops working
// for new verifications; live connections that used it are closed by the
// next key recheck after that (BasicSecretValid), never before.

// Rotation overlap limits.
const (
	// DefaultRotationOverlap is the overlap when the caller names none.
	DefaultRotationOverlap = time.Hour
	// MaxRotationOverlap bounds the overlap: a longer one would keep a
	// secret that is meant to be replaced alive for too long.
	MaxRotationOverlap = 30 * 24 * time.Hour
)

// Rotate gives k a fresh secret and keeps the current one as its previous
// secret until now+overlap. A previous secret left from an earlier rotation
// is dropped at once (only one previous secret is kept). An overlap <= 0
// ends the old secret immediately.
func Rotate(k *herald.Key, now time.Time, overlap time.Duration) {
	k.PreviousSecret, k.PreviousExpires = k.Secret, now.Add(overlap)
	if overlap <= 0 {
		k.PreviousSecret, k.PreviousExpires = "", time.Time{}
	}
	k.Secret = NewSecret()
	k.Modified = now
}

// matchSecret compares secret with e's current secret and, if the key has
// one, its previous secret. Both compares run whenever there is a previous
// secret, open window or not, and each is constant-time, so the time taken
// says nothing about which one matched. current and previous report an
// accepted match; stale reports a match with a previous secret whose window
// has ended.
func (e *KeyEntry) matchSecret(secret string, now time.Time) (current, previous, stale bool) {
	current = SecretEqual(secret, e.Key.Secret)
	if e.prevSecret != nil {
		match := SecretEqual(secret, e.Key.PreviousSecret)
		open := e.Key.PreviousSecretValid(now)
		previous, stale = match && open, match && !open
	}
	return current, previous, stale
}

// tokenMACOK checks an Ably token's MAC against the current token key and,
// during the overlap, the previous one. stale reports a token signed with a
// previous secret whose window has ended.
func (e *KeyEntry) tokenMACOK(appID string, body, mac []byte, now time.Time) (ok, stale bool) {
	var want [tokenMACLen]byte
	e.macs.sum(want[:], appID, body)
	if hmac.Equal(want[:], mac) {
		return true, false
	}
	if e.prevMACs == nil {
		return false, false
	}
	e.prevMACs.sum(want[:], appID, body)
	if !hmac.Equal(want[:], mac) {
		return false, false
	}
	return e.Key.PreviousSecretValid(now), !e.Key.PreviousSecretValid(now)
}

// tokenRequestMACOK checks a signed TokenRequest's mac with the current
// secret and, during the overlap, the previous one.
func (e *KeyEntry) tokenRequestMACOK(req *herald.TokenRequest, now time.Time) bool {
	if macEqual(req.MAC, TokenRequestMAC(e.Key.Secret, req)) {
		return true
	}
	return e.Key.PreviousSecretValid(now) && macEqual(req.MAC, TokenRequestMAC(e.Key.PreviousSecret, req))
}

// jwtSecret returns the secret to verify tok with: the previous one only
// when the overlap is open and it, not the current one, signed tok. Outside
// a rotation this costs nothing; during one, at most two extra HMACs.
func (e *KeyEntry) jwtSecret(tok string, now time.Time) []byte {
	if e.prevSecret == nil || !e.Key.PreviousSecretValid(now) {
		return e.secret
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return e.secret
	}
	signing, sig := tok[:i], tok[i+1:]
	if !jwtSignatureOK(signing, sig, e.secret) && jwtSignatureOK(signing, sig, e.prevSecret) {
		return e.prevSecret
	}
	return e.secret
}

// BasicSecretValid reports whether the secret that p, a Basic-auth
// principal, authenticated with is still accepted by e at now: it is e's
// current secret, or e's previous secret while the overlap lasts. The
// realtime endpoint's key recheck uses it so that a rotation never closes a
// connection before its secret's window has ended.
func (e *KeyEntry) BasicSecretValid(p *Principal, now time.Time) bool {
	used := p.Key.Secret
	if p.PreviousSecret {
		used = p.Key.PreviousSecret
	}
	if SecretEqual(used, e.Key.Secret) {
		return true
	}
	return e.Key.PreviousSecretValid(now) && SecretEqual(used, e.Key.PreviousSecret)
}
