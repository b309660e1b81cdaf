package herald

import (
	"context"
	"time"
)

// Revocation target types (ably-auth §6.2).
const (
	TargetClientID      = "clientId"
	TargetRevocationKey = "revocationKey"
	TargetChannel       = "channel"
)

// Revocation is one revokeTokens rule: tokens of KeyName matching the target
// and issued before IssuedBefore are refused from AppliesAt on. Expires is
// when no token the rule could match can still be valid, after which the
// rule is dropped.
type Revocation struct {
	AppID        string
	KeyName      string
	Type         string
	Value        string
	IssuedBefore time.Time
	AppliesAt    time.Time
	Expires      time.Time
}

// RevocationStore keeps revocation rules.
type RevocationStore interface {
	// AddRevocations stores rules in one transaction; a rule equal to a
	// stored one (same key, target and issuedBefore) is replaced.
	AddRevocations(ctx context.Context, rules []*Revocation) error
	// Revocations returns every rule that has not expired at now.
	Revocations(ctx context.Context, now time.Time) ([]*Revocation, error)
	// DeleteExpiredRevocations removes rules expired before now.
	DeleteExpiredRevocations(ctx context.Context, now time.Time) (int, error)
}
