package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/httpapi"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/sqlitestore"
	"github.com/heraldrt/herald/stats"
	"github.com/vmihailenco/msgpack/v5"
)

type env struct {
	srv   *httptest.Server
	store *sqlitestore.DB
	cache *auth.KeyCache
	rec   *stats.Recorder
	hub   *hub.Hub
	root  *herald.Key
	subs  *herald.Key
	clock *fakeClock
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

type opts struct {
	cfg      httpapi.Config
	insecure bool
	audit    httpapi.Auditor
}

func newEnv(t *testing.T, o opts) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{t: time.Date(2026, 11, 28, 12, 30, 15, 0, time.UTC)}
	e := &env{store: db, clock: clock}
	app := &herald.App{ID: "app1", Name: "a", Status: herald.AppEnabled, Created: clock.t, Modified: clock.t}
	e.root = &herald.Key{AppID: "app1", ID: "root", Secret: "rootsecret", Capability: herald.DefaultCapability, Created: clock.t, Modified: clock.t}
	e.subs = &herald.Key{AppID: "app1", ID: "subs", Secret: "subssecret", Capability: `{"*":["subscribe"]}`, Created: clock.t, Modified: clock.t}
	if err := db.Provision(ctx, &herald.Provisioning{App: app, Keys: []*herald.Key{e.root, e.subs}}); err != nil {
		t.Fatal(err)
	}
	e.cache = auth.NewKeyCache(db, auth.KeyCacheConfig{})
	if err := e.cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Config{AllowInsecureBasic: o.insecure}, e.cache, db, clock)
	e.rec = stats.New(stats.Config{FlushInterval: time.Hour}, db, clock)
	o.cfg.AccountID = "acct1"
	e.hub = hub.New(hub.Config{}, clock, e.rec, db)
	e.hub.Start()
	t.Cleanup(func() { e.hub.Close(context.Background()) })
	h := httpapi.New(o.cfg, httpapi.Deps{Store: db, Auth: a, Hub: e.hub, Stats: e.rec, Clock: clock, Audit: o.audit})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

type req struct {
	method, path string
	key          string // Basic auth key string
	accept       string
	ctype        string
	body         []byte
	headers      map[string]string
}

func (e *env) do(t *testing.T, r req) *http.Response {
	t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.key)))
	}
	if r.accept != "" {
		hr.Header.Set("Accept", r.accept)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type ablyErr struct {
	Error struct {
		Code       int    `json:"code" msgpack:"code"`
		StatusCode int    `json:"statusCode" msgpack:"statusCode"`
		Message    string `json:"message" msgpack:"message"`
		Href       string `json:"href" msgpack:"href"`
	} `json:"error" msgpack:"error"`
}

// checkError asserts the whole Ably error contract: HTTP status, body shape,
// exact Content-Type and the X-Ably-Errorcode header.
func checkError(t *testing.T, resp *http.Response, code, status int) ablyErr {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e ablyErr
	switch ct := resp.Header.Get("Content-Type"); ct {
	case "application/json":
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("error body is not JSON: %s", body)
		}
	case "application/x-msgpack":
		if err := msgpack.Unmarshal(body, &e); err != nil {
			t.Fatalf("error body is not msgpack: %x", body)
		}
	default:
		t.Fatalf("Content-Type %q must be exactly application/json or application/x-msgpack", ct)
	}
	if e.Error.Code != code || e.Error.StatusCode != status || e.Error.Message == "" || !strings.HasSuffix(e.Error.Href, "/"+itoa(code)) {
		t.Fatalf("error body %+v, want code %d status %d", e.Error, code, status)
	}
	if resp.Header.Get("X-Ably-Errorcode") != itoa(code) || resp.Header.Get("X-Ably-Errormessage") == "" {
		t.Errorf("X-Ably-Errorcode/-Errormessage headers missing: %v", resp.Header)
	}
	return e
}

func itoa(n int) string { return jsonNum(n) }

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTime_ContentNegotiation(t *testing.T) {
	e := newEnv(t, opts{})
	want := e.clock.t.UnixMilli()
	resp := e.do(t, req{path: "/time"})
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	var js []int64
	if err := json.NewDecoder(resp.Body).Decode(&js); err != nil || len(js) != 1 || js[0] != want {
		t.Fatalf("json time %v %v", js, err)
	}
	resp = e.do(t, req{path: "/time", accept: "application/x-msgpack"})
	if resp.Header.Get("Content-Type") != "application/x-msgpack" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	var mp []int64
	b, _ := io.ReadAll(resp.Body)
	if err := msgpack.Unmarshal(b, &mp); err != nil || len(mp) != 1 || mp[0] != want {
		t.Fatalf("msgpack time %v %v", mp, err)
	}
	// Preference order within Accept decides.
	resp = e.do(t, req{path: "/time", accept: "application/json, application/x-msgpack"})
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("json listed first must win, got %q", resp.Header.Get("Content-Type"))
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t, opts{})
	checkError(t, e.do(t, req{path: "/nope"}), 40400, 404)
	checkError(t, e.do(t, req{path: "/nope", accept: "application/x-msgpack"}), 40400, 404)
	checkError(t, e.do(t, req{method: "POST", path: "/time"}), 40500, 405)
	resp := e.do(t, req{path: "/healthz"})
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
}

