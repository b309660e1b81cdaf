package server_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/heraldrt/herald"

// Import rules from STYLE.md: imports point inward. Each entry lists the
// module packages a package may import (by short name, "" = the root), and
// the outside packages it must not import. Packages not listed may import
// anything except the packages that forbid it below.
var allowed = map[string][]string{
	"":            {},
	"auth":        {""},
	"protocol":    {""},
	"stats":       {""},
	"hub":         {"", "auth", "stats"},
	"sqlitestore": {""},
	"pgstore":     {""},
	"membroker":   {""},
	"redisbroker": {""},
	"storetest":   {""},
	"brokertest":  {""},
	"tokenissuer": {""},
	"admin":       {},
	// controlapi is a transport like httpapi but needs only the domain and
	// auth (access tokens, capabilities, key rotation).
	"controlapi": {"", "auth"},
}

// Outside packages that mark a transport: domain packages must not use them.
var transportImports = []string{"net/http", "github.com/gorilla/websocket"}

var noTransport = map[string]bool{"": true, "auth": true, "protocol": true, "hub": true, "stats": true}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		for _, imp := range p.Imports {
			if noTransport[name] {
				for _, tr := range transportImports {
					if imp == tr {
						t.Errorf("%s imports transport package %s", p.ImportPath, imp)
					}
				}
			}
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(imp, mod), "/")
			if dep == "server" && !strings.HasPrefix(name, "cmd/") && !strings.HasPrefix(name, "test/") {
				t.Errorf("%s imports server; only cmd/ and test/ may", p.ImportPath)
			}
			ok, listed := allowed[name]
			if !listed {
				continue
			}
			permitted := false
			for _, a := range ok {
				if a == dep {
					permitted = true
				}
			}
			if !permitted {
				t.Errorf("%s imports %s, which points outward (allowed: %q)", p.ImportPath, imp, ok)
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}
