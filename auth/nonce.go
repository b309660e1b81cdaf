package auth

import (
	"sync"
	"time"
)

// NonceCache remembers the (key, nonce, timestamp) triples of signed token
// requests until their timestamp window has passed, so each is used once
// (40105). It is bounded: when full it refuses new entries rather than
// forgetting live ones, because forgetting would allow a replay. It lives in
// memory only: after a restart a request signed less than two minutes
// earlier could be replayed once (docs/decisions.md "Nonce replay").
type NonceCache struct {
	max   int
	clock func() time.Time

	mu     sync.Mutex
	seen   map[string]time.Time // triple → forget after
	sweeps int
}

// DefaultNonceCacheSize bounds the replay cache (about 100 bytes an entry).
const DefaultNonceCacheSize = 1_000_000

// NewNonceCache returns a cache holding at most max live entries.
func NewNonceCache(max int, now func() time.Time) *NonceCache {
	if max <= 0 {
		max = DefaultNonceCacheSize
	}
	return &NonceCache{max: max, clock: now, seen: map[string]time.Time{}}
}

// NonceResult is the outcome of NonceCache.Add.
type NonceResult int

// Outcomes of Add.
const (
	NonceNew      NonceResult = iota // recorded
	NonceReplayed                    // seen before and still live
	NonceFull                        // not recorded: the cache is full of live entries
)

// Add records the triple. forgetAfter is when the request can no longer pass
// the timestamp check anyway.
func (c *NonceCache) Add(keyName, nonce, timestamp string, forgetAfter time.Time) NonceResult {
	k := keyName + "\x00" + nonce + "\x00" + timestamp
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[k]; ok && now.Before(exp) {
		return NonceReplayed
	}
	if len(c.seen) >= c.max {
		c.sweep(now)
		if len(c.seen) >= c.max {
			return NonceFull
		}
	}
	c.seen[k] = forgetAfter
	// Sweep now and then so the map does not grow with dead entries.
	c.sweeps++
	if c.sweeps >= 4096 {
		c.sweeps = 0
		c.sweep(now)
	}
	return NonceNew
}

func (c *NonceCache) sweep(now time.Time) {
	for k, exp := range c.seen {
		if !now.Before(exp) {
			delete(c.seen, k)
		}
	}
}

// Len reports how many entries are held.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
