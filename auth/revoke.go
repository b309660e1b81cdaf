package auth

import (
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// MaxRevocationTargets bounds one revokeTokens request (ably-auth §6.2).
const MaxRevocationTargets = 100

// ParseTarget splits a revokeTokens target "type:value" at the first ':'
// (so "channel:foo:*" is the channel resource "foo:*"). Unknown types and
// empty values are 40000 errors, reported per target.
func ParseTarget(s string) (typ, value string, err error) {
	typ, value, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return "", "", herald.Errorf(herald.CodeBadRequest, "Invalid target %q: expected type:value, e.g. clientId:alice", truncate(s, 100))
	case value == "":
		return "", "", herald.Errorf(herald.CodeBadRequest, "Invalid target %q: the value is empty", truncate(s, 100))
	}
	switch typ {
	case herald.TargetClientID, herald.TargetRevocationKey, herald.TargetChannel:
		return typ, value, nil
	}
	return "", "", herald.Errorf(herald.CodeBadRequest,
		"Invalid target type %q: use clientId, revocationKey or channel", truncate(typ, 40))
}

type revKey struct{ keyName, typ, value string }

type revRule struct{ issuedBefore, appliesAt, expires time.Time }

// RevocationIndex holds the revocation rules in memory, so that checking a
// token costs one map lookup per rule kind (clientId, revocationKey) and one
// per capability resource (channel), however many rules there are.
type RevocationIndex struct {
	mu    sync.RWMutex
	rules map[revKey][]revRule
	n     int
}

// NewRevocationIndex returns an empty index.
func NewRevocationIndex() *RevocationIndex {
	return &RevocationIndex{rules: map[revKey][]revRule{}}
}

// Load replaces the index's rules.
func (x *RevocationIndex) Load(rules []*herald.Revocation) {
	m := make(map[revKey][]revRule, len(rules))
	for _, r := range rules {
		k := revKey{r.KeyName, r.Type, r.Value}
		m[k] = append(m[k], revRule{r.IssuedBefore, r.AppliesAt, r.Expires})
	}
	x.mu.Lock()
	x.rules, x.n = m, len(rules)
	x.mu.Unlock()
}

// Add adds rules.
func (x *RevocationIndex) Add(rules ...*herald.Revocation) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rules {
		k := revKey{r.KeyName, r.Type, r.Value}
		x.rules[k] = append(x.rules[k], revRule{r.IssuedBefore, r.AppliesAt, r.Expires})
		x.n++
	}
}

// Prune drops rules that expired before now.
func (x *RevocationIndex) Prune(now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, rs := range x.rules {
		kept := rs[:0]
		for _, r := range rs {
			if !r.expires.Before(now) {
				kept = append(kept, r)
			}
		}
		x.n -= len(rs) - len(kept)
		if len(kept) == 0 {
			delete(x.rules, k)
		} else {
			x.rules[k] = kept
		}
	}
}

// Len reports how many rules are held.
func (x *RevocationIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// Match reports whether a rule covers p's token and, if so, the earliest
// time one applies. Only tokens of keys with revocableTokens can match
// (§6.4); Basic auth never does.
func (x *RevocationIndex) Match(p *Principal) (appliesAt time.Time, matched bool) {
	if p == nil || !p.Revocable || p.Method == MethodBasic {
		return time.Time{}, false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.n == 0 {
		return time.Time{}, false
	}
	check := func(typ, value string) {
		for _, r := range x.rules[revKey{p.KeyName, typ, value}] {
			if issuedBefore(p, r.issuedBefore) && (!matched || r.appliesAt.Before(appliesAt)) {
				appliesAt, matched = r.appliesAt, true
			}
		}
	}
	if p.TokenClientID != "" {
		check(herald.TargetClientID, p.TokenClientID)
	}
	if p.RevocationKey != "" {
		check(herald.TargetRevocationKey, p.RevocationKey)
	}
	if p.Capability != nil {
		for _, res := range p.Capability.Resources() {
			check(herald.TargetChannel, res)
		}
	}
	return appliesAt, matched
}

// issuedBefore reports whether p's token was issued before t. A JWT's iat
// has whole seconds, so it is compared in seconds: a JWT issued in the same
// second as the revocation is not revoked, so that one issued just after
// it, by the app's auth server reacting to the revocation, keeps working
// (docs/decisions.md "Revocation").
func issuedBefore(p *Principal, t time.Time) bool {
	if p.Method == MethodJWT {
		return p.Issued.Unix() < t.Unix()
	}
	return p.Issued.Before(t)
}

// Check returns 40141 when a rule that already applies covers p's token.
func (x *RevocationIndex) Check(p *Principal, now time.Time) error {
	at, ok := x.Match(p)
	if ok && !now.Before(at) {
		return herald.NewError(herald.CodeTokenRevoked, "Token revoked")
	}
	return nil
}