func TestStats_AuthErrors(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	cases := []struct {
		name         string
		r            req
		code, status int
	}{
		{"no credentials", req{path: "/stats"}, 40101, 401},
		{"wrong secret", req{path: "/stats", key: "app1.root:wrong"}, 40101, 401},
		{"unknown key", req{path: "/stats", key: "app1.zzz:wrong"}, 40400, 401},
		{"malformed key", req{path: "/stats", key: "nodot:x"}, 40005, 400},
		{"no stats capability", req{path: "/stats", key: e.subs.KeyString()}, 40160, 401},
		{"msgpack error body", req{path: "/stats", key: "app1.root:wrong", accept: "application/x-msgpack"}, 40101, 401},
		{"bad unit", req{path: "/stats?unit=week", key: e.root.KeyString()}, 40003, 400},
		{"bad limit", req{path: "/stats?limit=0", key: e.root.KeyString()}, 40003, 400},
		{"bad direction", req{path: "/stats?direction=up", key: e.root.KeyString()}, 40003, 400},
		{"end before start", req{path: "/stats?start=10&end=5", key: e.root.KeyString()}, 40003, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, e.do(t, tc.r), tc.code, tc.status)
		})
	}
}

func TestBasicAuth_TLSRule(t *testing.T) {
	loop := netip.MustParsePrefix("127.0.0.0/8")
	e := newEnv(t, opts{cfg: httpapi.Config{TrustedProxies: []netip.Prefix{loop}}})
	checkError(t, e.do(t, req{path: "/stats", key: e.root.KeyString()}), 40103, 401)
	// Through a trusted proxy that terminated TLS.
	resp := e.do(t, req{path: "/stats", key: e.root.KeyString(), headers: map[string]string{"X-Forwarded-Proto": "https"}})
	if resp.StatusCode != 200 {
		t.Fatalf("trusted proxy https: %d", resp.StatusCode)
	}
	// The same header from an untrusted peer is ignored.
	e2 := newEnv(t, opts{})
	checkError(t, e2.do(t, req{path: "/stats", key: e2.root.KeyString(), headers: map[string]string{"X-Forwarded-Proto": "https"}}), 40103, 401)
	if httpapi.IsTrustedHTTPS(&http.Request{RemoteAddr: "10.0.0.1:5", Header: http.Header{"X-Forwarded-Proto": {"https"}}}, []netip.Prefix{loop}) {
		t.Error("peer outside the trusted prefixes must not be trusted")
	}
}

func TestStats_CountsAndPaginates(t *testing.T) {
	e := newEnv(t, opts{insecure: true})
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if err := e.store.AddStats(ctx, "app1", base.Add(time.Duration(i)*time.Minute), map[string]int64{stats.APIRequestsSucceeded: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string, version string) ([]map[string]any, string) {
		resp := e.do(t, req{path: path, key: e.root.KeyString(), headers: map[string]string{"X-Ably-Version": version}})
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		var out []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out, resp.Header.Get("Link")
	}
	end := base.Add(4 * time.Minute).UnixMilli()
	page, links := get("/stats?end="+jsonNum(int(end))+"&limit=2", "6")
	if len(page) != 2 || page[0]["intervalId"] != "2026-11-28:12:04" || page[1]["intervalId"] != "2026-11-28:12:03" {
		t.Fatalf("first page %v", page)
	}
	if page[0]["unit"] != "minute" || page[0]["appId"] != "app1" || page[0]["schema"] == nil {
		t.Errorf("flattened shape %v", page[0])
	}
	if got := page[0]["entries"].(map[string]any)[stats.APIRequestsSucceeded]; got != float64(5) {
		t.Errorf("entries %v", page[0]["entries"])
	}
	if !strings.Contains(links, `rel="next"`) || !strings.Contains(links, `rel="first"`) || !strings.Contains(links, `rel="current"`) {
		t.Fatalf("links %q", links)
	}
	// Follow next links the way ably-js does: same path, the link's query.
	var ids []string
	for _, p := range page {
		ids = append(ids, p["intervalId"].(string))
	}
	for i := 0; strings.Contains(links, `rel="next"`) && i < 10; i++ {
		next := between(links, `<./stats?`, `>; rel="next"`)
		page, links = get("/stats?"+next, "6")
		if first := between(links, `<./stats?`, `>; rel="first"`); first != "end="+jsonNum(int(end))+"&limit=2" {
			t.Errorf("a later page's first link %q is not the first page", first)
		}
		for _, p := range page {
			ids = append(ids, p["intervalId"].(string))
		}
	}
	want := "2026-11-28:12:04 2026-11-28:12:03 2026-11-28:12:02 2026-11-28:12:01 2026-11-28:12:00"
	if strings.Join(ids, " ") != want {
		t.Errorf("paged ids %v", ids)
	}
	// Forwards, hour unit aggregates the minutes.
	hour, _ := get("/stats?unit=hour&direction=forwards&end="+jsonNum(int(end)), "6")
	if len(hour) != 1 || hour[0]["intervalId"] != "2026-11-28:12" || hour[0]["entries"].(map[string]any)[stats.APIRequestsSucceeded] != float64(15) {
		t.Errorf("hour %v", hour)
	}
	// ably-go asks with X-Ably-Version 2 and gets the nested shape.
	legacy, _ := get("/stats?limit=1&end="+jsonNum(int(end)), "2")
	if ar, ok := legacy[0]["apiRequests"].(map[string]any); !ok || ar["succeeded"] != float64(5) {
		t.Errorf("legacy %v", legacy)
	}
	// The requests above were counted for app1 in the clock's minute.
	if err := e.rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := e.store.Stats(ctx, herald.StatsQuery{AppID: "app1", Start: e.clock.t.Truncate(time.Minute)})
	if err != nil || len(recs) != 1 || recs[0].Entries[stats.APIRequestsSucceeded] < 5 {
		t.Errorf("request counters %+v %v", recs, err)
	}
}

func between(s, a, b string) string {
	for _, part := range strings.Split(s, ", ") {
		if strings.HasPrefix(part, a) && strings.HasSuffix(part, b) {
			return part[len(a) : len(part)-len(b)]
		}
	}
	return ""
}
