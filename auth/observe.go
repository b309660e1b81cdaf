package auth

import (
	"context"
	"strings"

	"github.com/heraldrt/herald"
)

// Observer is told about issued tokens and refused credentials, for the
// audit log. Its methods run on the request path, so they must be quick and
// must not block: count in memory and write later.
type Observer interface {
	// TokenIssued reports one Ably token issued by keyName of appID.
	TokenIssued(appID, keyName string)
	// AuthFailed reports a refused credential.
	AuthFailed(f Failure)
}

// Failure describes a refused credential. It never carries secret
// material: no secret, token, signature or MAC.
type Failure struct {
	// AppID is the app of the key the credential names when that key is
	// known to this server, else "".
	AppID string
	// KeyName is the key the credential names, as far as it could be read
	// without verifying anything (at most maxFailureKeyName bytes), or "".
	KeyName string
	// Method is "basic", "token", "jwt" or "tokenRequest".
	Method string
	// Code is the Ably error code the caller got.
	Code int
	// RemoteAddr is the client's address (WithRemoteAddr), or "".
	RemoteAddr string
}

const maxFailureKeyName = 100

type remoteAddrKey struct{}

// WithRemoteAddr returns ctx carrying the client's network address, which
// transports set so that refused credentials can be reported with it.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

// RemoteAddr returns the address WithRemoteAddr put in ctx, or "".
func RemoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

// reportFailure tells the observer about err when it refuses a credential
// naming keyName. Only credential failures count: 401xx and 403xx, an
// unparseable credential (40005) and an unknown key (40400). A bad ttl or
// capability in a valid request, or a store failure, is not one.
func (a *Authenticator) reportFailure(ctx context.Context, err error, keyName, method string) {
	if a.cfg.Observer == nil {
		return
	}
	e := herald.AsError(err)
	if c := e.Code; !(c >= 40100 && c < 40200) && !(c >= 40300 && c < 40400) &&
		c != herald.CodeInvalidCredential && c != herald.CodeNotFound {
		return
	}
	f := Failure{KeyName: truncate(keyName, maxFailureKeyName), Method: method, Code: e.Code, RemoteAddr: RemoteAddr(ctx)}
	// Only the in-memory cache is asked: a flood of bad credentials must
	// not turn into store reads.
	if entry := a.keys.peek(keyName); entry != nil {
		f.AppID = entry.App.ID
	}
	a.cfg.Observer.AuthFailed(f)
}

// credentialKeyName reads, without verifying anything, which key a
// credential names, and how it authenticates.
func credentialKeyName(c Credentials) (keyName, method string) {
	switch {
	case c.Key != "":
		name, _, _ := strings.Cut(c.Key, ":")
		return name, MethodBasic.String()
	case c.Token == "":
		return "", ""
	case LooksLikeJWT(c.Token):
		h, err := ParseJWTHeader(c.Token)
		if err != nil {
			return "", MethodJWT.String()
		}
		return h.Kid, MethodJWT.String()
	}
	return tokenKeyName(c.Token), MethodToken.String()
}

// tokenKeyName returns "appId.keyId" of a literal Ably token without
// checking its MAC, or "" when the token does not say (persisted tokens,
// garbage).
func tokenKeyName(tok string) string {
	appID, enc, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > maxTokenLen {
		return ""
	}
	raw, err := b64.DecodeString(enc)
	if err != nil || len(raw) < 1+tokenMACLen || raw[0] != tokenLiteral {
		return ""
	}
	var c TokenClaims
	if _, err := parseLiteral(raw[:len(raw)-tokenMACLen], &c); err != nil {
		return ""
	}
	return appID + "." + c.KeyID
}
