package controlapi_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

type auditJSON struct {
	ID      int64           `json:"id"`
	Time    int64           `json:"time"`
	AppID   string          `json:"appId"`
	Kind    string          `json:"kind"`
	Actor   string          `json:"actor"`
	Target  string          `json:"target"`
	Code    int             `json:"code"`
	Address string          `json:"address"`
	Count   int             `json:"count"`
	Details json.RawMessage `json:"details"`
}

func kinds(es []auditJSON) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

// TestAudit_Changes makes one of each change through the API and reads the
// app's audit log back: newest first, one entry per change, with who, what
// and when, and no secret anywhere.
func TestAudit_Changes(t *testing.T) {
	e := newEnv(t)
	step := func() { e.clock.Add(time.Second) }
	var k keyJSON
	e.ok(t, "POST", "/v1/apps/app1/keys", map[string]any{"name": "k", "capability": map[string][]string{"*": {"publish"}}}, 201, &k)
	step()
	e.ok(t, "PATCH", "/v1/apps/app1/keys/"+k.ID, map[string]any{"name": "renamed"}, 200, nil)
	step()
	var rotated keyJSON
	e.ok(t, "POST", "/v1/apps/app1/keys/"+k.ID+"/rotate", nil, 200, &rotated)
	step()
	e.ok(t, "POST", "/v1/apps/app1/keys/"+k.ID+"/revoke", nil, 200, nil)
	step()
	e.ok(t, "PATCH", "/v1/apps/app1", map[string]any{"tlsOnly": true}, 200, nil)

	resp, body := e.do(t, "GET", "/v1/apps/app1/audit", e.all, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	for _, secret := range []string{e.root.Secret, strings.SplitN(k.Key, ":", 2)[1], strings.SplitN(rotated.Key, ":", 2)[1], e.all} {
		if strings.Contains(string(body), secret) {
			t.Fatalf("the audit log shows a secret: %s", body)
		}
	}
	var got []auditJSON
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"app.update", "key.revoke", "key.rotate", "key.update", "key.create"}
	if strings.Join(kinds(got), " ") != strings.Join(want, " ") {
		t.Fatalf("kinds %v, want %v", kinds(got), want)
	}
	id, _, _ := strings.Cut(e.all, ".")
	for i, a := range got {
		wantTime := e.clock.Now().Add(-time.Duration(i) * time.Second).UnixMilli()
		if a.AppID != "app1" || a.Actor != "accessToken:"+id || a.Count != 1 || a.Time != wantTime || !strings.HasPrefix(a.Address, "127.0.0.1") {
			t.Errorf("entry %d: %+v", i, a)
		}
		if i > 0 && a.ID >= got[i-1].ID {
			t.Errorf("entry %d: ids not decreasing", i)
		}
	}
	if got[1].Target != "app1."+k.ID || string(got[3].Details) != `{"changed":["name"]}` {
		t.Errorf("targets/details: %+v %s", got[1], got[3].Details)
	}
}

func TestAudit_Query(t *testing.T) {
	e := newEnv(t)
	base := e.clock.Now()
	var es []*herald.AuditEntry
	for i, kind := range []herald.AuditKind{herald.AuditKeyCreate, herald.AuditTokenIssue, herald.AuditAuthFailure,
		herald.AuditKeyRotate, herald.AuditTokensRevoke} {
		es = append(es, &herald.AuditEntry{Time: base.Add(time.Duration(i) * time.Minute), AppID: "app1", Kind: kind, Target: "app1.root", Count: i + 1})
	}
	es = append(es,
		&herald.AuditEntry{Time: base, AppID: "", Kind: herald.AuditAccessTokenCreate, Actor: "cli", Target: "atXXXXXXXX"},
		&herald.AuditEntry{Time: base, AppID: "other", Kind: herald.AuditKeyCreate, Target: "other.k"})
	if err := e.store.AppendAudit(t.Context(), es...); err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, path string) ([]auditJSON, string) {
		t.Helper()
		var out []auditJSON
		h := e.ok(t, "GET", path, nil, 200, &out)
		return out, h.Get("Link")
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(base.Add(d).UnixMilli(), 10) }
	tests := []struct {
		name, path string
		want       []string
	}{
		{"app", "/v1/apps/app1/audit", []string{"tokens.revoke", "key.rotate", "auth.failure", "token.issue", "key.create"}},
		{"kinds, repeated and comma-separated", "/v1/apps/app1/audit?kind=key.create,key.rotate&kind=auth.failure",
			[]string{"key.rotate", "auth.failure", "key.create"}},
		{"time window", "/v1/apps/app1/audit?start=" + ms(time.Minute) + "&end=" + ms(3*time.Minute),
			[]string{"key.rotate", "auth.failure", "token.issue"}},
		{"account: every app and account-level entries", "/v1/accounts/acct1/audit?kind=key.create,accessToken.create",
			[]string{"key.create", "accessToken.create", "key.create"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := list(t, tt.path)
			if strings.Join(kinds(got), " ") != strings.Join(tt.want, " ") {
				t.Errorf("kinds %v, want %v", kinds(got), tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var all []string
		path := "/v1/apps/app1/audit?limit=2&kind=key.create,token.issue,auth.failure,key.rotate,tokens.revoke"
		for pages := 0; path != ""; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			got, link := list(t, path)
			all = append(all, kinds(got)...)
			path = ""
			if link != "" {
				u, rest, ok := strings.Cut(strings.TrimPrefix(link, "<"), ">")
				if !ok || rest != `; rel="next"` {
					t.Fatalf("Link %q", link)
				}
				pu, _ := url.Parse(u)
				if pu.Query().Get("limit") != "2" || pu.Query().Get("before") == "" {
					t.Fatalf("next link %q keeps neither limit nor the cursor", u)
				}
				path = u
			}
		}
		if want := "tokens.revoke key.rotate auth.failure token.issue key.create"; strings.Join(all, " ") != want {
			t.Errorf("pages gave %v, want %s", all, want)
		}
	})

	for _, tt := range []struct{ query, field string }{
		{"kind=nonsense", "kind"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=x", "limit"},
		{"before=-3", "before"},
		{"start=yesterday", "start"},
		{"start=" + ms(time.Hour) + "&end=" + ms(0), "end"},
	} {
		t.Run("invalid "+tt.query, func(t *testing.T) {
			e.fail(t, "GET", "/v1/apps/app1/audit?"+tt.query, e.all, nil, 422, herald.CodeInvalidParamValue, tt.field)
		})
	}
	e.fail(t, "GET", "/v1/apps/other/audit", e.all, nil, 404, herald.CodeNotFound, "")
	e.fail(t, "GET", "/v1/accounts/acct2/audit", e.all, nil, 404, herald.CodeNotFound, "")
}
