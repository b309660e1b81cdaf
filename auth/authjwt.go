package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/heraldrt/herald"
)

// verifyJWTPrincipal verifies an Ably JWT (ably-auth §4.1) or, at depth 0,
// an embedded-token JWT (§4.2) whose inner token decides everything except
// that the outer exp may not be later than the inner expiry.
func (a *Authenticator) verifyJWTPrincipal(ctx context.Context, tok string, depth int) (*Principal, string, bool, error) {
	h, err := ParseJWTHeader(tok)
	if err != nil && depth > 0 {
		return nil, "", false, err
	}
	// An Ably JWT names its key in kid and uses HS256; anything else (or an
	// x-ably-token in the header) can only be an embedded-token JWT, whose
	// claims are read without a signature check. Checking the header first
	// keeps the common case to one header decode.
	if depth == 0 && (err != nil || h.Token != "" || h.Kid == "" || h.Alg != "HS256") {
		if p, cid, hasCID, found, eerr := a.embedded(ctx, tok, depth); found || eerr != nil {
			return p, cid, hasCID, eerr
		}
	}
	if err != nil {
		return nil, "", false, err
	}
	if h.Kid == "" {
		return nil, "", false, jwtError("the header has no kid; Ably JWTs name their signing key (appId.keyId) in kid")
	}
	e, err := a.keys.Lookup(ctx, h.Kid)
	if errors.Is(err, herald.ErrNotFound) && depth == 0 {
		// An outer JWT signed by the customer may use HS256 and a kid of
		// its own, with the Ably token in its claims.
		if p, cid, hasCID, found, eerr := a.embedded(ctx, tok, depth); found || eerr != nil {
			return p, cid, hasCID, eerr
		}
	}
	if errors.Is(err, herald.ErrNotFound) {
		// Ably answers a JWT for an unknown key with 40400/404 (ably-js
		// "JWT request with invalid key"); docs/decisions.md.
		return nil, "", false, herald.Errorf(herald.CodeNotFound, "No such API key: the JWT's kid %q is not a key of any app on this server", truncate(h.Kid, 100))
	}
	if err != nil {
		return nil, "", false, err
	}
	now := a.clock.Now()
	claims, err := VerifyJWT(tok, e.jwtSecret(tok, now), now, JWTOptions{Revocable: e.Key.RevocableTokens})
	if err != nil {
		return nil, "", false, err
	}
	if err := checkStatus(e); err != nil {
		return nil, "", false, err
	}
	capa := e.Capability
	if capa == nil {
		return nil, "", false, herald.Errorf(herald.CodeCapabilityDenied, "Key %q has no valid capability", e.Key.KeyName())
	}
	if claims.HasCapability && strings.TrimSpace(claims.Capability) != "" {
		if capa, err = a.intersected(e, claims.Capability); err != nil {
			return nil, "", false, err
		}
	}
	p := &Principal{
		AppID: e.App.ID, KeyName: e.Key.KeyName(), Method: MethodJWT, Key: e.Key, App: e.App,
		Capability: capa, Issued: claims.IssuedAt, Expires: claims.ExpiresAt,
		Revocable: e.Key.RevocableTokens, RevocationKey: claims.RevocationKey, Token: tok,
	}
	if p.ChannelClaims, err = NewClaimSet(claims.ChannelClaims); err != nil {
		return nil, "", false, jwtError("a channel claim names an invalid resource: %s", herald.AsError(err).Message)
	}
	if p.RateLimits, err = NewRateLimitSet(claims.RateLimits); err != nil {
		return nil, "", false, jwtError("a rate-limit claim names an invalid resource: %s", herald.AsError(err).Message)
	}
	return p, claims.ClientID, claims.HasClientID, nil
}

// intersected returns the JWT capability ∩ the key's, cached per key and
// capability text: a JWT is verified on every request, and the same few
// capabilities recur.
func (a *Authenticator) intersected(e *KeyEntry, text string) (*Capability, error) {
	k := e.Key.KeyName() + "\x00" + e.Key.Capability + "\x00" + text
	if c := a.jwtCaps.get(k); c != nil {
		return c, nil
	}
	req, err := ParseCapability(text)
	if err != nil {
		return nil, err
	}
	c, err := Intersect(e.Capability, req)
	if err != nil {
		return nil, err
	}
	a.jwtCaps.put(k, c)
	return c, nil
}

// embedded verifies an embedded-token JWT (ably-auth §4.2): the inner token
// decides everything except that the outer exp may not be later than the
// inner expiry. found is false when tok carries no x-ably-token.
func (a *Authenticator) embedded(ctx context.Context, tok string, depth int) (*Principal, string, bool, bool, error) {
	inner, outerExp, hasOuterExp, found, err := EmbeddedToken(tok)
	if err != nil || !found {
		return nil, "", false, found, err
	}
	p, cid, hasCID, err := a.verifyAnyToken(ctx, inner, depth+1)
	if err != nil {
		return nil, "", false, true, err
	}
	if err := CheckEmbeddedExpiry(outerExp, hasOuterExp, p.Expires); err != nil {
		return nil, "", false, true, err
	}
	return p, cid, hasCID, true, nil
}
