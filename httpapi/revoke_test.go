package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

type fakeRevoker struct{ calls [][]*herald.Revocation }

func (f *fakeRevoker) ApplyRevocations(app string, rules []*herald.Revocation) {
	f.calls = append(f.calls, rules)
}

func (e *env) revocableKey(t *testing.T, id string) *herald.Key {
	t.Helper()
	k := &herald.Key{AppID: "app1", ID: id, Secret: id + "secret", Capability: herald.DefaultCapability, RevocableTokens: true,
		Created: e.clock.t, Modified: e.clock.t}
	if err := e.store.CreateKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if err := e.cache.Invalidate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRevokeTokens(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	rk := e.revocableKey(t, "revo")
	path := "/keys/" + rk.KeyName() + "/revokeTokens"
	v6 := map[string]string{"X-Ably-Version": "6"}
	body := func(s string) []byte { return []byte(s) }

	checkError(t, e.do(t, req{method: "POST", path: path, key: e.root.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:a"]}`)}), 40133, 401)
	checkError(t, e.do(t, req{method: "POST", path: "/keys/" + e.root.KeyName() + "/revokeTokens", key: e.root.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:a"]}`)}), 40163, 401)
	tok := e.tokenFor(t, auth.TokenParams{})
	checkError(t, e.do(t, req{method: "POST", path: path, headers: bearer(tok), ctype: "application/json", body: body(`{"targets":["clientId:a"]}`)}), 40162, 401)
	checkError(t, e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", body: body(`{"targets":[]}`)}), 40001, 400)
	old := strconv.FormatInt(e.clock.t.Add(-2*time.Hour).UnixMilli(), 10)
	checkError(t, e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:a"],"issuedBefore":` + old + `}`)}), 40003, 400)
	future := strconv.FormatInt(e.clock.t.Add(time.Minute).UnixMilli(), 10)
	checkError(t, e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:a"],"issuedBefore":` + future + `}`)}), 40003, 400)

	// Mixed result, v3+ shape: 201 with per-target results.
	r := e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", headers: v6,
		body: body(`{"targets":["clientId:alice","invalidType:abc","channel:chat:*"],"allowReauthMargin":true}`)})
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 201 {
		t.Fatalf("status %d %s", r.StatusCode, b)
	}
	var res struct {
		SuccessCount, FailureCount int
		Results                    []struct {
			Target                  string
			IssuedBefore, AppliesAt int64
			Error                   *herald.Error
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	now := e.clock.t.UnixMilli()
	if res.SuccessCount != 1 || res.FailureCount != 2 || res.Results[0].IssuedBefore != now || res.Results[0].AppliesAt != now+30000 ||
		res.Results[1].Error.StatusCode != 400 || res.Results[1].Error.Code != 40000 || res.Results[2].Error.Code != 40121 {
		t.Fatalf("results %s", b)
	}
	// Persisted: the store has the rule.
	rules, err := e.store.Revocations(context.Background(), e.clock.t)
	if err != nil || len(rules) != 1 || rules[0].Value != "alice" || !rules[0].Expires.Equal(e.clock.t.Add(time.Hour)) {
		t.Fatalf("stored rules %+v %v", rules, err)
	}
	// Legacy shape: partial failure is 400 with 40020 and batchResponse.
	r = e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:bob","nope:x"]}`)})
	b, _ = io.ReadAll(r.Body)
	var legacy struct {
		Error         herald.Error
		BatchResponse []map[string]any
	}
	if r.StatusCode != 400 || json.Unmarshal(b, &legacy) != nil || legacy.Error.Code != 40020 || len(legacy.BatchResponse) != 2 {
		t.Fatalf("legacy partial failure %d %s", r.StatusCode, b)
	}
	r = e.do(t, req{method: "POST", path: path, key: rk.KeyString(), ctype: "application/json", body: body(`{"targets":["clientId:carol"]}`)})
	b, _ = io.ReadAll(r.Body)
	var ok []map[string]any
	if r.StatusCode != 201 || json.Unmarshal(b, &ok) != nil || len(ok) != 1 || ok[0]["target"] != "clientId:carol" {
		t.Fatalf("legacy success %d %s", r.StatusCode, b)
	}
}

func TestRevokeTokens_EnforcedOnREST(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	rk := e.revocableKey(t, "revo")
	ent, _ := e.cache.Lookup(context.Background(), rk.KeyName())
	a := auth.New(auth.Config{}, e.cache, e.store, e.clock)
	td, err := a.Issue(context.Background(), ent, auth.TokenParams{ClientID: "alice", HasClientID: true, TTL: time.Hour}, e.clock.t.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, req{path: "/stats", headers: bearer(td.Token)}); r.StatusCode != 200 {
		t.Fatalf("before revocation: %d", r.StatusCode)
	}
	r := e.do(t, req{method: "POST", path: "/keys/" + rk.KeyName() + "/revokeTokens", key: rk.KeyString(), ctype: "application/json",
		headers: map[string]string{"X-Ably-Version": "6"}, body: []byte(`{"targets":["clientId:alice"]}`)})
	if r.StatusCode != 201 {
		t.Fatalf("revoke %d", r.StatusCode)
	}
	checkError(t, e.do(t, req{path: "/stats", headers: bearer(td.Token)}), 40141, 401)
}
