package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	rpprof "runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/heraldrt/herald/server"
	"github.com/spf13/cobra"
)

// newServeCmd runs Herald exactly as `herald serve --dev` does, plus a
// pprof listener, so that a benchmark run can be profiled without adding a
// profiling flag to the server itself.
func newServeCmd() *cobra.Command {
	var listen, dataDir, pprofAddr, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run Herald (as `herald serve --dev`) with a pprof listener for profiling benchmark runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg := server.Config{
				HTTP:   server.HTTPConfig{Listen: listen},
				Store:  server.StoreConfig{DataDir: dataDir},
				Admin:  server.AdminConfig{Dev: true},
				Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
			}
			srv, err := server.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Close(sctx)
			}()
			if pprofAddr != "" {
				ln, err := listenLoopback(pprofAddr)
				if err != nil {
					return err
				}
				ps := &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
				go ps.Serve(ln)
				defer ps.Close()
				fmt.Fprintf(os.Stderr, "pprof on http://%s/debug/pprof/\n", ln.Addr())
			}
			fmt.Fprintf(os.Stderr, "Herald (herald-bench serve) listening on http://%s (data in %s)\n", srv.Addr(), dataDir)
			select {
			case <-ctx.Done():
				return nil
			case err := <-srv.Done():
				return err
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&dataDir, "data-dir", "herald-data", "directory of the embedded SQLite store")
	f.StringVar(&pprofAddr, "pprof", "", "loopback address of a pprof listener, e.g. 127.0.0.1:6060")
	f.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	return cmd
}

func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--pprof %q: only loopback addresses", addr)
	}
	return net.Listen("tcp", addr)
}

// pprofMux serves net/http/pprof plus /bench/cpu/start and /bench/cpu/stop,
// which bracket a profile around exactly one measured phase (the standard
// /debug/pprof/profile needs its length up front).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	var (
		mu  sync.Mutex
		buf *bytes.Buffer
	)
	mux.HandleFunc("POST /bench/cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf != nil {
			rpprof.StopCPUProfile()
		}
		buf = &bytes.Buffer{}
		if err := rpprof.StartCPUProfile(buf); err != nil {
			buf = nil
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})
	mux.HandleFunc("POST /bench/cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf == nil {
			http.Error(w, "no profile running", http.StatusConflict)
			return
		}
		rpprof.StopCPUProfile()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(buf.Bytes())
		buf = nil
	})
	return mux
}
