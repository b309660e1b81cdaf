package tokenissuer

import (
	"bytes"
	"encoding/base64"
	"hash"
	"slices"
	"strconv"
	"time"

	"github.com/heraldrt/herald"
)

// Claim names of an Ably JWT (ably-auth §4.1, §4.3, §4.4).
const (
	claimCapability    = "x-ably-capability"
	claimClientID      = "x-ably-clientId"
	claimRevocationKey = "x-ably-revocation-key"
	channelClaimPrefix = "ably.channel."
	rateLimitPrefix    = "ably.limits.publish.perAttachment.maxRate."
)

// MintJWT validates p and returns an Ably JWT signed with the Issuer's key
// (ably-auth §4.1): header {"typ":"JWT","alg":"HS256","kid":keyName};
// claims iat (now, in seconds), exp (iat + TTL), x-ably-capability (the
// canonical capability as a string), and when set x-ably-clientId,
// x-ably-revocation-key, ably.channel.<resource> and
// ably.limits.publish.perAttachment.maxRate.<resource>; signature
// HMAC-SHA256 with the secret. The claims are written in that order, the
// map-valued ones sorted by resource, so equal inputs give equal tokens.
//
// The returned TokenDetails carries the JWT as Token, with Issued and
// Expires in milliseconds. Invalid parameters, or a JWT that would exceed
// MaxJWTBytes, are refused with a *herald.Error before anything is signed.
func (i *Issuer) MintJWT(p TokenParams) (*TokenDetails, error) {
	c, err := i.check(&p, true)
	if err != nil {
		return nil, err
	}
	iat := i.now().Unix()
	exp := iat + int64(c.ttl/time.Second)

	var claims bytes.Buffer
	claims.Grow(96 + len(c.capability) + len(p.ClientID) + len(p.RevocationKey))
	claims.WriteString(`{"iat":`)
	claims.Write(strconv.AppendInt(claims.AvailableBuffer(), iat, 10))
	claims.WriteString(`,"exp":`)
	claims.Write(strconv.AppendInt(claims.AvailableBuffer(), exp, 10))
	writeClaim(&claims, claimCapability, c.capability)
	if p.ClientID != "" {
		writeClaim(&claims, claimClientID, p.ClientID)
	}
	if p.RevocationKey != "" {
		writeClaim(&claims, claimRevocationKey, p.RevocationKey)
	}
	for _, r := range sortedKeys(p.ChannelClaims) {
		writeClaim(&claims, channelClaimPrefix+r, p.ChannelClaims[r])
	}
	for _, r := range sortedKeys(p.RateLimits) {
		claims.WriteByte(',')
		appendJSONString(&claims, rateLimitPrefix+r)
		claims.WriteByte(':')
		claims.Write(strconv.AppendFloat(claims.AvailableBuffer(), p.RateLimits[r], 'g', -1, 64))
	}
	claims.WriteByte('}')

	enc := base64.RawURLEncoding
	const sigLen = 43 // unpadded base64url of 32 bytes
	size := len(i.jwtHeader) + 1 + enc.EncodedLen(claims.Len()) + 1 + sigLen
	if size > MaxJWTBytes {
		return nil, herald.Errorf(herald.CodeInvalidParamValue,
			"the JWT would be %d bytes, more than %d (ably-auth §4.5: JWTs must fit HTTP headers); narrow the capability or use a TokenRequest",
			size, MaxJWTBytes)
	}
	tok := make([]byte, 0, size)
	tok = append(tok, i.jwtHeader...)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, claims.Bytes())

	m := i.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(tok)
	var sum [32]byte
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, m.Sum(sum[:0]))
	i.macs.Put(m)

	return &TokenDetails{
		Token:      string(tok),
		KeyName:    i.keyName,
		Issued:     iat * 1000,
		Expires:    exp * 1000,
		Capability: c.capability,
		ClientID:   p.ClientID,
	}, nil
}

// writeClaim writes ,"name":"value" to b.
func writeClaim(b *bytes.Buffer, name, value string) {
	b.WriteByte(',')
	appendJSONString(b, name)
	b.WriteByte(':')
	appendJSONString(b, value)
}

func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonString returns s as a JSON string literal (JSON.stringify escaping).
func jsonString(s string) string {
	var b bytes.Buffer
	appendJSONString(&b, s)
	return b.String()
}
