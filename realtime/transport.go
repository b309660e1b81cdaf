package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// transport is one WebSocket carrying a connection.
//
// Writes are batched: the protocol messages queued for a connection are
// framed back to back into one buffer and sent with one write(2). On
// loopback one write costs ~5.5 µs of CPU whatever its size, so a
// subscriber that is behind gets its backlog in a few syscalls instead of
// one per message (docs/benchmarks.md, "Delivery").
//
// No goroutine waits for frames. Whoever finds the transport idle takes its
// write token and hands it to the handler's flushers, a few goroutines
// that send for every connection with non-blocking writes. A socket that
// cannot take a whole batch gets a goroutine of its own that waits on it
// (run), so one slow client never holds up the others. An idle connection
// therefore has one goroutine, its reader, and heartbeats come from a
// timer (docs/benchmarks.md, "RSS per idle connection").
type transport struct {
	ws       *websocket.Conn
	conn     net.Conn        // the socket under ws; batches are written to it directly
	raw      syscall.RawConn // conn's descriptor for non-blocking writes; nil for TLS
	sched    *flushers       // nil: every batch on a goroutine of its own
	max      int
	msgType  int
	compress bool // frame through gorilla, which deflates if negotiated
	timeout  time.Duration
	deadline time.Time // write deadline last set on conn (token holder only)
	// onFail is told when a write fails; set before the token is released.
	onFail func(*transport)

	heartbeat []byte
	maxIdle   time.Duration
	hb        *time.Timer
	lastWrite atomic.Int64 // unix ns of the last completed write

	mu      sync.Mutex
	queue   [][]byte // encoded protocol messages not framed yet, bounded by max
	out     *[]byte  // framed bytes not sent yet (gorilla's control frames, a partial write's rest)
	running bool     // someone holds the write token
	closing bool     // close asked: send what is queued, then close
	aborted bool     // a close frame is out: queued frames are dropped
	ended   atomic.Bool
}

// maxBatch bounds the bytes framed before a write, so a long backlog is
// sent in chunks instead of one buffer as large as the queue.
const maxBatch = 64 << 10

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// newTransport returns a transport whose write token is held by the
// caller: frames (the 101 response, CONNECTED) accumulate until release,
// so a new connection's handshake answer and CONNECTED share one write.
func newTransport(max int, binary, compress bool, timeout time.Duration, sched *flushers) *transport {
	t := &transport{max: max, msgType: websocket.TextMessage, compress: compress, timeout: timeout, running: true, sched: sched}
	if binary {
		t.msgType = websocket.BinaryMessage
	}
	return t
}

// hijacker hands gorilla the wireConn instead of the socket.
type hijacker struct {
	http.ResponseWriter
	t *transport
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.t.conn = c
	if sc, ok := c.(syscall.Conn); ok {
		h.t.raw, _ = sc.SyscallConn()
	}
	if h.t.raw == nil {
		h.t.sched = nil // flushers must never block on a write
	}
	return &wireConn{Conn: c, t: h.t}, brw, nil
}

// wireConn is the socket as gorilla sees it: reads go to the socket,
// writes only append to the transport's out buffer (never block), and the
// write token's holder sends them. Deadlines on gorilla's writes are
// therefore meaningless; the flush sets its own.
type wireConn struct {
	net.Conn
	t *transport
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.t.appendOut(p)
	return len(p), nil
}

func (w *wireConn) SetWriteDeadline(time.Time) error { return nil }

// appendOut adds framed bytes and makes sure someone will send them: a
// gorilla write from outside the writer (pong, close) starts one.
func (t *transport) appendOut(p []byte) {
	t.mu.Lock()
	if t.out == nil {
		t.out = outPool.Get().(*[]byte)
	}
	*t.out = append(*t.out, p...)
	start := t.take()
	t.mu.Unlock()
	if start {
		t.start()
	}
}

// take claims the write token if nobody holds it; t.mu must be held.
func (t *transport) take() bool {
	if t.running {
		return false
	}
	t.running = true
	return true
}

// push queues b for the writer and reports false when the queue is full.
// Frames pushed after close are dropped.
func (t *transport) push(b []byte) bool {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return true
	}
	if len(t.queue) >= t.max {
		t.mu.Unlock()
		return false
	}
	t.queue = append(t.queue, b)
	start := t.take()
	t.mu.Unlock()
	if start {
		t.start()
	}
	return true
}

// release gives up the token newTransport handed its caller, starting a
// writer if frames are waiting.
func (t *transport) release() {
	t.mu.Lock()
	t.running = false
	start := (len(t.queue) > 0 || t.out != nil || t.closing) && t.take()
	t.mu.Unlock()
	if start {
		t.start()
	}
}

// close asks for what is queued to be sent, then the socket closed.
// Idempotent.
func (t *transport) close() {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return
	}
	t.closing = true
	t.ended.Store(true)
	start := t.take()
	hb := t.hb
	t.mu.Unlock()
	if hb != nil {
		hb.Stop()
	}
	if start {
		t.start()
	}
}

// abort drops the queued frames and sends a close frame with code and
// reason instead (slow consumer), then closes.
func (t *transport) abort(code int, reason string) {
	t.mu.Lock()
	t.queue = nil
	t.aborted = true
	t.mu.Unlock()
	t.appendOut(appendFrame(nil, websocket.CloseMessage, websocket.FormatCloseMessage(code, reason)))
	t.close()
}

