// Package tokenissuer is the application-server half of Ably's token
// authentication, for Herald and for any Ably-compatible service: a
// trusted server holds the API key and hands browsers and devices
// short-lived credentials, which they fetch with an SDK's authUrl or
// authCallback. It needs no Ably SDK and imports nothing of Herald's
// server (only the root package, for the Ably ErrorInfo type).
//
// An Issuer signs with one key:
//
//   - MintJWT returns an Ably JWT (HS256, kid = key name, iat/exp,
//     x-ably-capability, x-ably-clientId, x-ably-revocation-key, channel
//     claims and per-attachment rate limits; ably-auth §4).
//   - CreateTokenRequest returns a signed TokenRequest (ably-auth §3.2,
//     §3.3), which the SDK exchanges for an Ably token.
//
// Every input is validated first — TTL limits (§3.6), the capability
// grammar (§5), clientId rules (§7) — and refused with a *herald.Error
// carrying the Ably code Herald would answer with (40003, 40000, 40012),
// so a bad token is never signed.
//
// JWTResponse, TextResponse, TokenRequestResponse and TokenDetailsResponse
// build authUrl responses in the content types SDKs accept (RSA8c).
//
// A Policy turns an authenticated user into TokenParams through templates
// such as {"chat:{clientId}": ["publish", "subscribe"]}; placeholder values
// must be single literal channel-name segments, so a user named "bob:*"
// is refused rather than granted chat:bob:*. NewHandler serves a Policy
// over HTTP with a pluggable Authenticator (BearerAuth, HeaderAuth for a
// trusted reverse proxy, QueryAuth for development), per-caller rate
// limits and CORS; `herald authserver` is a thin command around it.
//
// docs/auth-guide.md explains when to use Basic auth, tokens or JWTs.
package tokenissuer
