package herald

import (
	"context"
	"time"
)

// TokenDetails is what a token request returns (TD1-TD6): the token string
// and what it grants. Times are ms on the wire. Issued and Capability are
// always present (ably-js tells TokenDetails from TokenRequest by `issued`).
type TokenDetails struct {
	Token      string `json:"token"`
	KeyName    string `json:"keyName,omitempty"`
	Issued     int64  `json:"issued"`
	Expires    int64  `json:"expires"`
	Capability string `json:"capability"`
	ClientID   string `json:"clientId,omitempty"`
}

// TokenRequest is a (signed or unsigned) request for an Ably token (TE1-TE5).
// TTL and Timestamp keep the decimal text they arrived with because the MAC
// covers that text; an absent field is "".
type TokenRequest struct {
	KeyName     string
	TTL         string // ms, decimal; "" = default
	Capability  string // JSON text exactly as sent; "" = the key's capability
	ClientID    string
	HasClientID bool
	Timestamp   string // ms, decimal
	Nonce       string
	MAC         string // base64; "" = unsigned
}

// StoredToken is the server-side record behind a persisted token: a token
// whose capability is too large to carry inline (ably-auth §3.8) carries
// only a reference to this record.
type StoredToken struct {
	AppID       string
	Ref         string
	KeyID       string
	Issued      time.Time
	Expires     time.Time
	ClientID    string
	HasClientID bool
	Capability  string
	Revocable   bool
}

// TokenStore keeps persisted-token records until they expire.
type TokenStore interface {
	// SaveToken stores t; Ref is unique per app (else ErrConflict).
	SaveToken(ctx context.Context, t *StoredToken) error
	// Token returns the record, or an error wrapping ErrNotFound.
	Token(ctx context.Context, appID, ref string) (*StoredToken, error)
	// DeleteExpiredTokens removes records that expired before t and reports
	// how many it removed.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error)
}
