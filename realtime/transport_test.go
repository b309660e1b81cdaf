package realtime

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// countingConn counts the writes made on the real socket, through the
// net.Conn (blocking) or its RawConn (the flushers' non-blocking writes).
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

type countingRaw struct {
	syscall.RawConn
	c *countingConn
}

func (r countingRaw) Write(f func(uintptr) bool) error {
	r.c.writes.Add(1)
	return r.RawConn.Write(f)
}

// transportPair upgrades one loopback connection with the transport
// (token still held, as connect holds it) and hands it to serve; the
// client side is a stock gorilla client.
func transportPair(t *testing.T, serve func(*transport, *countingConn)) *websocket.Conn {
	t.Helper()
	h := New(Config{}, Deps{})
	t.Cleanup(func() { h.flush.stop() })
	return transportPairOn(t, h, 16, serve)
}

func transportPairOn(t *testing.T, h *Handler, queue int, serve func(*transport, *countingConn)) *websocket.Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr := newTransport(queue, false, false, 5*time.Second, h.flush)
		ws, err := h.upgrader.Upgrade(hijacker{w, tr}, r, nil)
		if err != nil {
			return
		}
		tr.ws = ws
		cc := &countingConn{Conn: tr.conn}
		tr.conn = cc
		if tr.raw != nil {
			tr.raw = countingRaw{tr.raw, cc}
		}
		go serve(tr, cc)
	}))
	t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func readN(t *testing.T, ws *websocket.Conn, n int) [][]byte {
	t.Helper()
	var got [][]byte
	for len(got) < n {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d frames: %v", len(got), err)
		}
		got = append(got, b)
	}
	return got
}

// The 101 response and every frame queued while the token was held leave
// in a single write, and a stock client reads them back in order.
func TestTransport_QueuedFramesShareOneWrite(t *testing.T) {
	writes := make(chan int64, 1)
	ws := transportPair(t, func(tr *transport, cc *countingConn) {
		for i := range 10 {
			tr.push([]byte{'0' + byte(i)})
		}
		tr.release()
		time.Sleep(200 * time.Millisecond)
		writes <- cc.writes.Load()
	})
	got := readN(t, ws, 10)
	for i, b := range got {
		if string(b) != string([]byte{'0' + byte(i)}) {
			t.Fatalf("frame %d = %q", i, b)
		}
	}
	// The handshake went through wireConn (not counted: it was written
	// before the counter was installed) and the frames through one write.
	if n := <-writes; n != 1 {
		t.Fatalf("10 queued frames took %d writes, want 1", n)
	}
}

// Every WebSocket length encoding (7-bit, 16-bit, 64-bit) reaches a stock
// client intact, including payloads larger than one batch.
func TestTransport_FrameLengths(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000, 200000}
	payload := func(n int) []byte { return bytes.Repeat([]byte{byte('a' + n%26)}, n) }
	ws := transportPair(t, func(tr *transport, _ *countingConn) {
		for _, n := range sizes {
			tr.push(payload(n))
		}
		tr.release()
	})
	for i, b := range readN(t, ws, len(sizes)) {
		if !bytes.Equal(b, payload(sizes[i])) {
			t.Fatalf("frame %d: %d bytes, want %d", i, len(b), sizes[i])
		}
	}
}

// A full queue refuses the frame (the caller drops the slow consumer).
func TestTransport_QueueBound(t *testing.T) {
	tr := newTransport(2, false, false, time.Second, nil)
	if !tr.push([]byte("a")) || !tr.push([]byte("b")) {
		t.Fatal("push within the bound refused")
	}
	if tr.push([]byte("c")) {
		t.Fatal("push past the bound accepted")
	}
}

// abort drops what is queued and sends the close frame instead.
func TestTransport_AbortSendsCloseFirst(t *testing.T) {
	ws := transportPair(t, func(tr *transport, _ *countingConn) {
		tr.push([]byte("queued"))
		tr.abort(websocket.CloseTryAgainLater, "slow")
		tr.release()
	})
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("got frame %q err %v, want close 1013", b, err)
	}
}

// A heartbeat goes out after maxIdle of silence, counted from the last
// write: a frame sent just before the first beat was due postpones it.
func TestTransport_HeartbeatAfterSilence(t *testing.T) {
	const maxIdle = 300 * time.Millisecond
	ws := transportPair(t, func(tr *transport, _ *countingConn) {
		tr.startHeartbeats([]byte("hb"), maxIdle)
		tr.release()
		time.Sleep(maxIdle / 2)
		tr.push([]byte("data"))
	})
	got := readN(t, ws, 1)
	at := time.Now()
	if string(got[0]) != "data" {
		t.Fatalf("first frame %q, want data (a heartbeat came before maxIdle)", got[0])
	}
	got = readN(t, ws, 1)
	if string(got[0]) != "hb" {
		t.Fatalf("second frame %q, want hb", got[0])
	}
	if gap := time.Since(at); gap < maxIdle/2 {
		t.Fatalf("heartbeat %v after the last frame, want about %v", gap, maxIdle)
	}
}

// A client that does not read fills its socket; the flusher hands that
// connection to a goroutine of its own and goes on serving the others,
// and the stalled client later gets every byte, in order.
func TestTransport_SlowSocketDoesNotStallOthers(t *testing.T) {
	h := New(Config{}, Deps{})
	h.flush.stop()
	h.flush = startFlushers(1) // one flusher: a blocked one would stall everything
	t.Cleanup(func() { h.flush.stop() })
	const frames, size = 300, 64 << 10 // far more than loopback socket buffers hold
	frame := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	slow := transportPairOn(t, h, frames, func(tr *transport, _ *countingConn) {
		for i := range frames {
			tr.push(frame(i))
		}
		tr.release()
	})
	time.Sleep(200 * time.Millisecond) // the slow socket is full by now
	fast := transportPairOn(t, h, 16, func(tr *transport, _ *countingConn) {
		tr.push([]byte("hi"))
		tr.release()
	})
	if got := readN(t, fast, 1); string(got[0]) != "hi" {
		t.Fatalf("fast client got %q", got[0])
	}
	for i, b := range readN(t, slow, frames) {
		if !bytes.Equal(b, frame(i)) {
			t.Fatalf("slow client frame %d corrupted or out of order", i)
		}
	}
}
