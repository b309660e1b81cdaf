package herald

import (
	"strings"
	"time"
)

// KeyStatus mirrors the Control API key status: 0 enabled, 1 revoked.
type KeyStatus int

// Key statuses.
const (
	KeyEnabled KeyStatus = 0
	KeyRevoked KeyStatus = 1
)

// DefaultCapability is the capability of a key created without one, as the
// Ably sandbox provisions keys[0] of test-app-setup.json (ably-auth §1.2).
const DefaultCapability = `{"*":["*"]}`

// Key is an API key "appId.keyId:secret". Capability is kept as the exact
// JSON it was configured with (op order included) because SDK tests compare a
// blanket token's capability with it byte for byte.
type Key struct {
	AppID           string
	ID              string
	Secret          string
	Name            string
	Capability      string
	RevocableTokens bool
	Status          KeyStatus
	Created         time.Time
	Modified        time.Time
	// PreviousSecret is the secret the last rotation replaced ("" = none).
	// Until PreviousExpires, Basic auth, token requests, tokens and JWTs made
	// with it are still accepted, so clients can switch without downtime
	// (Herald's extension; docs/decisions.md "Key rotation").
	PreviousSecret  string
	PreviousExpires time.Time
}

// KeyName returns "appId.keyId", the public part of the key (RSA11).
func (k *Key) KeyName() string { return k.AppID + "." + k.ID }

// KeyString returns the full key string "appId.keyId:secret". It is secret:
// print it once, never log it.
func (k *Key) KeyString() string { return k.KeyName() + ":" + k.Secret }

// PreviousSecretValid reports whether the previous secret is still accepted
// at now: there is one and its overlap window has not ended.
func (k *Key) PreviousSecretValid(now time.Time) bool {
	return k.PreviousSecret != "" && now.Before(k.PreviousExpires)
}

// SplitKeyName splits "appId.keyId" at its first '.', reporting whether both
// halves are non-empty.
func SplitKeyName(keyName string) (appID, keyID string, ok bool) {
	appID, keyID, found := strings.Cut(keyName, ".")
	if !found || appID == "" || keyID == "" {
		return "", "", false
	}
	return appID, keyID, true
}
