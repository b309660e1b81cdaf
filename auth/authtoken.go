package auth

import (
	"context"
	"strings"

	"github.com/heraldrt/herald"
)

// token authenticates an Ably token or JWT and resolves the identity.
func (a *Authenticator) token(ctx context.Context, c Credentials) (*Principal, error) {
	if len(c.Token) > MaxCredentialLen {
		return nil, errMalformedToken("too long")
	}
	p, tokenClientID, hasTokenClientID, err := a.verifyAnyToken(ctx, c.Token, 0)
	if err != nil {
		return nil, err
	}
	if p.App.TLSOnly && !c.TLS {
		return nil, herald.Errorf(herald.CodeTLSRequired, "Application %q requires TLS", p.AppID)
	}
	p.TokenClientID = tokenClientID
	if err := a.revocations.Check(p, a.clock.Now()); err != nil {
		return nil, err
	}
	if err := ResolveClientID(p, tokenClientID, hasTokenClientID, c); err != nil {
		return nil, err
	}
	return p, nil
}

// verifyAnyToken dispatches on the token's form. depth guards against a JWT
// embedding a JWT embedding ... (one level is allowed, ably-auth §4.2).
func (a *Authenticator) verifyAnyToken(ctx context.Context, tok string, depth int) (p *Principal, clientID string, hasClientID bool, err error) {
	if LooksLikeJWT(tok) || (depth == 0 && strings.Count(tok, ".") == 4) { // JWS, or JWE (embedded only)
		return a.verifyJWTPrincipal(ctx, tok, depth)
	}
	claims, e, capa, err := a.VerifyToken(ctx, tok)
	if err != nil {
		return nil, "", false, err
	}
	p = &Principal{
		AppID: claims.AppID, KeyName: e.Key.KeyName(), Method: MethodToken, Key: e.Key, App: e.App,
		Capability: capa, Issued: claims.Issued, Expires: claims.Expires, Revocable: claims.Revocable,
		Token: tok,
	}
	return p, claims.ClientID, claims.HasClientID, nil
}

// ResolveClientID applies the identified-client rules (ably-auth §7.1,
// §7.3) to a token principal: a token bound to X serves only X (a different
// requested clientId is 40102); a wildcard token takes the requested
// clientId or may act for any; an anonymous token cannot claim one (40102).
func ResolveClientID(p *Principal, tokenClientID string, hasTokenClientID bool, c Credentials) error {
	switch {
	case hasTokenClientID && tokenClientID == "*":
		p.Wildcard = true
		if c.HasClientID {
			if err := ValidateClientID(c.ClientID); err != nil {
				return err
			}
			p.ClientID = c.ClientID
		} else {
			p.AnyClientID = true
		}
	case hasTokenClientID:
		if c.HasClientID && c.ClientID != tokenClientID {
			return herald.Errorf(herald.CodeIncompatibleClientID,
				"Invalid clientId for credentials: the token is bound to clientId %q but %q was requested", tokenClientID, c.ClientID)
		}
		p.ClientID = tokenClientID
	default:
		if c.HasClientID {
			return herald.Errorf(herald.CodeIncompatibleClientID,
				"Invalid clientId for credentials: the token is anonymous (no clientId) but clientId %q was requested", c.ClientID)
		}
	}
	return nil
}
