// Package server is Herald's composition root: it turns a Config into a
// running server (store, key cache, authenticator, stats, REST API) and is
// the only place, with cmd/, that knows every package.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/admin"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/controlapi"
	"github.com/heraldrt/herald/httpapi"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/metrics"
	"github.com/heraldrt/herald/realtime"
	"github.com/heraldrt/herald/sqlitestore"
	"github.com/heraldrt/herald/stats"
)

// Server is a running Herald.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	store    herald.Store
	keys     *auth.KeyCache
	recorder *stats.Recorder
	hub      *hub.Hub
	metrics  *metrics.Metrics
	janitor  *janitor
	audit    *auditRecorder
	control  *controlapi.Handler              // nil when disabled
	live     atomic.Pointer[realtime.Handler] // s.realtime, for callbacks from other goroutines
	realtime *realtime.Handler
	handler  http.Handler
	ln       net.Listener
	http     *http.Server
	serveErr chan error
	// controlLn and controlHTTP serve /v1 when Control.Listen is set.
	controlLn   net.Listener
	controlHTTP *http.Server

	// Bootstrap is set when Open created the default app and root key, or
	// the first access token, on a store that had none; cmd prints the
	// secrets once.
	Bootstrap *Bootstrap

	closeOnce sync.Once
	closeErr  error
}

// Bootstrap describes what Open created on an empty store. App and Key are
// nil when the store already had apps; AccessToken is "" when it already
// had access tokens.
type Bootstrap struct {
	App *herald.App
	Key *herald.Key
	// AccessToken is the first Control API access token, with every
	// capability. Only its hash is stored: this is the one time it exists
	// in the clear.
	AccessToken string
}

// OpenStore opens the configured store (also used by the CLI's admin
// commands, which work on the store directly).
func OpenStore(ctx context.Context, cfg Config) (herald.Store, error) {
	cfg = cfg.withDefaults()
	return sqlitestore.Open(ctx, sqlitestore.Config{Path: cfg.Store.SQLitePath})
}

// Open builds every component, listens and starts serving.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: cfg.Logger}
	if err := s.open(ctx); err != nil {
		s.Close(context.Background())
		return nil, err
	}
	return s, nil
}

func (s *Server) open(ctx context.Context) error {
	cfg := s.cfg
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	s.store = store
	accountID, err := EnsureAccount(ctx, store)
	if err != nil {
		return err
	}
	if !cfg.Admin.NoBootstrap {
		if err := s.bootstrap(ctx, accountID); err != nil {
			return err
		}
	}
	s.audit = newAuditRecorder(store, cfg.Clock, s.logger)
	s.audit.start(cfg.Audit.FlushInterval)
	s.keys = auth.NewKeyCache(store, auth.KeyCacheConfig{PollInterval: cfg.Auth.KeyCachePoll, Logger: s.logger,
		// Key revocations and app changes close live connections (40131).
		OnReload: func() {
			if rt := s.live.Load(); rt != nil {
				rt.RecheckKeys()
			}
		}})
	if err := s.keys.Start(ctx); err != nil {
		return err
	}
	authn := auth.New(auth.Config{
		AllowInsecureBasic: cfg.Auth.InsecureAllowBasicAuth || cfg.Admin.Dev,
		Observer:           s.audit,
	}, s.keys, store, cfg.Clock)
	rules, err := store.Revocations(ctx, cfg.Clock.Now())
	if err != nil {
		return err
	}
	authn.Revocations().Load(rules)
	s.recorder = stats.New(stats.Config{FlushInterval: cfg.Stats.FlushInterval, Logger: s.logger}, store, cfg.Clock)
	s.recorder.Start()
	proxies, _ := cfg.trustedProxies()
	s.metrics = metrics.New()
	s.hub = hub.New(hub.Config{MaxMessageSize: cfg.Realtime.MaxMessageSize, Logger: s.logger,
		History: hub.HistoryConfig{Retention: cfg.History.Retention, PersistedRetention: cfg.History.PersistedRetention}},
		cfg.Clock, s.recorder, store)
	s.hub.Start()
	apps, err := store.Apps(ctx)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if err := httpapi.LoadFixtures(ctx, store, s.hub, a.ID); err != nil {
			return err
		}
	}
	s.realtime = realtime.New(realtime.Config{
		ConnectionStateTTL: cfg.Realtime.ConnectionStateTTL,
		MaxIdleInterval:    cfg.Realtime.MaxIdleInterval,
		AuthLeadTime:       cfg.Realtime.AuthLeadTime,
		MaxMessageSize:     cfg.Realtime.MaxMessageSize,
		Compression:        cfg.Realtime.Compression,
		TrustedProxies:     proxies,
	}, realtime.Deps{Auth: authn, Hub: s.hub, Clock: cfg.Clock, Logger: s.logger, Stats: s.recorder, Metrics: s.metrics})
	s.live.Store(s.realtime)
	rest := httpapi.New(httpapi.Config{
		Provisioning:      cfg.Admin.Dev || cfg.Admin.ProvisioningToken != "",
		ProvisioningToken: cfg.Admin.ProvisioningToken,
		TrustedProxies:    proxies,
		AccountID:         accountID,
	}, httpapi.Deps{Store: store, Auth: authn, Hub: s.hub, Revoker: s.realtime, Stats: s.recorder, Clock: cfg.Clock,
		Logger: s.logger, Metrics: s.metrics, Audit: s.audit})
	if !cfg.Control.Disabled {
		s.control = controlapi.New(controlapi.Config{AccountID: accountID}, controlapi.Deps{
			Store: store, Keys: s.keys, Audit: s.audit, Clock: cfg.Clock, Logger: s.logger,
			OnAppDeleted: func(appID string) {
				s.hub.DropApp(appID)
				s.recorder.Forget(appID)
			},
		})
	}
	control := s.control
	if cfg.Control.Listen != "" {
		control = nil // served on its own listener only
	}
	// The dashboard calls /v1 on its own origin, so it is served only
	// where the Control API is.
	var dashboard http.Handler
	if control != nil {
		d, err := admin.New(admin.Config{Prefix: "/dashboard"})
		if err != nil {
			return err
		}
		dashboard = d
	}
	metricsHandler := s.metrics.Handler()
	// REST and realtime share one listener (protocol.md §A.1): the
	// WebSocket upgrade lives at "/".
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && realtime.IsUpgrade(r) {
			s.realtime.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/metrics" && r.Method == http.MethodGet {
			metricsHandler.ServeHTTP(w, r)
			return
		}
		if control != nil && isControlPath(r.URL.Path) {
			control.ServeHTTP(w, r)
			return
		}
		if dashboard != nil && (r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, "/dashboard/")) {
			dashboard.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})

	s.janitor = newJanitor(store, authn, cfg.Clock, s.logger, cfg.Audit)

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", cfg.HTTP.Listen, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// JWTs and capabilities travel in headers and query strings
		// (ably-auth §4.5): leave room beyond the ~8 KB guidance.
		MaxHeaderBytes: 256 << 10,
		ErrorLog:       slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.serveErr = make(chan error, 1)
	var tlsConfig *tls.Config
	if cfg.HTTP.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("server: load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.Control.Listen != "" && s.control != nil {
		if err := s.listenControl(tlsConfig); err != nil {
			return err
		}
	}
	if tlsConfig != nil {
		s.http.TLSConfig = tlsConfig
		go func() { s.serveErr <- s.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { s.serveErr <- s.http.Serve(ln) }()
	}
	s.logger.Info("herald listening", "addr", ln.Addr().String(), "tls", cfg.HTTP.TLSCertFile != "", "dev", cfg.Admin.Dev)
	return nil
}

