package realtime

import (
	"errors"
	"runtime"
	"sync"
)

// flushers send batches for every connection of a handler (see transport).
// Handing a connection to one costs a channel send instead of starting a
// goroutine: in a burst of 1,000 deliveries to idle subscribers that was
// about 0.6 µs of the ~8.5 µs each delivery cost (docs/benchmarks.md).
// They only write without blocking, so one slow socket cannot stall them.
type flushers struct {
	ch      chan *transport
	mu      sync.RWMutex // schedule holds it shared, so stop can close ch
	stopped bool
}

func startFlushers(n int) *flushers {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	f := &flushers{ch: make(chan *transport, 1<<14)}
	for range n {
		go f.loop()
	}
	return f
}

// schedule queues t (whose token the caller holds); false when the queue is
// full or the flushers have stopped, and the caller must run t itself.
func (f *flushers) schedule(t *transport) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.stopped {
		return false
	}
	select {
	case f.ch <- t:
		return true
	default:
		return false
	}
}

// loop serves transports until stop; what was queued before stop is still
// served.
func (f *flushers) loop() {
	for t := range f.ch {
		// One batch per turn, then the back of the line: a connection
		// with a long backlog does not hold up the rest.
		if t.round(true) {
			t.start()
		}
	}
}

// stop ends the flushers once they have served what is queued; later
// transports get goroutines of their own. Idempotent.
func (f *flushers) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		close(f.ch)
	}
}

// errWouldBlock: the socket's send buffer is full.
var errWouldBlock = errors.New("write would block")
