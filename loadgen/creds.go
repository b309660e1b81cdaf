package loadgen

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Auth modes: how a realtime connection authenticates (ably-auth §2).
const (
	AuthKey   = "key"   // key=appId.keyId:secret (Basic auth over the socket)
	AuthToken = "token" // access_token=<Ably token from requestToken>
	AuthJWT   = "jwt"   // access_token=<Ably JWT signed HS256 with the key>
)

// Credentials hands out the query parameters each connection presents.
// Tokens and JWTs are prepared before a scenario's measured phase, so the
// measurement covers connect + verify + attach, not token issuing.
type Credentials struct {
	Mode string
	key  string
	pool []string
}

// PrepareCredentials builds a pool of n distinct credentials (at most 256:
// connections reuse them round-robin) for mode, issued with key and bound
// to clientID ("" = anonymous tokens and JWTs; ignored for key mode).
func PrepareCredentials(ctx context.Context, rest *REST, mode, key, clientID string, n int) (*Credentials, error) {
	c := &Credentials{Mode: mode, key: key}
	n = min(max(n, 1), 256)
	switch mode {
	case AuthKey:
	case AuthToken:
		for range n {
			tok, err := rest.RequestToken(ctx, key, clientID, time.Hour)
			if err != nil {
				return nil, fmt.Errorf("loadgen: request token: %w", err)
			}
			c.pool = append(c.pool, tok)
		}
	case AuthJWT:
		now := time.Now()
		for i := range n {
			// Distinct iat values make distinct JWTs. iat has whole seconds
			// and Herald revokes only JWTs issued in an earlier second than
			// the revocation (auth/revoke.go), so every iat is at least a
			// second old.
			tok, err := SignJWT(key, clientID, now.Add(-time.Duration(i+1)*time.Second), time.Hour)
			if err != nil {
				return nil, err
			}
			c.pool = append(c.pool, tok)
		}
	default:
		return nil, fmt.Errorf("loadgen: unknown auth mode %q (want key, token or jwt)", mode)
	}
	return c, nil
}

// Set adds connection i's credential to q.
func (c *Credentials) Set(q url.Values, i int) {
	if c.Mode == AuthKey {
		q.Set("key", c.key)
		return
	}
	q.Set("access_token", c.pool[i%len(c.pool)])
}

// SignJWT returns an Ably JWT for key (ably-auth §4.1): HS256 with the key
// secret, kid = key name, iat and exp in seconds, and x-ably-clientId when
// clientID is set. Capability is the key's.
func SignJWT(key, clientID string, issued time.Time, ttl time.Duration) (string, error) {
	keyName, secret, ok := splitKey(key)
	if !ok || secret == "" {
		return "", fmt.Errorf("loadgen: %q is not a full key string appId.keyId:secret", keyName)
	}
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256", "kid": keyName})
	claims := map[string]any{"iat": issued.Unix(), "exp": issued.Add(ttl).Unix()}
	if clientID != "" {
		claims["x-ably-clientId"] = clientID
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}