// appendFrame appends one unmasked, unfragmented WebSocket frame (RFC 6455
// §5.2; a server never masks). Without compression this replaces
// gorilla's per-message writer, its lock and its pooled buffer: the frames
// of a batch are built back to back in one buffer.
func appendFrame(dst []byte, opcode int, payload []byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|byte(opcode))
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, payload...)
}

// start hands the token's work to the flushers, or to a goroutine of its
// own when there are none.
func (t *transport) start() {
	if t.sched == nil || !t.sched.schedule(t) {
		go t.run()
	}
}

// run sends with blocking writes until nothing is left.
func (t *transport) run() {
	for t.round(false) {
	}
}

// round sends one batch: the bytes already framed (gorilla's control
// frames, the rest of a partial write), then queued frames up to maxBatch
// bytes, with one write. It reports whether work is left; when there is
// none it gives the token back, or closes the socket if close was asked.
// With nonblocking, a socket that cannot take the whole batch keeps the
// rest and the token goes to a goroutine that waits (run).
func (t *transport) round(nonblocking bool) bool {
	t.mu.Lock()
	// Take what fits in one batch (uncompressed sizes also bound a
	// deflated batch); the rest waits for the next round.
	q := t.queue
	size, k := 0, 0
	if t.out != nil {
		size = len(*t.out)
	}
	for k < len(q) && (k == 0 || size < maxBatch) {
		size += len(q[k]) + 10
		k++
	}
	q = q[:k:k]
	t.queue = t.queue[len(q):]
	if len(t.queue) == 0 {
		t.queue = nil
	}
	if len(q) == 0 && t.out == nil {
		if t.closing {
			t.mu.Unlock()
			t.ws.Close() // the token stays taken: nothing writes again
			return false
		}
		t.running = false
		t.mu.Unlock()
		return false
	}
	var out *[]byte
	if !t.compress {
		out = t.out
		t.out = nil
	}
	t.mu.Unlock()
	if t.compress {
		// gorilla frames (and deflates) into t.out through wireConn.
		for _, b := range q {
			if err := t.ws.WriteMessage(t.msgType, b); err != nil {
				t.fail()
				return false
			}
		}
		t.mu.Lock()
		out = t.out
		t.out = nil
		t.mu.Unlock()
	} else {
		if out == nil {
			out = outPool.Get().(*[]byte)
		}
		for _, b := range q {
			*out = appendFrame(*out, t.msgType, b)
		}
	}
	if out != nil && !t.send(out, nonblocking) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.aborted {
		t.queue = nil
	}
	if len(t.queue) > 0 || t.out != nil || t.closing {
		return true
	}
	t.running = false
	return false
}

// send writes out and returns it to the pool. It reports false when the
// token has left this goroutine: the socket failed, or (nonblocking) it
// could not take everything and a goroutine of its own now waits on it.
//
// A blocking write's deadline is moved only when less than half of it is
// left: setting it costs as much as a tenth of the write, and a stuck
// client is still cut off after between timeout/2 and timeout.
func (t *transport) send(out *[]byte, nonblocking bool) bool {
	now := time.Now()
	defer recycle(out)
	if nonblocking && t.raw != nil {
		if !t.deadline.IsZero() && now.After(t.deadline) {
			// An expired deadline would fail even a write that need not wait.
			t.conn.SetWriteDeadline(time.Time{})
			t.deadline = time.Time{}
		}
		n, err := writeNonblocking(t.raw, *out)
		if n > 0 {
			t.lastWrite.Store(now.UnixNano())
		}
		switch {
		case err == nil && n == len(*out):
			return true
		case err == nil || err == errWouldBlock:
			t.mu.Lock()
			rest := outPool.Get().(*[]byte)
			*rest = append(*rest, (*out)[n:]...)
			if t.out != nil {
				*rest = append(*rest, *t.out...)
				recycle(t.out)
			}
			t.out = rest
			t.mu.Unlock()
			go t.run()
			return false
		default:
			t.fail()
			return false
		}
	}
	if t.deadline.Sub(now) < t.timeout/2 {
		t.deadline = now.Add(t.timeout)
		t.conn.SetWriteDeadline(t.deadline)
	}
	if _, err := t.conn.Write(*out); err != nil {
		t.fail()
		return false
	}
	t.lastWrite.Store(now.UnixNano())
	return true
}

func recycle(b *[]byte) {
	if cap(*b) <= 2*maxBatch {
		*b = (*b)[:0]
		outPool.Put(b)
	}
}

func (t *transport) fail() {
	t.ended.Store(true)
	if t.onFail != nil {
		t.onFail(t)
	}
	t.ws.Close()
}

// startHeartbeats arms the timer that sends a HEARTBEAT when nothing was
// written for maxIdle (the connection's maxIdleInterval, RTN23a). One
// timer per connection, re-armed only when it fires.
func (t *transport) startHeartbeats(frame []byte, maxIdle time.Duration) {
	t.heartbeat, t.maxIdle = frame, maxIdle
	t.lastWrite.Store(time.Now().UnixNano())
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closing {
		t.hb = time.AfterFunc(maxIdle, t.beat)
	}
}

func (t *transport) beat() {
	if t.ended.Load() {
		return
	}
	silent := time.Duration(time.Now().UnixNano() - t.lastWrite.Load())
	// A write in flight or just done re-arms for the rest of the interval;
	// the heartbeat goes out a little early rather than late.
	const slack = 10 * time.Millisecond
	t.mu.Lock()
	hb := t.hb
	t.mu.Unlock()
	if rest := t.maxIdle - silent; rest > slack {
		hb.Reset(rest)
		return
	}
	t.push(t.heartbeat)
	hb.Reset(t.maxIdle)
}
