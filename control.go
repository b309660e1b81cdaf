package herald

import (
	"context"
	"slices"
	"time"
)

// KeyRotationStore ends key rotations (Key.PreviousSecret).
type KeyRotationStore interface {
	// EndKeyRotations clears the previous secret and its expiry of every
	// key whose PreviousExpires is at or before now, in one atomic step (a
	// rotation made meanwhile is kept), and reports how many it cleared.
	// The keys' Modified times are left alone; Generation changes when any
	// is cleared.
	EndKeyRotations(ctx context.Context, now time.Time) (int, error)
}

// Access-token capabilities: what an account access token may do through
// the Control API (ably-auth §9.1). The first four are Ably's; read:audit is
// Herald's, for the audit log (docs/decisions.md).
const (
	CapReadApp   = "read:app"
	CapWriteApp  = "write:app"
	CapReadKey   = "read:key"
	CapWriteKey  = "write:key"
	CapReadAudit = "read:audit"
)

// AccessTokenCapabilities lists every access-token capability Herald knows,
// in the order they are shown.
var AccessTokenCapabilities = []string{CapReadApp, CapWriteApp, CapReadKey, CapWriteKey, CapReadAudit}

// AccessToken is an account access token for the Control API ("Authorization:
// Bearer <token>"). The token string itself is never stored: Hash is its
// SHA-256, and the string is shown once, when the token is created.
type AccessToken struct {
	// ID is the public part of the token string, which starts with it.
	ID        string
	AccountID string
	Name      string
	// Capabilities are entries of AccessTokenCapabilities.
	Capabilities []string
	// Hash is the SHA-256 of the whole token string.
	Hash    []byte
	Created time.Time
	// Expires is when the token stops working; zero means never.
	Expires time.Time
	// LastUsed is the last time the token authenticated a request (updated
	// at most once a minute); zero means never.
	LastUsed time.Time
	// Revoked is when the token was revoked; zero means it was not.
	Revoked time.Time
}

// Can reports whether the token grants capability c.
func (t *AccessToken) Can(c string) bool { return slices.Contains(t.Capabilities, c) }

// Active reports whether the token can authenticate at now: not revoked and
// not expired.
func (t *AccessToken) Active(now time.Time) bool {
	return t.Revoked.IsZero() && (t.Expires.IsZero() || now.Before(t.Expires))
}

// AccessTokenStore keeps account access tokens. Tokens are never deleted,
// so that audit entries naming one can still be resolved.
type AccessTokenStore interface {
	// CreateAccessToken stores t; an existing ID wraps ErrConflict. A zero
	// Created is set from the store's clock.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	// AccessToken returns the token with id, or an error wrapping ErrNotFound.
	AccessToken(ctx context.Context, id string) (*AccessToken, error)
	// AccessTokens returns every token, in creation order.
	AccessTokens(ctx context.Context) ([]*AccessToken, error)
	// RevokeAccessToken sets the token's Revoked time to at unless it is
	// already revoked (the first revocation time is kept). Unknown ids wrap
	// ErrNotFound.
	RevokeAccessToken(ctx context.Context, id string, at time.Time) error
	// TouchAccessToken sets LastUsed to at; it changes nothing else, so it
	// cannot undo a concurrent revocation. Unknown ids wrap ErrNotFound.
	TouchAccessToken(ctx context.Context, id string, at time.Time) error
}

// AuditKind names what an audit entry records.
type AuditKind string

// Audit entry kinds. Changes are recorded one entry per change; token issues
// and authentication failures are counted per minute (AuditEntry.Count), so
// that a busy app or a brute-force attempt cannot flood the log.
const (
	AuditAppCreate         AuditKind = "app.create"
	AuditAppUpdate         AuditKind = "app.update"
	AuditAppDelete         AuditKind = "app.delete"
	AuditKeyCreate         AuditKind = "key.create"
	AuditKeyUpdate         AuditKind = "key.update"
	AuditKeyRevoke         AuditKind = "key.revoke"
	AuditKeyRotate         AuditKind = "key.rotate"
	AuditAccessTokenCreate AuditKind = "accessToken.create"
	AuditAccessTokenRevoke AuditKind = "accessToken.revoke"
	AuditTokensRevoke      AuditKind = "tokens.revoke"
	AuditTokenIssue        AuditKind = "token.issue"
	AuditAuthFailure       AuditKind = "auth.failure"
)

// AuditKinds lists every kind, for validating filters.
var AuditKinds = []AuditKind{
	AuditAppCreate, AuditAppUpdate, AuditAppDelete,
	AuditKeyCreate, AuditKeyUpdate, AuditKeyRevoke, AuditKeyRotate,
	AuditAccessTokenCreate, AuditAccessTokenRevoke,
	AuditTokensRevoke, AuditTokenIssue, AuditAuthFailure,
}

// AuditEntry is one audit log record. It never holds secret material: no key
// secret, token, access token or MAC, only names and ids.
type AuditEntry struct {
	// ID is assigned by the store when the entry is appended; IDs increase
	// and are never reused, so they serve as a pagination cursor.
	ID int64
	// Time is when the event happened; for counted kinds, the start of the
	// minute counted.
	Time time.Time
	// AppID is the app the entry concerns; "" for account-level entries
	// (access tokens, credentials that name no known app).
	AppID string
	Kind  AuditKind
	// Actor says who acted: "accessToken:<id>", "key:<keyName>" or "cli";
	// "" when no one authenticated (auth failures).
	Actor string
	// Target is what was acted on: an app id, key name or access-token id.
	Target string
	// Code is the Ably error code of an auth failure, else 0.
	Code int
	// Address is the client's IP address, when known.
	Address string
	// Count is how many events the entry stands for (>= 1).
	Count int
	// Details is a JSON object with kind-specific fields, or "".
	Details string
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	// AppID selects one app's entries; "" selects every entry, account-level
	// ones included.
	AppID string
	// Kinds, when not empty, keeps only entries of these kinds.
	Kinds []AuditKind
	// Start and End bound Time, both inclusive; zero leaves that side open.
	Start, End time.Time
	// Before, when > 0, keeps only entries with ID < Before (the cursor of
	// the next page).
	Before int64
	// Limit is the most entries returned; <= 0 means no limit.
	Limit int
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores entries in one transaction and sets their IDs. A
	// zero Time is set from the store's clock and a zero Count becomes 1.
	AppendAudit(ctx context.Context, entries ...*AuditEntry) error
	// Audit returns the entries q selects, newest (highest ID) first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
	// PruneAudit deletes entries older than before and then all but the
	// newest keep entries (keep <= 0: no row limit). It reports how many it
	// deleted.
	PruneAudit(ctx context.Context, before time.Time, keep int) (int, error)
}
