package auth

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// Credentials is what a transport found on a request or connection attempt,
// before anything is verified. Transports fill it from headers and query
// parameters with the helpers below; Authenticate decides.
type Credentials struct {
	// Key is a full key string "appId.keyId:secret" (Basic auth header or the
	// realtime key= parameter, RSA11, RTN2e).
	Key string
	// Token is an Ably token or JWT, already decoded from its Bearer
	// encoding (RSA3b, §3.7).
	Token string
	// ClientID is the identity the client asked for (X-Ably-ClientId header,
	// RSA7e2, or clientId= parameter, RTN2d); HasClientID says it was given.
	ClientID    string
	HasClientID bool
	// TLS reports whether the transport is TLS, directly or through a trusted
	// proxy that said X-Forwarded-Proto: https.
	TLS bool
}

// HasAny reports whether any credential was supplied.
func (c Credentials) HasAny() bool { return c.Key != "" || c.Token != "" }

// MaxCredentialLen bounds a credential's size. JWTs must fit HTTP header
// limits (~8 KB, ably-auth §4.5); SDKs refuse tokens over 128 KiB (RSA4f).
const MaxCredentialLen = 128 << 10

// ParseAuthorization reads an HTTP Authorization header value into c. It
// accepts "Basic base64(key)" and "Bearer token", where the token may be raw
// or base64: a raw Ably token or JWT contains '.', which base64 never does
// (ably-auth §3.7). An empty header leaves c unchanged.
func ParseAuthorization(header string, c *Credentials) error {
	if header == "" {
		return nil
	}
	if len(header) > MaxCredentialLen {
		return herald.NewError(herald.CodeInvalidHeader, "Authorization header is too large")
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := decodeBase64(value)
		if err != nil || !utf8.Valid(raw) {
			return herald.NewError(herald.CodeInvalidCredential,
				"Invalid key in request: the Basic Authorization header is not valid base64 of appId.keyId:secret")
		}
		c.Key = string(raw)
	case "bearer":
		if value == "" {
			return herald.NewError(herald.CodeInvalidCredential, "Invalid accessToken in request: the Bearer token is empty")
		}
		if strings.Contains(value, ".") {
			c.Token = value
			return nil
		}
		raw, err := decodeBase64(value)
		if err != nil || !utf8.Valid(raw) || len(raw) == 0 {
			return herald.NewError(herald.CodeInvalidCredential,
				"Invalid accessToken in request: the Bearer token is neither a token nor base64 of one")
		}
		c.Token = string(raw)
	default:
		return herald.Errorf(herald.CodeInvalidHeader,
			"Authorization header scheme %q is not supported; use Basic or Bearer", truncate(scheme, 32))
	}
	return nil
}

// ParseClientIDHeader reads X-Ably-ClientId, which carries base64(utf8(id))
// (RSA7e2).
func ParseClientIDHeader(value string, c *Credentials) error {
	if value == "" {
		return nil
	}
	raw, err := decodeBase64(value)
	if err != nil || !utf8.Valid(raw) {
		return herald.NewError(herald.CodeInvalidClientID, "X-Ably-ClientId header is not valid base64 of a UTF-8 clientId")
	}
	c.ClientID, c.HasClientID = string(raw), true
	return nil
}

// decodeBase64 accepts standard base64 with or without padding, and the URL
// alphabet, because clients differ.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ValidateClientID checks a clientId a client asked for: a non-empty string
// that is not the reserved wildcard "*" (RSA7c, 40012).
func ValidateClientID(id string) error {
	switch {
	case id == "":
		return herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: it may not be an empty string")
	case id == "*":
		return herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: \"*\" is reserved for wildcard tokens")
	case !utf8.ValidString(id):
		return herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: it is not valid UTF-8")
	case len(id) > MaxClientIDLen:
		return herald.Errorf(herald.CodeInvalidClientID, "Invalid clientId: longer than %d bytes", MaxClientIDLen)
	}
	return nil
}

// MaxClientIDLen bounds clientIds (Herald's limit; Ably publishes none).
const MaxClientIDLen = 1024
