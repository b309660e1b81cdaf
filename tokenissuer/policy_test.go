package tokenissuer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/tokenissuer"
)

const chatPolicy = `{
  "capability": {"chat:{clientId}": ["publish", "subscribe", "presence"], "notifications": ["subscribe"]},
  "clientId": "{user}",
  "ttl": "1h"
}`

func mustPolicy(t testing.TB, s string) *tokenissuer.Policy {
	t.Helper()
	p, err := tokenissuer.ParsePolicy([]byte(s))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestParsePolicy(t *testing.T) {
	p := mustPolicy(t, `{
	  "capability": {"chat:{clientId}": ["publish"], "team:{group}:*": ["subscribe"], "lit{{eral}}": ["history"]},
	  "clientId": "{user}", "ttl": "90s", "format": "jwt",
	  "revocationKey": "{group}",
	  "channelClaims": {"chat:{clientId}": "owner", "team:{group}:*": "member-of-{group}"},
	  "rateLimits": {"chat:{clientId}": 2.5}
	}`)
	want := &tokenissuer.Policy{
		Capability:    tokenissuer.Capability{"chat:{clientId}": {"publish"}, "team:{group}:*": {"subscribe"}, "lit{{eral}}": {"history"}},
		ClientID:      "{user}",
		TTL:           90 * time.Second,
		Format:        tokenissuer.FormatJWT,
		RevocationKey: "{group}",
		ChannelClaims: map[string]string{"chat:{clientId}": "owner", "team:{group}:*": "member-of-{group}"},
		RateLimits:    map[string]float64{"chat:{clientId}": 2.5},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Fatalf("policy (-want +got):\n%s", diff)
	}
	got, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"group": "eng"}})
	if err != nil {
		t.Fatal(err)
	}
	wantParams := tokenissuer.TokenParams{
		TTL:           90 * time.Second,
		Capability:    tokenissuer.Capability{"chat:alice": {"publish"}, "team:eng:*": {"subscribe"}, "lit{eral}": {"history"}},
		ClientID:      "alice",
		RevocationKey: "eng",
		ChannelClaims: map[string]string{"chat:alice": "owner", "team:eng:*": "member-of-eng"},
		RateLimits:    map[string]float64{"chat:alice": 2.5},
	}
	if diff := cmp.Diff(wantParams, got); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
}

func TestParsePolicy_Invalid(t *testing.T) {
	tests := []struct{ name, policy, want string }{
		{"not JSON", `{`, "not a valid policy"},
		{"unknown field", `{"capability":{"a":["publish"]},"ttls":"1h"}`, "unknown field"},
		{"no capability", `{"clientId":"{user}"}`, "capability is required"},
		{"duplicate resource", `{"capability":{"a":["publish"],"a":["subscribe"]}}`, "given twice"},
		{"bad ttl", `{"capability":{"a":["publish"]},"ttl":"soon"}`, "not a duration"},
		{"ttl over 24h", `{"capability":{"a":["publish"]},"ttl":"25h"}`, "ttl"},
		{"negative ttl", `{"capability":{"a":["publish"]},"ttl":"-1s"}`, "ttl"},
		{"JWT ttl under a second", `{"capability":{"a":["publish"]},"ttl":"500ms"}`, "under a second"},
		{"unknown format", `{"capability":{"a":["publish"]},"format":"cookie"}`, "format"},
		{"JWT-only claims in a tokenRequest policy", `{"capability":{"a":["publish"]},"format":"tokenRequest","rateLimits":{"a":1}}`, "JWT-only"},
		{"{clientId} without clientId", `{"capability":{"chat:{clientId}":["publish"]}}`, "no clientId"},
		{"clientId using itself", `{"capability":{"a":["publish"]},"clientId":"{clientId}"}`, "may not use {clientId}"},
		{"lone closing brace", `{"capability":{"a}":["publish"]}}`, "lone '}'"},
		{"unclosed brace", `{"capability":{"a{user":["publish"]}}`, "unclosed"},
		{"empty placeholder", `{"capability":{"a{}":["publish"]}}`, "not a name"},
		{"placeholder with colon", `{"capability":{"{a:b}":["publish"]}}`, "not a name"},
		{"placeholder in ops", `{"capability":{"a":["{op}"]}}`, "operations may not hold placeholders"},
		{"bad op", `{"capability":{"a:{user}":["publish_"]}}`, "unknown operation"},
		{"bad resource after expansion", `{"capability":{"[foo]{user}":["publish"]}}`, "unknown qualifier"},
		{"wildcard clientId fills {clientId}", `{"capability":{"chat:{clientId}":["publish"]},"clientId":"*"}`, `"*"`},
		{"clientId literal with ':' fills {clientId}", `{"capability":{"chat:{clientId}":["publish"]},"clientId":"user:{user}"}`, `contains ":"`},
		{"bad rate", `{"capability":{"a":["publish"]},"rateLimits":{"a":0}}`, "rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokenissuer.ParsePolicy([]byte(tt.policy))
			if err == nil {
				t.Fatal("accepted")
			}
			if e := herald.AsError(err); e.Code != 40000 || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %v, want 40000 mentioning %q", err, tt.want)
			}
		})
	}
}

