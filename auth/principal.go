package auth

import (
	"time"

	"github.com/heraldrt/herald"
)

// Method is how a principal authenticated.
type Method int

// Authentication methods.
const (
	MethodBasic Method = iota + 1
	MethodToken        // Ably token
	MethodJWT          // Ably JWT
)

func (m Method) String() string {
	switch m {
	case MethodBasic:
		return "basic"
	case MethodToken:
		return "token"
	case MethodJWT:
		return "jwt"
	}
	return "unknown"
}

// Principal is an authenticated identity: which app and key it acts for, how
// it authenticated, its clientId and its capability. Every transport gets one
// from Authenticate and asks it, never the credentials, what is allowed.
type Principal struct {
	AppID   string
	KeyName string
	Method  Method
	// ClientID is the identity the principal acts as ("" = none).
	ClientID string
	// AnyClientID reports whether the principal may act on behalf of any
	// clientId it names: Basic auth without a clientId, or a wildcard token
	// without a chosen one (ably-auth §7.1).
	AnyClientID bool
	// Key and App are the cached records behind the credential; read-only.
	Key *herald.Key
	App *herald.App
	// Capability is what the principal may do: the key's for Basic auth,
	// the intersection for tokens. Nil grants nothing.
	Capability *Capability
	// Wildcard reports a token with clientId "*" (CONNECTED then says "*"
	// when no clientId was chosen, RSA7b4).
	Wildcard bool
	// Issued and Expires bound a token's validity; zero for Basic auth.
	Issued  time.Time
	Expires time.Time
	// Revocable reports a token from a key with revocableTokens.
	Revocable bool
	// TokenClientID is the clientId claim of the token itself ("*" for a
	// wildcard token), which revocation "clientId:" targets match.
	TokenClientID string
	// PreviousSecret reports Basic auth with the key's previous secret during
	// a rotation overlap (Key.PreviousExpires ends it).
	PreviousSecret bool
	// RevocationKey is a JWT's x-ably-revocation-key.
	RevocationKey string
	// ChannelClaims maps capability resources to JWT channel-scoped claims
	// (ably.channel.<resource>); RateLimits maps resources to per-attachment
	// publish rates in messages/s. Nil for other credentials.
	ChannelClaims *ClaimSet
	RateLimits    *RateLimitSet
	// Token is the token string the principal authenticated with.
	Token string
}

// ConnectionClientID is the clientId to report in CONNECTED
// connectionDetails (RSA7b3, CD2a): the resolved one, "*" for a wildcard
// token with none chosen, "" (omitted) otherwise.
func (p *Principal) ConnectionClientID() string {
	if p.ClientID != "" {
		return p.ClientID
	}
	if p.Wildcard {
		return "*"
	}
	return ""
}

// RequireAppWide checks an app-wide operation (stats; channel enumeration
// with channel-metadata): it must be granted on "*" or "[*]*" (ably-auth
// §5.2, §5.4). Denial is 40160 with a message naming what was missing.
func (p *Principal) RequireAppWide(op Op) error {
	if p.Capability != nil && p.Capability.AllowsAppWide(op) {
		return nil
	}
	granted := "no capability"
	if p.Capability != nil {
		granted = "capability " + p.Capability.Raw()
	}
	return herald.Errorf(herald.CodeCapabilityDenied,
		"%s denied: it is app-wide and needs %q on resource \"*\" or \"[*]*\"; the credential has %s", op, op, granted)
}
