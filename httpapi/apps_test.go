package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/heraldrt/herald/httpapi"
	"github.com/vmihailenco/msgpack/v5"
)

const setupBody = `{
 "limits":{"presence":{"maxMembers":250}},
 "keys":[
  {},
  {"capability":"{\"cansubscribe:*\":[\"subscribe\"],\"canpublish:*\":[\"publish\"]}"},
  {"capability":"{\"channel0\":[\"publish\",\"subscribe\",\"push-subscribe\"]}"},
  {"capability":{"*":["subscribe"]}},
  {"revocableTokens":true},
  {"capability":"{\"[*]*\":[\"*\"]}"}
 ],
 "namespaces":[{"id":"persisted","persisted":true},{"id":"pushenabled","pushEnabled":true},{"id":"mutable","mutableMessages":true}],
 "channels":[{"name":"persisted:presence_fixtures","presence":[{"clientId":"client_bool","data":"true"},{"clientId":"client_int","data":"24"}]}]
}`

type provisioned struct {
	AppID     string `json:"appId" msgpack:"appId"`
	AccountID string `json:"accountId" msgpack:"accountId"`
	Keys      []struct {
		ID              string `json:"id" msgpack:"id"`
		Value           string `json:"value" msgpack:"value"`
		KeyName         string `json:"keyName" msgpack:"keyName"`
		KeySecret       string `json:"keySecret" msgpack:"keySecret"`
		KeyStr          string `json:"keyStr" msgpack:"keyStr"`
		Capability      string `json:"capability" msgpack:"capability"`
		RevocableTokens bool   `json:"revocableTokens" msgpack:"revocableTokens"`
	} `json:"keys" msgpack:"keys"`
	Namespaces []any  `json:"namespaces" msgpack:"namespaces"`
	Channels   []any  `json:"channels" msgpack:"channels"`
	Endpoint   string `json:"endpoint" msgpack:"endpoint"`
	Port       int    `json:"port" msgpack:"port"`
	TLS        bool   `json:"tls" msgpack:"tls"`
}

func TestPostApps_HappyPath(t *testing.T) {
	e := newEnv(t, opts{cfg: httpapi.Config{Provisioning: true}, insecure: true})
	resp := e.do(t, req{method: "POST", path: "/apps", ctype: "application/json", accept: "application/json", body: []byte(setupBody)})
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var p provisioned
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.AppID) < 6 || p.AccountID != "acct1" || len(p.Keys) != 6 || len(p.Namespaces) != 3 || len(p.Channels) != 1 {
		t.Fatalf("shape %+v", p)
	}
	wantCaps := []string{
		`{"*":["*"]}`,
		`{"cansubscribe:*":["subscribe"],"canpublish:*":["publish"]}`,
		// Kept byte for byte, op order included (blanket-token tests compare it).
		`{"channel0":["publish","subscribe","push-subscribe"]}`,
		`{"*":["subscribe"]}`,
		`{"*":["*"]}`,
		`{"[*]*":["*"]}`,
	}
	for i, k := range p.Keys {
		if k.KeyName != p.AppID+"."+k.ID || k.KeyStr != k.KeyName+":"+k.KeySecret || k.Value != k.KeySecret || len(k.KeySecret) < 32 {
			t.Errorf("key %d: %+v", i, k)
		}
		if k.Capability != wantCaps[i] {
			t.Errorf("key %d capability %q, want %q", i, k.Capability, wantCaps[i])
		}
		if k.RevocableTokens != (i == 4) {
			t.Errorf("key %d revocableTokens %v", i, k.RevocableTokens)
		}
	}
	if p.Endpoint != "127.0.0.1" || p.Port == 0 || p.TLS {
		t.Errorf("endpoint %q port %d tls %v", p.Endpoint, p.Port, p.TLS)
	}
	// The keys work at once (the key cache was invalidated).
	if r := e.do(t, req{path: "/stats", key: p.Keys[0].KeyStr}); r.StatusCode != 200 {
		t.Errorf("new key refused: %d", r.StatusCode)
	}
	ns, err := e.store.Namespaces(context.Background(), p.AppID)
	if err != nil || len(ns) != 3 || !ns[0].Persisted || ns[0].ID != "persisted" || !ns[1].PushEnabled || !ns[2].MutableMessages {
		t.Errorf("namespaces %+v %v", ns, err)
	}
	fx, err := e.store.ChannelFixtures(context.Background(), p.AppID)
	if err != nil || len(fx) != 1 || fx[0].Name != "persisted:presence_fixtures" || !strings.Contains(string(fx[0].Raw), "client_int") {
		t.Errorf("fixtures %+v %v", fx, err)
	}

	// DELETE needs Basic auth of one of the app's own keys.
	checkError(t, e.do(t, req{method: "DELETE", path: "/apps/" + p.AppID, key: e.root.KeyString()}), 40300, 403)
	checkError(t, e.do(t, req{method: "DELETE", path: "/apps/" + p.AppID}), 40101, 401)
	if r := e.do(t, req{method: "DELETE", path: "/apps/" + p.AppID, key: p.Keys[0].KeyStr}); r.StatusCode != 204 {
		t.Fatalf("delete status %d", r.StatusCode)
	}
	checkError(t, e.do(t, req{path: "/stats", key: p.Keys[0].KeyStr}), 40400, 401)
}