// unsafeUsers are identities that, pasted into "chat:{clientId}", would
// widen or change the grant, or are not identities at all.
var unsafeUsers = []struct{ user, why string }{
	{"bob:*", "bob:* would grant every channel under chat:bob"},
	{"*", "chat:* would grant every chat channel"},
	{"bob*", "refused with the other specials, though alone it is literal"},
	{"a:b", "an extra segment: chat:a:b is not the user's own channel"},
	{":", "chat:: is an empty segment"},
	{"[meta]log", "a qualifier in the middle is nonsense; at the start it changes the class"},
	{"x]", "a stray bracket"},
	{"a?rewind=1", "channel params syntax"},
	{"{user}", "template syntax"},
	{`a"b`, "could break out of a JSON channel claim"},
	{`a\b`, "could break out of a JSON channel claim"},
	{"", "empty"},
	{" bob", "leading space"},
	{"bob\t", "trailing control"},
	{"bob ", "trailing space"},
	{"a\nb", "line break"},
	{"a\x00b", "NUL"},
	{"a\xffb", "not UTF-8"},
	{strings.Repeat("u", 257), "too long"},
}

// TestPolicy_PlaceholderEscaping proves that a user cannot widen the
// grant through the characters of their identity: unsafe values are
// refused with 40300/403 and safe ones produce exactly chat:<user>.
func TestPolicy_PlaceholderEscaping(t *testing.T) {
	p := mustPolicy(t, chatPolicy)
	for _, u := range unsafeUsers {
		t.Run("refuses "+u.why, func(t *testing.T) {
			_, err := p.Params(tokenissuer.Identity{User: u.user})
			e := herald.AsError(err)
			if err == nil || e.Code != 40300 || e.StatusCode != 403 {
				t.Fatalf("user %q: err %v, want 40300/403", u.user, err)
			}
		})
	}
	for _, user := range []string{"alice", "alice@example.com", "bob.smith", "Zoë", "user-1_2", "a/b", "a b", "x<&>", "😀"} {
		t.Run("grants "+user, func(t *testing.T) {
			params, err := p.Params(tokenissuer.Identity{User: user})
			if err != nil {
				t.Fatal(err)
			}
			want := tokenissuer.Capability{"chat:" + user: {"publish", "subscribe", "presence"}, "notifications": {"subscribe"}}
			if diff := cmp.Diff(want, params.Capability); diff != "" || params.ClientID != user {
				t.Errorf("clientId %q, capability (-want +got):\n%s", params.ClientID, diff)
			}
			checkOwnChannelOnly(t, params, user)
		})
	}
}

