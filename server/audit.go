package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// auditRecorder writes the audit log (docs/decisions.md "Audit
// log"). Changes (Record) are written at once, one entry each. Token issues
// and authentication failures are counted in memory per minute and written
// once their minute is over: one entry per minute, app, key, code and
// address, whose Count is the number of events. So a busy app or a
// brute-force attempt adds rows at a bounded rate, and the request path
// never waits for the store. The number of distinct counters is bounded too:
// past maxAuditCounters, events of a minute go into one overflow counter.
//
// It implements auth.Observer, httpapi.Auditor and controlapi.Auditor.
type auditRecorder struct {
	store  herald.AuditStore
	clock  herald.Clock
	logger *slog.Logger

	mu     sync.Mutex
	counts map[auditCounter]int

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// auditCounter identifies one per-minute count.
type auditCounter struct {
	minute  int64 // Unix minute
	appID   string
	kind    herald.AuditKind
	target  string // key name (or access-token id)
	method  string
	code    int
	address string
}

// maxAuditCounters bounds the counters held between flushes.
const maxAuditCounters = 10_000

// overflowMethod marks the counter that takes events past the bound.
const overflowMethod = "overflow"

func newAuditRecorder(store herald.AuditStore, clock herald.Clock, logger *slog.Logger) *auditRecorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &auditRecorder{store: store, clock: clock, logger: logger, counts: map[auditCounter]int{}}
}

// start flushes finished minutes every interval until close.
func (a *auditRecorder) start(interval time.Duration) {
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
				a.flush(a.clock.Now(), false)
			}
		}
	}()
}

// close stops the flusher and writes every counter, finished or not.
// Idempotent.
func (a *auditRecorder) close() {
	a.once.Do(func() {
		if a.stop != nil {
			close(a.stop)
			<-a.done
		}
		a.flush(a.clock.Now(), true)
	})
}

// Record writes e now. Errors are logged: the change it describes has
// already been made.
func (a *auditRecorder) Record(ctx context.Context, e *herald.AuditEntry) {
	e.Address = hostOnly(e.Address)
	if e.Time.IsZero() {
		e.Time = a.clock.Now()
	}
	if err := a.store.AppendAudit(ctx, e); err != nil {
		a.logger.Error("audit: writing an entry failed", "kind", e.Kind, "app", e.AppID, "target", e.Target, "err", err)
	}
}

// TokenIssued counts a token issued by keyName (auth.Observer).
func (a *auditRecorder) TokenIssued(appID, keyName string) {
	a.count(auditCounter{appID: appID, kind: herald.AuditTokenIssue, target: keyName})
}

// AuthFailed counts a refused credential (auth.Observer).
func (a *auditRecorder) AuthFailed(f auth.Failure) {
	a.count(auditCounter{appID: f.AppID, kind: herald.AuditAuthFailure, target: f.KeyName, method: f.Method,
		code: f.Code, address: hostOnly(f.RemoteAddr)})
}

func (a *auditRecorder) count(c auditCounter) {
	c.minute = a.clock.Now().Unix() / 60
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.counts[c]; !ok && len(a.counts) >= maxAuditCounters {
		c = auditCounter{minute: c.minute, kind: c.kind, method: overflowMethod}
	}
	a.counts[c]++
}

// flush writes the counters of minutes before now's (all of them when
// everything is set) as audit entries.
func (a *auditRecorder) flush(now time.Time, everything bool) {
	current := now.Unix() / 60
	a.mu.Lock()
	var entries []*herald.AuditEntry
	for c, n := range a.counts {
		if c.minute >= current && !everything {
			continue
		}
		delete(a.counts, c)
		e := &herald.AuditEntry{Time: time.Unix(c.minute*60, 0).UTC(), AppID: c.appID, Kind: c.kind,
			Target: c.target, Code: c.code, Address: c.address, Count: n}
		if c.method != "" {
			d, _ := json.Marshal(map[string]string{"method": c.method})
			e.Details = string(d)
		}
		entries = append(entries, e)
	}
	a.mu.Unlock()
	if len(entries) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.store.AppendAudit(ctx, entries...); err != nil {
		a.logger.Error("audit: writing counted entries failed; they are lost", "entries", len(entries), "err", err)
	}
}

// hostOnly strips the port from a network address: the audit log records
// which client, not which of its connections.
func hostOnly(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
