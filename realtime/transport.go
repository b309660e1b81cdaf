package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// transport is one WebSocket carrying a connection.
//
// Writes are batched: gorilla frames each queued protocol message into
// out (wireConn below), and whichever goroutine holds the write token
// sends everything framed so far with one write(2). On loopback one write
// costs ~5.5 µs of CPU whatever its size, so a subscriber that is behind
// gets its backlog in a few syscalls instead of one per message
// (docs/benchmarks.md, "Delivery").
//
// No goroutine waits for frames: the write token is taken by push (or by
// any gorilla write, such as the pong the reader sends) and a writer
// goroutine runs only while there is something to send. With the reader
// that is one goroutine per idle connection, not two; heartbeats come from
// a timer (docs/benchmarks.md, "RSS per idle connection").
type transport struct {
	ws      *websocket.Conn
	conn    net.Conn // the socket under ws; out is written to it directly
	max     int
	msgType int
	timeout time.Duration
	// onFail is told when a write fails; set before the token is released.
	onFail func(*transport)

	heartbeat []byte
	maxIdle   time.Duration
	hb        *time.Timer
	lastWrite atomic.Int64 // unix ns of the last completed write

	mu      sync.Mutex
	queue   [][]byte // encoded protocol messages not framed yet, bounded by max
	out     *[]byte  // WebSocket frames not sent yet (pooled while idle)
	running bool     // a goroutine holds the write token
	closing bool     // close asked: send what is queued, then close
	ended   atomic.Bool
}

// maxBatch bounds the bytes framed before a write, so a long backlog is
// sent in chunks instead of one buffer as large as the queue.
const maxBatch = 64 << 10

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// newTransport returns a transport whose write token is held by the
// caller: frames (the 101 response, CONNECTED) accumulate until release,
// so a new connection's handshake answer and CONNECTED share one write.
func newTransport(max int, binary bool, timeout time.Duration) *transport {
	t := &transport{max: max, msgType: websocket.TextMessage, timeout: timeout, running: true}
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
		go t.run()
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
		go t.run()
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
		go t.run()
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
		go t.run()
	}
}

// dropQueue forgets the frames not framed yet (slow consumer).
func (t *transport) dropQueue() {
	t.mu.Lock()
	t.queue = nil
	t.mu.Unlock()
}

// run sends until nothing is left, then gives the token back (or closes
// the socket when close was asked). Only the token's holder runs it.
func (t *transport) run() {
	for {
		t.mu.Lock()
		q := t.queue
		t.queue = nil
		if len(q) == 0 && t.out == nil {
			if t.closing {
				t.mu.Unlock()
				t.ws.Close()
				return
			}
			t.running = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		for i, b := range q {
			if err := t.ws.WriteMessage(t.msgType, b); err != nil {
				t.fail()
				return
			}
			if i < len(q)-1 && t.outLen() >= maxBatch && !t.flush() {
				return
			}
		}
		if !t.flush() {
			return
		}
	}
}

func (t *transport) outLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out == nil {
		return 0
	}
	return len(*t.out)
}

// flush writes out with one syscall; false when the socket failed (the
// token is then kept, so nothing writes to the dead socket again).
func (t *transport) flush() bool {
	t.mu.Lock()
	out := t.out
	t.out = nil
	t.mu.Unlock()
	if out == nil {
		return true
	}
	t.conn.SetWriteDeadline(time.Now().Add(t.timeout))
	_, err := t.conn.Write(*out)
	if cap(*out) <= maxBatch {
		*out = (*out)[:0]
		outPool.Put(out)
	}
	if err != nil {
		t.fail()
		return false
	}
	t.lastWrite.Store(time.Now().UnixNano())
	return true
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
