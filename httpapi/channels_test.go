package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/httpapi"
	"github.com/vmihailenco/msgpack/v5"
)

// tokenFor issues a token from the env's root key for REST Bearer auth.
func (e *env) tokenFor(t *testing.T, p auth.TokenParams) string {
	t.Helper()
	ent, err := e.cache.Lookup(context.Background(), e.root.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Config{}, e.cache, e.store, e.clock)
	td, err := a.Issue(context.Background(), ent, p, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return td.Token
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

type histMsg struct {
	ID       string         `json:"id" msgpack:"id"`
	Name     string         `json:"name" msgpack:"name"`
	ClientID string         `json:"clientId" msgpack:"clientId"`
	Data     any            `json:"data" msgpack:"data"`
	Encoding string         `json:"encoding" msgpack:"encoding"`
	Serial   string         `json:"serial" msgpack:"serial"`
	Extras   map[string]any `json:"extras" msgpack:"extras"`
}

func TestChannels_PublishHistoryPagination(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	for i := 0; i < 7; i++ {
		body := `{"name":"m` + itoa(i) + `","data":"d"}`
		r := e.do(t, req{method: "POST", path: "/channels/room/messages", key: e.root.KeyString(), ctype: "application/json", body: []byte(body)})
		if r.StatusCode != 201 {
			b, _ := io.ReadAll(r.Body)
			t.Fatalf("publish %d: %d %s", i, r.StatusCode, b)
		}
		var res struct {
			Serials []string `json:"serials"`
		}
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil || len(res.Serials) != 1 {
			t.Fatalf("publish result %v %v", res, err)
		}
	}
	for _, dir := range []string{"backwards", "forwards"} {
		var names []string
		path := "/channels/room/messages?limit=3&direction=" + dir
		for page := 0; page < 5 && path != ""; page++ {
			r := e.do(t, req{path: path, key: e.root.KeyString()})
			var got []histMsg
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			for _, m := range got {
				names = append(names, m.Name)
			}
			next := between(r.Header.Get("Link"), "<./messages?", `>; rel="next"`)
			path = ""
			if next != "" {
				path = "/channels/room/messages?" + next
			}
		}
		want := "m6 m5 m4 m3 m2 m1 m0"
		if dir == "forwards" {
			want = "m0 m1 m2 m3 m4 m5 m6"
		}
		if strings.Join(names, " ") != want {
			t.Errorf("%s: %v", dir, names)
		}
	}
}

func TestChannels_IdentityAndDenials(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	alice := e.tokenFor(t, auth.TokenParams{ClientID: "alice", HasClientID: true})
	r := e.do(t, req{method: "POST", path: "/channels/c1/messages", headers: bearer(alice), ctype: "application/json", body: []byte(`[{"name":"a"},{"name":"b","clientId":"alice"}]`)})
	if r.StatusCode != 201 {
		t.Fatalf("publish as alice: %d", r.StatusCode)
	}
	checkError(t, e.do(t, req{method: "POST", path: "/channels/c1/messages", headers: bearer(alice), ctype: "application/json", body: []byte(`{"name":"c","clientId":"bob"}`)}), 40012, 400)
	r = e.do(t, req{path: "/channels/c1/messages", key: e.root.KeyString()})
	var got []histMsg
	json.NewDecoder(r.Body).Decode(&got)
	if len(got) != 2 || got[0].ClientID != "alice" || got[1].ClientID != "alice" {
		t.Fatalf("history after mismatch: %+v", got)
	}
	subOnly := e.tokenFor(t, auth.TokenParams{Capability: `{"*":["subscribe"]}`})
	pubOnly := e.tokenFor(t, auth.TokenParams{Capability: `{"*":["publish"]}`})
	for _, tc := range []struct {
		name string
		r    req
	}{
		{"publish", req{method: "POST", path: "/channels/c1/messages", headers: bearer(subOnly), ctype: "application/json", body: []byte(`{"name":"x"}`)}},
		{"history", req{path: "/channels/c1/messages", headers: bearer(pubOnly)}},
		{"presence", req{path: "/channels/c1/presence", headers: bearer(pubOnly)}},
		{"presence history", req{path: "/channels/c1/presence/history", headers: bearer(pubOnly)}},
		{"status", req{path: "/channels/c1", headers: bearer(subOnly)}},
		{"enumeration", req{path: "/channels", headers: bearer(subOnly)}},
		{"privileged extras", req{method: "POST", path: "/channels/c1/messages", headers: bearer(pubOnly), ctype: "application/json", body: []byte(`{"name":"x","extras":{"privileged":{}}}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := checkError(t, e.do(t, tc.r), 40160, 401)
			if !strings.Contains(ae.Error.Message, "denied") {
				t.Errorf("message does not explain: %q", ae.Error.Message)
			}
		})
	}
}

func TestChannels_BinaryAcrossFormats(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	raw := []byte{0xde, 0xad, 0xbe, 0xef}
	body, _ := msgpack.Marshal(map[string]any{"name": "bin", "data": raw})
	r := e.do(t, req{method: "POST", path: "/channels/b/messages", key: e.root.KeyString(), ctype: "application/x-msgpack", accept: "application/x-msgpack", body: body})
	if r.StatusCode != 201 {
		t.Fatalf("msgpack publish %d", r.StatusCode)
	}
	r = e.do(t, req{method: "POST", path: "/channels/b/messages", key: e.root.KeyString(), ctype: "application/json", body: []byte(`{"name":"b64","data":"3q2+7w==","encoding":"base64"}`)})
	if r.StatusCode != 201 {
		t.Fatalf("json publish %d", r.StatusCode)
	}
	r = e.do(t, req{path: "/channels/b/messages?direction=forwards", key: e.root.KeyString()})
	var js []histMsg
	json.NewDecoder(r.Body).Decode(&js)
	for _, m := range js {
		if m.Data != "3q2+7w==" || m.Encoding != "base64" {
			t.Errorf("JSON reader sees %+v", m)
		}
	}
	r = e.do(t, req{path: "/channels/b/messages?direction=forwards", key: e.root.KeyString(), accept: "application/x-msgpack"})
	b, _ := io.ReadAll(r.Body)
	var mp []histMsg
	if err := msgpack.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	for _, m := range mp {
		if d, ok := m.Data.([]byte); !ok || !bytes.Equal(d, raw) || m.Encoding != "" {
			t.Errorf("msgpack reader sees %#v", m)
		}
	}
}

func TestChannels_BatchAndPresence(t *testing.T) {
	e := newEnv(t, opts{insecure: true, cfg: httpapi.Config{Provisioning: true}})
	tok := e.tokenFor(t, auth.TokenParams{Capability: `{"ok":["publish","subscribe"],"ok2":["subscribe"]}`})
	r := e.do(t, req{method: "POST", path: "/messages", headers: bearer(tok), ctype: "application/json",
		body: []byte(`[{"channels":["ok","denied"],"messages":[{"name":"x","data":"y"}]}]`)})
	if r.StatusCode != 201 {
		t.Fatalf("batch %d", r.StatusCode)
	}
	var res []struct {
		SuccessCount, FailureCount int
		Results                    []struct {
			Channel string
			Error   *herald.Error
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&res); err != nil || len(res) != 1 || res[0].SuccessCount != 1 || res[0].FailureCount != 1 ||
		res[0].Results[1].Error == nil || res[0].Results[1].Error.Code != 40160 {
		t.Fatalf("batch result %+v %v", res, err)
	}
	// Provisioned presence fixtures appear in presence.get and batch presence.
	resp := e.do(t, req{method: "POST", path: "/apps", ctype: "application/json", body: []byte(setupBody)})
	var p provisioned
	json.NewDecoder(resp.Body).Decode(&p)
	r = e.do(t, req{path: "/channels/persisted:presence_fixtures/presence", key: p.Keys[0].KeyStr})
	var members []map[string]any
	json.NewDecoder(r.Body).Decode(&members)
	if len(members) != 2 || members[0]["clientId"] != "client_bool" || members[0]["action"] != float64(1) {
		t.Fatalf("fixtures %v", members)
	}
	r = e.do(t, req{path: "/presence?channels=persisted:presence_fixtures,x", key: p.Keys[0].KeyStr})
	var bp struct {
		SuccessCount int `json:"successCount"`
		Results      []struct {
			Channel  string           `json:"channel"`
			Presence []map[string]any `json:"presence"`
		} `json:"results"`
	}
	if err := json.NewDecoder(r.Body).Decode(&bp); err != nil || bp.SuccessCount != 2 || len(bp.Results[0].Presence) != 2 {
		t.Fatalf("batch presence %+v %v", bp, err)
	}
}

func TestChannels_HistoryRetention(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	r := e.do(t, req{method: "POST", path: "/channels/old/messages", key: e.root.KeyString(), ctype: "application/json", body: []byte(`{"name":"x"}`)})
	if r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	if err := e.hub.FlushHistory(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.t = e.clock.t.Add(3 * time.Minute)
	e.hub.Sweep(context.Background())
	r = e.do(t, req{path: "/channels/old/messages", key: e.root.KeyString()})
	var got []histMsg
	json.NewDecoder(r.Body).Decode(&got)
	if len(got) != 0 {
		t.Fatalf("history older than the 2 min retention survived the sweep: %+v", got)
	}
}
