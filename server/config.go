package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/heraldrt/herald"
)

// Config is everything a Herald server needs. Zero values mean defaults,
// filled in by withDefaults; Validate reports inconsistent settings.
type Config struct {
	HTTP  HTTPConfig
	Store StoreConfig
	Auth  AuthConfig
	Admin AdminConfig
	Stats StatsConfig
	// Realtime tunes the WebSocket protocol; zero values take the defaults
	// documented in realtime.Config (tests shorten them).
	Realtime RealtimeConfig
	// History sets how long channel history is kept.
	History HistoryConfig
	// Control is the Control API (/v1).
	Control ControlConfig
	// Audit bounds the audit log.
	Audit AuditConfig

	// Logger receives structured logs; nil discards them. Secrets are never
	// logged.
	Logger *slog.Logger
	// Clock is the time source; nil means the system clock.
	Clock herald.Clock
}

// HTTPConfig is the listener.
type HTTPConfig struct {
	// Listen is the address to listen on. Default "127.0.0.1:8080"; use
	// port 0 for an ephemeral port (tests).
	Listen string
	// TLSCertFile and TLSKeyFile, when both set, serve HTTPS and WSS.
	TLSCertFile string
	TLSKeyFile  string
	// TrustedProxies are CIDR prefixes (or single addresses) of reverse
	// proxies whose X-Forwarded-Proto header is believed.
	TrustedProxies []string
}

// StoreConfig is the persistent store.
type StoreConfig struct {
	// DataDir holds the embedded SQLite database. Default "./herald-data".
	DataDir string
	// SQLitePath overrides the database file. Default DataDir/herald.db.
	SQLitePath string
}

// AuthConfig tunes authentication.
type AuthConfig struct {
	// InsecureAllowBasicAuth allows Basic auth over plain HTTP/WS (Ably
	// refuses it with 40103). Implied by Admin.Dev.
	InsecureAllowBasicAuth bool
	// KeyCachePoll is how often the key cache checks the store for changes
	// made by other processes. Default 1s.
	KeyCachePoll time.Duration
}

// AdminConfig holds development and provisioning switches.
type AdminConfig struct {
	// Dev enables development mode: Basic auth over plain HTTP and the
	// sandbox-style /apps provisioning endpoint without a token.
	Dev bool
	// ProvisioningToken enables /apps and requires this bearer token on
	// POST /apps.
	ProvisioningToken string
	// NoBootstrap skips creating a default app and root key on an empty
	// store (tests that provision their own apps).
	NoBootstrap bool
}

// RealtimeConfig tunes the realtime protocol.
type RealtimeConfig struct {
	// ConnectionStateTTL: how long a dropped connection can resume. Default 2m.
	ConnectionStateTTL time.Duration
	// MaxIdleInterval: the longest server silence (heartbeats). Default 15s.
	MaxIdleInterval time.Duration
	// AuthLeadTime: AUTH is sent this long before a token expires. Default 30s.
	AuthLeadTime time.Duration
	// MaxMessageSize: the publish size limit in bytes. Default 65536.
	MaxMessageSize int
	// Compression accepts WebSocket permessage-deflate when offered.
	// Default off (see realtime.Config.Compression).
	Compression bool
}

// HistoryConfig sets history retention.
type HistoryConfig struct {
	// Retention applies to ordinary channels. Default 2 minutes (Ably's).
	Retention time.Duration
	// PersistedRetention applies to namespaces flagged persisted. Default 24 h.
	PersistedRetention time.Duration
}

// ControlConfig is the Control API: apps, keys and the audit log under
// /v1, authenticated with account access tokens.
type ControlConfig struct {
	// Listen, when set, serves /v1 on its own listener (say a loopback
	// address the public cannot reach) instead of the main one. Default ""
	// (the main listener). It uses the main listener's TLS settings.
	Listen string
	// Disabled turns the Control API off.
	Disabled bool
}

// AuditConfig bounds the audit log; the janitor prunes it every minute.
type AuditConfig struct {
	// Retention is how long entries are kept. Default 30 days.
	Retention time.Duration
	// MaxEntries is the most entries kept (the newest). Default 100000.
	MaxEntries int
	// FlushInterval is how often per-minute counts (token issues, auth
	// failures) of finished minutes are written. Default 10s.
	FlushInterval time.Duration
}

// StatsConfig tunes stats collection.
type StatsConfig struct {
	// FlushInterval is how often counters are written. Default 5s.
	FlushInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = "127.0.0.1:8080"
	}
	if c.Store.DataDir == "" {
		c.Store.DataDir = "herald-data"
	}
	if c.Store.SQLitePath == "" {
		c.Store.SQLitePath = filepath.Join(c.Store.DataDir, "herald.db")
	}
	if c.Auth.KeyCachePoll <= 0 {
		c.Auth.KeyCachePoll = time.Second
	}
	if c.Stats.FlushInterval <= 0 {
		c.Stats.FlushInterval = 5 * time.Second
	}
	if c.Audit.Retention <= 0 {
		c.Audit.Retention = 30 * 24 * time.Hour
	}
	if c.Audit.MaxEntries <= 0 {
		c.Audit.MaxEntries = 100_000
	}
	if c.Audit.FlushInterval <= 0 {
		c.Audit.FlushInterval = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = herald.SystemClock{}
	}
	return c
}

// Validate reports settings that cannot work together.
func (c Config) Validate() error {
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		return errors.New("server: TLS needs both a certificate file and a key file")
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if c.Control.Disabled && c.Control.Listen != "" {
		return errors.New("server: the Control API is disabled but has a listen address")
	}
	return nil
}

func (c Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.HTTP.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("server: trusted proxy %q is neither an address nor a CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