func TestPostApps_Msgpack(t *testing.T) {
	e := newEnv(t, opts{cfg: httpapi.Config{Provisioning: true}})
	var body map[string]any
	if err := json.Unmarshal([]byte(setupBody), &body); err != nil {
		t.Fatal(err)
	}
	mp, err := msgpack.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp := e.do(t, req{method: "POST", path: "/apps", ctype: "application/x-msgpack", accept: "application/x-msgpack", body: mp})
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "application/x-msgpack" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var p provisioned
	if err := msgpack.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Keys) != 6 || p.Keys[2].Capability != `{"channel0":["publish","subscribe","push-subscribe"]}` {
		t.Errorf("msgpack provisioning %+v", p)
	}
}

func TestPostApps_BadBodies(t *testing.T) {
	cases := []struct {
		name, body, field string
		code              int
	}{
		{"not json", `{"keys":`, "", 40001},
		{"not an object", `[1,2]`, "", 40001},
		{"empty", ``, "", 40001},
		{"keys not array", `{"keys":{}}`, "keys", 40001},
		{"unknown op", `{"keys":[{},{"capability":"{\"x\":[\"publish_\"]}"}]}`, "keys[1].capability", 40000},
		{"capability not json", `{"keys":[{"capability":"{nope"}]}`, "keys[0].capability", 40000},
		{"capability number", `{"keys":[{"capability":5}]}`, "keys[0].capability", 40000},
		{"star mixed", `{"keys":[{"capability":"{\"x\":[\"*\",\"publish\"]}"}]}`, "keys[0].capability", 40000},
		{"empty ops", `{"keys":[{"capability":"{\"x\":[]}"}]}`, "keys[0].capability", 40000},
		{"revocable not bool", `{"keys":[{"revocableTokens":"yes"}]}`, "revocableTokens", 40001},
		{"namespace without id", `{"namespaces":[{"persisted":true}]}`, "namespaces[0].id", 40000},
		{"namespace bad id", `{"namespaces":[{"id":"a:b"}]}`, "namespaces[0].id", 40000},
		{"namespace duplicate", `{"namespaces":[{"id":"a"},{"id":"a"}]}`, "namespaces[1].id", 40000},
		{"namespace not object", `{"namespaces":["a"]}`, "namespaces[0]", 40000},
		{"channel bad name", `{"channels":[{"name":":x"}]}`, "channels[0].name", 40000},
		{"channel duplicate", `{"channels":[{"name":"a"},{"name":"a"}]}`, "channels[1].name", 40000},
		{"presence without clientId", `{"channels":[{"name":"a","presence":[{"data":"x"}]}]}`, "channels[0].presence[0]", 40000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, opts{cfg: httpapi.Config{Provisioning: true}})
			before, _ := e.store.Apps(context.Background())
			ae := checkError(t, e.do(t, req{method: "POST", path: "/apps", ctype: "application/json", body: []byte(tc.body)}), tc.code, 400)
			if tc.field != "" && !strings.Contains(ae.Error.Message, tc.field) {
				t.Errorf("message %q does not name %q", ae.Error.Message, tc.field)
			}
			after, _ := e.store.Apps(context.Background())
			if len(after) != len(before) {
				t.Errorf("a failed provisioning left %d apps behind", len(after)-len(before))
			}
		})
	}
}

func TestPostApps_Gates(t *testing.T) {
	off := newEnv(t, opts{})
	checkError(t, off.do(t, req{method: "POST", path: "/apps", body: []byte(`{}`)}), 40400, 404)

	tok := newEnv(t, opts{cfg: httpapi.Config{Provisioning: true, ProvisioningToken: "s3cret-token"}})
	checkError(t, tok.do(t, req{method: "POST", path: "/apps", body: []byte(`{}`)}), 40100, 401)
	checkError(t, tok.do(t, req{method: "POST", path: "/apps", body: []byte(`{}`), headers: map[string]string{"Authorization": "Bearer wrong"}}), 40100, 401)
	r := tok.do(t, req{method: "POST", path: "/apps", body: []byte(`{}`), headers: map[string]string{"Authorization": "Bearer s3cret-token"}})
	if r.StatusCode != 201 {
		t.Fatalf("with token: %d", r.StatusCode)
	}
	var p provisioned
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Keys) != 1 || p.Keys[0].Capability != `{"*":["*"]}` {
		t.Fatalf("empty body gets one default key: %+v %v", p, err)
	}
	// Deleting with the provisioning token also works.
	if r := tok.do(t, req{method: "DELETE", path: "/apps/" + p.AppID, headers: map[string]string{"Authorization": "Bearer s3cret-token"}}); r.StatusCode != 204 {
		t.Fatalf("delete with token: %d", r.StatusCode)
	}
	checkError(t, tok.do(t, req{method: "DELETE", path: "/apps/" + p.AppID, headers: map[string]string{"Authorization": "Bearer s3cret-token"}}), 40400, 404)
	_ = base64.StdEncoding
}
