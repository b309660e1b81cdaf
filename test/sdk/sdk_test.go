//go:build sdk

package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/server"
)

// nodeTimeout bounds one `node --test` pass.
const nodeTimeout = 5 * time.Minute

// TestSDK runs the ably-js specs in this directory against a live server,
// once per wire format (protocol.md §F: a server must speak both).
func TestSDK(t *testing.T) {
	testDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the SDK interop tests need Node 20 or later")
	}
	if _, err := os.Stat(filepath.Join(testDir, "node_modules", "ably", "package.json")); err != nil {
		t.Skipf("the ably SDK is not installed: run `npm ci` in %s first", testDir)
	}
	specs, err := filepath.Glob(filepath.Join(testDir, "*.test.mjs"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no *.test.mjs specs in %s (err %v)", testDir, err)
	}
	sort.Strings(specs)
	for i, s := range specs {
		specs[i] = filepath.Base(s)
	}

	bin := buildHerald(t, moduleRoot(t, testDir))
	dataDir := t.TempDir()
	addr := openServer(t, dataDir)

	for _, proto := range []string{"json", "msgpack"} {
		t.Run(proto, func(t *testing.T) {
			runNode(t, node, testDir, specs, []string{
				"HERALD_HOST=localhost",
				"HERALD_PORT=" + strconv.Itoa(addr.Port),
				"HERALD_PROTOCOL=" + proto,
				"HERALD_BIN=" + bin,
				"HERALD_DATA_DIR=" + dataDir,
			})
		})
	}
}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(t testing.TB, dir string) string {
	t.Helper()
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatalf("no go.mod above %s", dir)
		}
		d = parent
	}
}

// buildHerald builds cmd/herald into a temporary directory; the specs use
// it to change the store behind the running server's back (keys revoke).
func buildHerald(t testing.TB, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/herald")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/herald: %v\n%s", err, out)
	}
	return bin
}

// openServer starts Herald in development mode on an ephemeral loopback
// port with an empty store, and closes it when the test ends.
func openServer(t testing.TB, dataDir string) *net.TCPAddr {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(&lineLogger{t: t, prefix: "server: "}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Open(t.Context(), server.Config{
		HTTP:   server.HTTPConfig{Listen: "127.0.0.1:0"},
		Store:  server.StoreConfig{DataDir: dataDir},
		Auth:   server.AuthConfig{KeyCachePoll: 100 * time.Millisecond},
		Admin:  server.AdminConfig{Dev: true, NoBootstrap: true},
		Stats:  server.StatsConfig{FlushInterval: 200 * time.Millisecond},
		Logger: logger,

		// realtime.test.mjs: a 5 s token is renewed in-band (AUTH 3 s
		// before expiry), and a 3 s token, no longer than the lead time,
		// is left to expire (DISCONNECTED 40142), as ably-js's tests expect
		// of Ably's 30 s lead time with 35 s and 5 s tokens.
		Realtime: server.RealtimeConfig{AuthLeadTime: 3 * time.Second},
	})
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	addr, ok := srv.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("server address %v is not TCP", srv.Addr())
	}
	return addr
}

// runNode runs `node --test` on specs in dir with env added, streaming its
// output to the test log, and fails the test if node fails.
func runNode(t *testing.T, node, dir string, specs, env []string) {
	ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec", "--test-timeout=120000"}, specs...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "NO_COLOR=1")
	// Interrupt first so the test runner can stop its per-file children,
	// then kill if it has not exited shortly after.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out := &lineLogger{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.flush()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test did not finish within %v", nodeTimeout)
	case err != nil:
		t.Fatalf("node --test failed: %v", err)
	}
}

// lineLogger writes whole lines to the test log as they arrive, so a long
// node run shows progress under -v.
type lineLogger struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(l.prefix + string(bytes.TrimRight(l.buf[:i], "\r")))
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(l.prefix + string(l.buf))
		l.buf = nil
	}
}
