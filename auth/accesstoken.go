package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// Account access tokens for the Control API (ably-auth §9.1). A token is
// "<id>.<secret>": the id ("at" and 8 URL-safe characters) finds the record,
// and the SHA-256 of the whole string must equal the record's Hash. Only the
// hash is stored, so a copy of the database does not hand out tokens, and
// the id lets the compare be one constant-time check of one record instead
// of a lookup by hash.
const (
	accessTokenIDPrefix = "at"
	accessTokenIDLen    = 10
	accessTokenSecret   = 43
)

// NewAccessToken returns a fresh token string and the record to store for
// it. The string is shown once and never stored. A zero expires means the
// token does not expire.
func NewAccessToken(accountID, name string, capabilities []string, expires, now time.Time) (string, *herald.AccessToken) {
	id := accessTokenIDPrefix + RandomID(accessTokenIDLen-len(accessTokenIDPrefix))
	token := id + "." + RandomID(accessTokenSecret)
	return token, &herald.AccessToken{
		ID: id, AccountID: accountID, Name: name, Capabilities: slices.Clone(capabilities),
		Hash: HashAccessToken(token), Created: now, Expires: expires,
	}
}

// HashAccessToken returns the SHA-256 of token, the form it is stored in.
// Tokens carry 258 random bits, so a fast hash is enough: there is nothing
// to brute-force.
func HashAccessToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ValidateAccessTokenCapabilities checks that caps is a non-empty list of
// known capabilities without repeats; the error names the first bad entry.
func ValidateAccessTokenCapabilities(caps []string) error {
	if len(caps) == 0 {
		return herald.Errorf(herald.CodeInvalidParamValue, "an access token needs at least one capability (%s)",
			strings.Join(herald.AccessTokenCapabilities, ", "))
	}
	for i, c := range caps {
		if !slices.Contains(herald.AccessTokenCapabilities, c) {
			return herald.Errorf(herald.CodeInvalidParamValue, "unknown access-token capability %q (known: %s)",
				truncate(c, 40), strings.Join(herald.AccessTokenCapabilities, ", "))
		}
		if slices.Contains(caps[:i], c) {
			return herald.Errorf(herald.CodeInvalidParamValue, "access-token capability %q is listed twice", c)
		}
	}
	return nil
}

// IsAccessTokenID reports whether id has the shape of an access token's
// public id (the part before the '.').
func IsAccessTokenID(id string) bool {
	if len(id) != accessTokenIDLen || !strings.HasPrefix(id, accessTokenIDPrefix) {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

// AccessTokenGetter is the part of herald.AccessTokenStore that
// VerifyAccessToken reads.
type AccessTokenGetter interface {
	AccessToken(ctx context.Context, id string) (*herald.AccessToken, error)
}

// errBadAccessToken is the one answer for a token that is malformed, unknown
// or wrong, so that a caller cannot tell which ids exist.
func errBadAccessToken() *herald.Error {
	return herald.NewError(herald.CodeInvalidCredentials,
		"Invalid access token: it is not a token of this server (create one with `herald access-tokens create`)")
}

// VerifyAccessToken finds and checks token, returning its record. Every
// failure is 40101 (HTTP 401): malformed, unknown and wrong tokens share one
// message; revoked and expired ones, whose holder has proved knowledge of
// the token, are told so.
func VerifyAccessToken(ctx context.Context, store AccessTokenGetter, token string, now time.Time) (*herald.AccessToken, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || !IsAccessTokenID(id) || len(secret) != accessTokenSecret {
		return nil, errBadAccessToken()
	}
	rec, err := store.AccessToken(ctx, id)
	if errors.Is(err, herald.ErrNotFound) {
		// Compare anyway, so an unknown id takes as long as a wrong secret.
		var zero [sha256.Size]byte
		subtle.ConstantTimeCompare(HashAccessToken(token), zero[:])
		return nil, errBadAccessToken()
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(HashAccessToken(token), rec.Hash) != 1 {
		return nil, errBadAccessToken()
	}
	if !rec.Revoked.IsZero() {
		return nil, herald.Errorf(herald.CodeInvalidCredentials, "Access token %q was revoked at %s",
			rec.ID, rec.Revoked.UTC().Format(time.RFC3339))
	}
	if !rec.Active(now) {
		return nil, herald.Errorf(herald.CodeInvalidCredentials, "Access token %q expired at %s",
			rec.ID, rec.Expires.UTC().Format(time.RFC3339))
	}
	return rec, nil
}
