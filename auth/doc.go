// Package auth decides who a request or connection is and what it may do:
// API key parsing and Basic auth, Ably tokens, Ably JWTs, capabilities, the
// clientId rules and revocation. It has no transport imports: httpapi and
// realtime turn their wire input into Credentials and get back a Principal or
// a *herald.Error with the Ably code to send (ably-auth.md §2-§8).
package auth