// bootstrap fills s.Bootstrap on a store without apps or access tokens.
func (s *Server) bootstrap(ctx context.Context, accountID string) error {
	b, err := bootstrap(ctx, s.store, accountID, s.cfg.Clock)
	if err != nil {
		return err
	}
	token, err := bootstrapAccessToken(ctx, s.store, accountID, s.cfg.Clock)
	if err != nil {
		return err
	}
	if token != "" {
		if b == nil {
			b = &Bootstrap{}
		}
		b.AccessToken = token
	}
	s.Bootstrap = b
	return nil
}

// isControlPath reports whether path belongs to the Control API.
func isControlPath(path string) bool { return path == "/v1" || strings.HasPrefix(path, "/v1/") }

// listenControl serves the Control API alone on Control.Listen, with the
// main listener's TLS settings (nil: plain HTTP). It takes a clone: serving
// modifies the config.
func (s *Server) listenControl(tlsConfig *tls.Config) error {
	ln, err := net.Listen("tcp", s.cfg.Control.Listen)
	if err != nil {
		return fmt.Errorf("server: listen for the Control API on %s: %w", s.cfg.Control.Listen, err)
	}
	s.controlLn = ln
	s.controlHTTP = &http.Server{
		Handler:           s.control,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	serve := func() error { return s.controlHTTP.Serve(ln) }
	if tlsConfig != nil {
		s.controlHTTP.TLSConfig = tlsConfig.Clone()
		serve = func() error { return s.controlHTTP.ServeTLS(ln, "", "") }
	}
	go func() {
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case s.serveErr <- err:
			default:
			}
		}
	}()
	s.logger.Info("herald Control API listening", "addr", ln.Addr().String())
	return nil
}

// ControlAddr is the Control API's own listener address, or nil when /v1
// is served on the main listener (or disabled).
func (s *Server) ControlAddr() net.Addr {
	if s.controlLn == nil {
		return nil
	}
	return s.controlLn.Addr()
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Handler is the server's HTTP handler (for in-process tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the server's store.
func (s *Server) Store() herald.Store { return s.store }

// KeyCache is the server's key cache.
func (s *Server) KeyCache() *auth.KeyCache { return s.keys }

// Done returns a channel that yields the serve loop's error if it stops on
// its own.
func (s *Server) Done() <-chan error { return s.serveErr }

// Close stops serving, flushes stats and closes the store. Idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.janitor != nil {
			s.janitor.close()
		}
		if s.realtime != nil {
			s.realtime.Close(ctx)
		}
		if s.http != nil {
			if err := s.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		if s.controlHTTP != nil {
			if err := s.controlHTTP.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		if s.audit != nil {
			s.audit.close() // writes the counts not yet written
		}
		if s.hub != nil {
			if err := s.hub.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if s.recorder != nil {
			if err := s.recorder.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if s.keys != nil {
			s.keys.Close()
		}
		if s.store != nil {
			if err := s.store.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
