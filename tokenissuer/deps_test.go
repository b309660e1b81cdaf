package tokenissuer_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the package usable on its own by application servers
// (as tailscale's deptest does): of this module it may import only the
// root package, never auth, server or a transport.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/heraldrt/herald/tokenissuer").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	const mod = "github.com/heraldrt/herald"
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, mod+"/") && dep != mod+"/tokenissuer" {
			t.Errorf("tokenissuer depends on %s; it must stand alone (root package only)", dep)
		}
	}
}
