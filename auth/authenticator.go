package auth

import (
	"context"
	"errors"
	"time"

	"github.com/heraldrt/herald"
)

// Config configures an Authenticator.
type Config struct {
	// AllowInsecureBasic allows Basic auth over non-TLS transports, which
	// Ably refuses with 40103 (RSA1, RSC18). For development only.
	AllowInsecureBasic bool
	// NonceCacheSize bounds the signed-token-request replay cache. Default
	// DefaultNonceCacheSize.
	NonceCacheSize int
	// Observer, if set, is told about issued tokens and refused
	// credentials (the audit log).
	Observer Observer
}

// Authenticator verifies Credentials against the keys in a KeyCache and
// issues tokens.
type Authenticator struct {
	cfg          Config
	keys         *KeyCache
	tokens       herald.TokenStore
	clock        herald.Clock
	nonces       *NonceCache
	storedCache  *boundedCache[*herald.StoredToken]
	capabilities capabilityCache
	jwtCaps      *boundedCache[*Capability]
	revocations  *RevocationIndex
}

// Revocations returns the authenticator's revocation index.
func (a *Authenticator) Revocations() *RevocationIndex { return a.revocations }

// New returns an Authenticator. tokens keeps persisted tokens (nil: tokens
// whose capability does not fit inline are refused). A nil clock means the
// system clock.
func New(cfg Config, keys *KeyCache, tokens herald.TokenStore, clock herald.Clock) *Authenticator {
	if clock == nil {
		clock = herald.SystemClock{}
	}
	return &Authenticator{
		cfg: cfg, keys: keys, tokens: tokens, clock: clock,
		nonces:       NewNonceCache(cfg.NonceCacheSize, clock.Now),
		storedCache:  newBoundedCache[*herald.StoredToken](10_000),
		capabilities: capabilityCache{newBoundedCache[*Capability](10_000)},
		jwtCaps:      newBoundedCache[*Capability](10_000),
		revocations:  NewRevocationIndex(),
	}
}

// Clock returns the authenticator's clock.
func (a *Authenticator) Clock() herald.Clock { return a.clock }

// Keys returns the key cache the authenticator reads.
func (a *Authenticator) Keys() *KeyCache { return a.keys }

// Authenticate verifies c and returns the principal it identifies, or a
// *herald.Error carrying the Ably code for the failure. Failures are
// reported to the Observer with the address from RemoteAddr(ctx).
func (a *Authenticator) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	p, err := a.authenticate(ctx, c)
	if err != nil {
		keyName, method := credentialKeyName(c)
		a.reportFailure(ctx, err, keyName, method)
	}
	return p, err
}

func (a *Authenticator) authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	switch {
	case c.Key != "":
		return a.basic(ctx, c)
	case c.Token != "":
		return a.token(ctx, c)
	default:
		return nil, herald.NewError(herald.CodeInvalidCredentials,
			"No authentication credentials: send an API key (Basic) or a token (Bearer)")
	}
}

// basic verifies a key string. Order matters: the TLS rule comes first (Ably
// refuses before looking at the key), and the secret is checked before the
// key's or app's status so that a caller without the secret learns nothing
// about either.
func (a *Authenticator) basic(ctx context.Context, c Credentials) (*Principal, error) {
	pk, err := ParseKey(c.Key)
	if err != nil {
		return nil, err
	}
	if !c.TLS && !a.cfg.AllowInsecureBasic {
		return nil, herald.NewError(herald.CodeBasicAuthNonTLS,
			"Invalid use of Basic authentication over non-TLS transport: use TLS, token authentication, or start the server with --dev or --insecure-allow-basic-auth")
	}
	e, err := a.keys.Lookup(ctx, pk.KeyName)
	if errors.Is(err, herald.ErrNotFound) {
		return nil, ErrUnknownKey(pk.KeyName)
	}
	if err != nil {
		return nil, err
	}
	current, previous, stale := e.matchSecret(pk.Secret, a.clock.Now())
	if !current && !previous {
		if stale {
			return nil, herald.Errorf(herald.CodeInvalidCredentials,
				"Invalid credentials: key %q was rotated and its previous secret stopped working at %s; use the new secret",
				pk.KeyName, e.Key.PreviousExpires.UTC().Format(time.RFC3339))
		}
		return nil, herald.Errorf(herald.CodeInvalidCredentials,
			"Invalid credentials: wrong secret for key %q", pk.KeyName)
	}
	if err := checkStatus(e); err != nil {
		return nil, err
	}
	p := &Principal{
		AppID:      e.App.ID,
		KeyName:    pk.KeyName,
		Method:     MethodBasic,
		Key:        e.Key,
		App:        e.App,
		Capability: e.Capability,
		// A secret that is both (never in practice) counts as the current.
		PreviousSecret: previous && !current,
	}
	if c.HasClientID {
		if err := ValidateClientID(c.ClientID); err != nil {
			return nil, err
		}
		p.ClientID = c.ClientID
	} else {
		p.AnyClientID = true
	}
	return p, nil
}

// ErrUnknownKey is the error for a key name no app has: code 40400 with HTTP
// status 401, as Ably answers an authenticated request naming an unknown key
// (docs/decisions.md "Unknown key").
func ErrUnknownKey(keyName string) *herald.Error {
	return herald.Errorf(herald.CodeNotFound, "No such API key: %q is not a key of any app on this server", keyName).WithStatus(401)
}

func checkStatus(e *KeyEntry) error {
	if e.Key.Status == herald.KeyRevoked {
		return herald.Errorf(herald.CodeKeyRevoked, "Key %q has been revoked", e.Key.KeyName())
	}
	if e.App.Status != herald.AppEnabled {
		return herald.Errorf(herald.CodeAppDisabled, "Application %q is disabled", e.App.ID)
	}
	return nil
}
