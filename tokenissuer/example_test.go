package tokenissuer_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldrt/herald/tokenissuer"
)

// An application server mints an Ably JWT for a signed-in user. (The
// fixed clock reproduces the composed example of ably-auth §4.1; real
// code leaves Config.Now nil.)
func Example() {
	issuer, err := tokenissuer.New(tokenissuer.Config{
		Key: "appId1.keyId1:s3cr3t-K3y_value", // from the environment, never the client
		Now: func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	jwt, err := issuer.MintJWT(tokenissuer.TokenParams{
		TTL:        time.Hour,
		Capability: tokenissuer.Capability{"chat:*": {"publish", "subscribe"}},
		ClientID:   "alice",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(jwt.Token)
	fmt.Println(jwt.Capability, jwt.Expires)
	// Output:
	// eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImFwcElkMS5rZXlJZDEifQ.eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwieC1hYmx5LWNhcGFiaWxpdHkiOiJ7XCJjaGF0OipcIjpbXCJwdWJsaXNoXCIsXCJzdWJzY3JpYmVcIl19IiwieC1hYmx5LWNsaWVudElkIjoiYWxpY2UifQ.o4WEqRaf2cBpnwTDSb296FDVXJAsrjFguneVbWSe4CY
	// {"chat:*":["publish","subscribe"]} 1700003600000
}

// A signed TokenRequest, returned to an authCallback, which the SDK
// exchanges for an Ably token. The fixed clock and nonce source make the
// output stable; real code leaves both nil.
func ExampleIssuer_CreateTokenRequest() {
	issuer, _ := tokenissuer.New(tokenissuer.Config{
		Key:  "appId1.keyId1:s3cr3t-K3y_value",
		Now:  func() time.Time { return time.UnixMilli(1700000000000) },
		Rand: strings.NewReader(strings.Repeat("\x12\x34\x56\x78", 4)),
	})
	tr, err := issuer.CreateTokenRequest(tokenissuer.TokenParams{
		Capability: tokenissuer.Capability{"chat:*": {"subscribe", "publish", "presence"}},
		ClientID:   "alice",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(tokenissuer.TokenRequestResponse(tr).Body))
	// Output:
	// {"keyName":"appId1.keyId1","ttl":3600000,"capability":"{\"chat:*\":[\"presence\",\"publish\",\"subscribe\"]}","clientId":"alice","timestamp":1700000000000,"nonce":"12345678123456781234567812345678","mac":"cph53MTrB3ZSC56madJMeX0pD5Sk41W+yA/ovson44s="}
}

// Every input is checked before signing.
func ExampleIssuer_MintJWT_invalid() {
	issuer, _ := tokenissuer.New(tokenissuer.Config{Key: "appId1.keyId1:s3cr3t-K3y_value"})
	_, err := issuer.MintJWT(tokenissuer.TokenParams{
		TTL:        48 * time.Hour,
		Capability: tokenissuer.Capability{"chat:*": {"publish"}},
	})
	fmt.Println(err)
	_, err = issuer.MintJWT(tokenissuer.TokenParams{
		Capability: tokenissuer.Capability{"chat:*": {"*", "publish"}},
	})
	fmt.Println(err)
	// Output:
	// invalid ttl: ttl 48h0m0s exceeds the maximum token lifetime of 24h0m0s (code 40003, status 400)
	// invalid capability: resource "chat:*": "*" must be the only operation (code 40000, status 400)
}

// A policy gives each user least privilege: their own chat channel and
// read-only notifications. A user whose name would widen the grant is
// refused.
func ExamplePolicy_Params() {
	policy, err := tokenissuer.ParsePolicy([]byte(`{
	  "capability": {"chat:{clientId}": ["publish", "subscribe", "presence"], "notifications": ["subscribe"]},
	  "clientId": "{user}",
	  "ttl": "1h"
	}`))
	if err != nil {
		panic(err)
	}
	p, _ := policy.Params(tokenissuer.Identity{User: "alice"})
	capability, _ := p.Capability.Canonical()
	fmt.Println(p.ClientID, capability)

	_, err = policy.Params(tokenissuer.Identity{User: "bob:*"})
	fmt.Println(err)
	// Output:
	// alice {"chat:alice":["presence","publish","subscribe"],"notifications":["subscribe"]}
	// cannot issue a token: {user} = "bob:*" contains ":" (none of : * [ ] ? { } " \ are allowed); a placeholder value must be one literal channel-name segment (code 40300, status 403)
}

// An auth server for browsers: callers prove who they are with a bearer
// secret and get a JWT per the policy. An SDK points its authUrl at
// /token and sends the secret in authHeaders.
func ExampleNewHandler() {
	issuer, _ := tokenissuer.New(tokenissuer.Config{Key: "appId1.keyId1:s3cr3t-K3y_value"})
	policy, _ := tokenissuer.ParsePolicy([]byte(`{"capability": {"chat:{clientId}": ["publish", "subscribe"]}, "clientId": "{user}"}`))
	callers, _ := tokenissuer.BearerAuth(map[string]tokenissuer.Identity{
		"a-long-random-secret-for-alice": {User: "alice"},
	})
	h, err := tokenissuer.NewHandler(tokenissuer.HandlerConfig{Issuer: issuer, Policy: policy, Authenticator: callers})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/token", nil)
	req.Header.Set("Authorization", "Bearer a-long-random-secret-for-alice")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output:
	// 200 application/jwt
}

// Answering an authUrl from your own handler, with your own session
// check: pick the content type the SDK should see.
func ExampleJWTResponse() {
	issuer, _ := tokenissuer.New(tokenissuer.Config{Key: "appId1.keyId1:s3cr3t-K3y_value"})
	policy, _ := tokenissuer.ParsePolicy([]byte(`{"capability": {"chat:{clientId}": ["publish", "subscribe"]}, "clientId": "{user}"}`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ably-token", func(w http.ResponseWriter, r *http.Request) {
		user := "alice" // from your session
		// Params refuses names that would widen the grant.
		p, err := policy.Params(tokenissuer.Identity{User: user})
		if err != nil {
			tokenissuer.WriteError(w, err)
			return
		}
		jwt, err := issuer.MintJWT(p)
		if err != nil {
			tokenissuer.WriteError(w, err)
			return
		}
		tokenissuer.JWTResponse(jwt.Token).Write(w) // or TokenDetailsResponse(jwt)
	})
	_ = mux // serve it behind TLS
}