// checkOwnChannelOnly mints the JWT for params and checks with Herald's
// matcher that it may publish on chat:<user> and nowhere else in chat.
func checkOwnChannelOnly(t *testing.T, params tokenissuer.TokenParams, user string) {
	t.Helper()
	i := newIssuer(t, tokenissuer.Config{})
	td, err := i.MintJWT(params)
	if err != nil {
		t.Fatalf("MintJWT: %v", err)
	}
	claims, err := auth.VerifyJWT(td.Token, []byte(refSecret), refNow, auth.JWTOptions{})
	if err != nil {
		t.Fatalf("VerifyJWT: %v", err)
	}
	c, err := auth.ParseCapability(claims.Capability)
	if err != nil {
		t.Fatalf("ParseCapability: %v", err)
	}
	if !c.Allows("chat:"+user, auth.OpPublish) {
		t.Errorf("cannot publish on its own channel chat:%s", user)
	}
	for _, other := range []string{"chat:" + user + ":x", "chat:someone-else", "chat", "chat:" + user + "x", "notifications"} {
		if c.Allows(other, auth.OpPublish) {
			t.Errorf("may publish on %s", other)
		}
	}
}

// FuzzPolicy_Params: whatever the user, Params either refuses it or gives
// a token that publishes on chat:<user> and on no other chat channel.
func FuzzPolicy_Params(f *testing.F) {
	for _, u := range unsafeUsers {
		f.Add(u.user)
	}
	f.Add("alice")
	f.Add("a.b-c_d@e")
	p := mustPolicy(f, chatPolicy)
	f.Fuzz(func(t *testing.T, user string) {
		params, err := p.Params(tokenissuer.Identity{User: user})
		if err != nil {
			if e := herald.AsError(err); e.StatusCode != 403 {
				t.Fatalf("user %q: %v", user, err)
			}
			return
		}
		checkOwnChannelOnly(t, params, user)
	})
}

func TestPolicy_Variables(t *testing.T) {
	p := mustPolicy(t, `{"capability":{"team:{group}":["subscribe"]},"revocationKey":"{group}"}`)
	if _, err := p.Params(tokenissuer.Identity{User: "alice"}); err == nil || herald.AsError(err).StatusCode != 403 {
		t.Errorf("missing {group}: %v", err)
	}
	if _, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"group": "eng:*"}}); err == nil {
		t.Error("unsafe {group} accepted")
	}
	if _, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"group": "g", "user": "mallory"}}); err == nil {
		t.Error("a Vars entry overriding {user} was accepted")
	}
	if _, err := p.Params(tokenissuer.Identity{}); err == nil {
		t.Error("empty user accepted")
	}
	got, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"group": "eng"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "" || got.RevocationKey != "eng" || len(got.Capability) != 1 {
		t.Errorf("params %+v", got)
	}
}

// TestPolicy_MergesCollidingResources: a templated resource that expands
// to a literal one gets the union, never a silently dropped grant.
func TestPolicy_MergesCollidingResources(t *testing.T) {
	p := mustPolicy(t, `{"capability":{"room:{user}":["subscribe"],"room:lobby":["publish"],"all:{user}":["history"],"all:x":["*"]},"rateLimits":{"r:{user}":5,"r:lobby":1}}`)
	got, err := p.Params(tokenissuer.Identity{User: "lobby"})
	if err != nil {
		t.Fatal(err)
	}
	want := tokenissuer.Capability{"room:lobby": {"publish", "subscribe"}, "all:lobby": {"history"}, "all:x": {"*"}}
	if diff := cmp.Diff(want, got.Capability); diff != "" {
		t.Errorf("capability (-want +got):\n%s", diff)
	}
	if got.RateLimits["r:lobby"] != 1 {
		t.Errorf("rate limits %v: want the stricter 1", got.RateLimits)
	}
}

// TestPolicy_JSONChannelClaim: a JSON claim value is written with doubled
// braces, and a placeholder value cannot break out of its string.
func TestPolicy_JSONChannelClaim(t *testing.T) {
	p := mustPolicy(t, `{"capability":{"chat:*":["subscribe"]},"channelClaims":{"chat:*":"{{\"role\":\"{role}\"}}"}}`)
	got, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"role": "moderator"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.ChannelClaims["chat:*"]; v != `{"role":"moderator"}` {
		t.Errorf("claim %s", v)
	}
	if _, err := p.Params(tokenissuer.Identity{User: "alice", Vars: map[string]string{"role": `x","admin":"true`}}); err == nil {
		t.Error("a quote in a placeholder value was accepted")
	}
}
