package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// FanoutConfig is Channels channels, each with one publisher and
// Subscribers subscribers, and Messages messages published per channel.
type FanoutConfig struct {
	Channels    int // default 1
	Subscribers int // per channel
	Messages    int // per channel
	// Rate is messages per second per channel; 0 publishes flat out.
	Rate float64
	// Window bounds a flat-out publisher: it sends message i only once
	// every subscriber of its channel has received message i-Window, so
	// that no subscriber falls behind by more than the server's send queue
	// (512 frames) and gets dropped as a slow consumer. Default 200.
	Window int
	// Size is the payload length in bytes (at least the marker). Default 100.
	Size int
	// Drain bounds the wait for deliveries after the last publish (and
	// any publisher stall). Default 10 s.
	Drain time.Duration
}

func (c *FanoutConfig) defaults() {
	if c.Channels <= 0 {
		c.Channels = 1
	}
	if c.Window <= 0 {
		c.Window = 200
	}
	if c.Size <= 0 {
		c.Size = 100
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
	}
}

// epoch is the time base of payload timestamps: publisher and subscribers
// live in this process, so the monotonic clock serves both.
var epoch = time.Now()

// fanChannel is one channel's bookkeeping.
type fanChannel struct {
	name      string
	subs      int32
	counts    []atomic.Int32 // subscribers that received message i
	completed chan int       // i, once every subscriber has it
}

// fanStats are the totals over every subscriber.
type fanStats struct {
	received, gaps, dups atomic.Int64
	lastDone             atomic.Int64 // unix ns when a subscriber completed last
	done                 sync.WaitGroup
}

// fanRun is one fanout run's connections and counters.
type fanRun struct {
	e                 *Env
	cfg               FanoutConfig
	chans             []*fanChannel
	subs, pubs        []*Conn
	live              int // connected subscribers
	st                fanStats
	lat               Histogram
	errs              ErrorCounts
	acks, nacks, sent atomic.Int64
	readers           sync.WaitGroup
	reading           bool // startReaders ran
}

// Fanout publishes and reports deliveries/s, publish→receive latency
// (timestamps in the payload), lost and duplicated messages, and the
// server's CPU per delivery.
func (e *Env) Fanout(ctx context.Context, cfg FanoutConfig) (*Result, error) {
	cfg.defaults()
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	mode := "flat"
	if cfg.Rate > 0 {
		mode = strconv.FormatFloat(cfg.Rate, 'f', -1, 64) + "/s"
	}
	res := newResult("fanout", map[string]string{
		"channels": strconv.Itoa(cfg.Channels), "subscribers": strconv.Itoa(cfg.Subscribers),
		"messages": strconv.Itoa(cfg.Messages), "rate": mode, "size": strconv.Itoa(cfg.Size),
		"window": strconv.Itoa(cfg.Window), "auth": e.Auth, "format": e.Format.String(),
	})
	r := &fanRun{e: e, cfg: cfg}
	if err := r.connect(ctx); err != nil {
		r.close()
		return nil, err
	}
	r.startReaders()
	if err := e.Profiler.StartCPU(ctx); err != nil {
		r.close()
		return nil, err
	}
	sp := e.begin()
	start := time.Now()
	stop := e.progress("fanout", func() string {
		return fmt.Sprintf("%d/%d published, %d/%d delivered", r.sent.Load(), cfg.Channels*cfg.Messages,
			r.st.received.Load(), r.live*cfg.Messages)
	})
	r.publish(ctx, start)
	stop()
	cost := sp.end()
	perr := e.Profiler.StopCPU(ctx, "fanout")
	r.report(res, start, cost)
	r.close()
	res.Errors = r.errs.Snapshot()
	return res, perr
}

// connect opens the subscribers (attached with SUBSCRIBE only) and one
// publisher per channel (PUBLISH only, echo off).
func (r *fanRun) connect(ctx context.Context) error {
	e, cfg := r.e, r.cfg
	nsubs := cfg.Channels * cfg.Subscribers
	creds, err := PrepareCredentials(ctx, e.REST(), e.Auth, e.Keys.Key, "", nsubs)
	if err != nil {
		return err
	}
	r.chans = make([]*fanChannel, cfg.Channels)
	for i := range r.chans {
		r.chans[i] = &fanChannel{name: fmt.Sprintf("bench-fanout-%d", i), subs: int32(cfg.Subscribers),
			counts: make([]atomic.Int32, cfg.Messages), completed: make(chan int, cfg.Messages)}
	}
	r.subs = e.openConns(ctx, "fanout subscribers", nsubs, dialSpec{creds: creds,
		channel: func(i int) string { return r.chans[i%cfg.Channels].name }, modes: protocol.FlagSubscribe}, nil, &r.errs)
	pubCreds, _ := PrepareCredentials(ctx, e.REST(), AuthKey, e.Keys.Key, "", 1)
	r.pubs = e.openConns(ctx, "fanout publishers", cfg.Channels, dialSpec{creds: pubCreds,
		channel: func(i int) string { return r.chans[i].name }, modes: protocol.FlagPublish,
		extra: url.Values{"echo": {"false"}}}, nil, &r.errs)
	for i, c := range r.pubs {
		if c == nil {
			return fmt.Errorf("loadgen: publisher %d could not connect: %v", i, r.errs.Snapshot())
		}
	}
	// A subscriber that failed to connect does not count towards its
	// channel's completion.
	for i, c := range r.subs {
		if c == nil {
			r.chans[i%cfg.Channels].subs--
		} else {
			r.live++
		}
	}
	return nil
}

func (r *fanRun) startReaders() {
	r.reading = true
	for i, c := range r.subs {
		if c == nil {
			continue
		}
		ch := r.chans[i%r.cfg.Channels]
		r.st.done.Add(1)
		r.readers.Add(1)
		go func() {
			defer r.readers.Done()
			r.e.fanReader(c, ch, r.cfg.Messages, &r.lat, &r.st, &r.errs)
		}()
	}
	for _, c := range r.pubs {
		r.readers.Add(1)
		go func() {
			defer r.readers.Done()
			ackReader(c, &r.acks, &r.nacks, &r.errs)
		}()
	}
}

// publish runs every publisher, then waits until every subscriber has
// every message or cfg.Drain passes.
func (r *fanRun) publish(ctx context.Context, start time.Time) {
	var wg sync.WaitGroup
	for i, c := range r.pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.e.publisher(ctx, c, r.chans[i], r.cfg, start, &r.sent, &r.errs)
		}()
	}
	wg.Wait()
	allDone := make(chan struct{})
	go func() { r.st.done.Wait(); close(allDone) }()
	select {
	case <-allDone:
	case <-time.After(r.cfg.Drain):
	case <-ctx.Done():
	}
}

func (r *fanRun) report(res *Result, start time.Time, cost serverCost) {
	cfg := r.cfg
	received := r.st.received.Load()
	expected := int64(r.live) * int64(cfg.Messages)
	wall := time.Since(start)
	if last := r.st.lastDone.Load(); last > 0 && received == expected {
		wall = time.Duration(last - start.UnixNano())
	}
	res.Add("subscribers", float64(r.live), "conns")
	res.Add("failed", float64(len(r.subs)-r.live), "conns")
	res.Add("published", float64(r.sent.Load()), "msgs")
	res.Add("acked", float64(r.acks.Load()), "msgs")
	res.Add("deliveries", float64(received), "msgs")
	res.Add("lost", float64(expected-received), "msgs")
	res.Add("duplicates", float64(r.st.dups.Load()), "msgs")
	res.Add("wall", wall.Seconds(), "s")
	res.Add("delivery_rate", float64(received)/wall.Seconds(), "msgs/s")
	res.addLatency("latency", &r.lat)
	res.addServer(cost, "delivery", float64(received))
	r.errs.AddN("lost", expected-received)
	r.errs.AddN("duplicate", r.st.dups.Load())
	r.errs.AddN("nack", r.nacks.Load())
	r.errs.AddN("unpublished", int64(cfg.Channels*cfg.Messages)-r.sent.Load())
}

// close sends CLOSE on every connection and waits (at most 5 s) for the
// readers to see the sockets end.
func (r *fanRun) close() {
	all := append(append([]*Conn(nil), r.subs...), r.pubs...)
	if !r.reading {
		r.e.closeConns(all)
		return
	}
	for _, c := range all {
		if c != nil {
			_ = c.RequestClose()
		}
	}
	closed := make(chan struct{})
	go func() { r.readers.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		for _, c := range all {
			if c != nil {
				c.Abort()
			}
		}
		r.readers.Wait()
	}
}

// publisher sends cfg.Messages messages on ch, paced at cfg.Rate or
// flat out within cfg.Window of the slowest subscriber.
func (e *Env) publisher(ctx context.Context, c *Conn, ch *fanChannel, cfg FanoutConfig, start time.Time, sent *atomic.Int64, errs *ErrorCounts) {
	buf := make([]byte, 0, cfg.Size+32)
	through := -1 // every subscriber has every message up to here
	stall := time.NewTimer(cfg.Drain)
	defer stall.Stop()
	for i := 0; i < cfg.Messages; i++ {
		if ctx.Err() != nil {
			return
		}
		if cfg.Rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		} else {
			stall.Reset(cfg.Drain)
			for through < i-cfg.Window {
				select {
				case j := <-ch.completed:
					through = max(through, j)
				case <-stall.C:
					errs.Add("publisher-stall")
					return
				case <-ctx.Done():
					return
				}
			}
		}
		buf = AppendMarker(buf[:0], i, time.Since(epoch), cfg.Size)
		err := c.Send(&protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: ch.name, MsgSerial: int64(i),
			Messages: []*herald.Message{{Name: "b", Data: herald.Data{Kind: herald.DataString, Bytes: buf}}}})
		if err != nil {
			errs.AddErr(err)
			return
		}
		sent.Add(1)
	}
}

// ackReader counts a publisher's ACKs and NACKs until it closes.
func ackReader(c *Conn, acks, nacks *atomic.Int64, errs *ErrorCounts) {
	defer c.Abort()
	for {
		pm, err := c.Read(time.Now().Add(2 * time.Minute))
		if err != nil {
			if !c.Closing() {
				errs.AddErr(err)
			}
			return
		}
		switch pm.Action {
		case protocol.ActionAck:
			acks.Add(int64(max(pm.Count, 1)))
		case protocol.ActionNack:
			nacks.Add(int64(max(pm.Count, 1)))
			if pm.Error != nil {
				errs.AddErr(pm.Error)
			}
		case protocol.ActionClosed:
			return
		case protocol.ActionDisconnected, protocol.ActionError:
			if !c.Closing() && pm.Error != nil {
				errs.AddErr(pm.Error)
			}
			return
		}
	}
}

// fanReader reads one subscriber until it closes. It checks that messages
// arrive in order, once each, and records their latency.
func (e *Env) fanReader(c *Conn, ch *fanChannel, total int, lat *Histogram, st *fanStats, errs *ErrorCounts) {
	defer c.Abort()
	next, received := 0, 0
	finished := false
	finish := func() {
		if !finished {
			finished = true
			st.lastDone.Store(time.Now().UnixNano())
			st.done.Done()
		}
	}
	defer finish()
	for {
		b, err := c.ReadRaw(time.Now().Add(2 * time.Minute))
		if err != nil {
			if !c.Closing() {
				errs.AddErr(err)
			}
			return
		}
		seq, stamp, ok := ParseMarker(b)
		if !ok || e.Verify {
			var stop bool
			if seq, stamp, ok, stop = e.slowFrame(c, ch, b, errs); stop {
				return
			}
			if !ok {
				continue
			}
		}
		if seq < 0 || seq >= total {
			errs.Add("bad-seq")
			continue
		}
		lat.Record(time.Since(epoch) - stamp)
		switch {
		case seq < next:
			st.dups.Add(1)
			continue
		case seq > next:
			st.gaps.Add(int64(seq - next))
		}
		next = seq + 1
		received++
		st.received.Add(1)
		if ch.counts[seq].Add(1) == ch.subs {
			select {
			case ch.completed <- seq:
			default:
			}
		}
		if received == total {
			finish()
		}
	}
}

// slowFrame decodes a frame that is not a fast-path delivery (or every
// frame in Verify mode). ok reports a checked delivery; stop ends the reader.
func (e *Env) slowFrame(c *Conn, ch *fanChannel, b []byte, errs *ErrorCounts) (seq int, stamp time.Duration, ok, stop bool) {
	pm, err := protocol.Decode(e.Format, b)
	if err != nil {
		errs.Add("decode")
		return 0, 0, false, false
	}
	switch pm.Action {
	case protocol.ActionMessage:
		if pm.Channel != ch.name || len(pm.Messages) != 1 || pm.ChannelSerial == "" || pm.Messages[0].Data.Kind != herald.DataString {
			errs.Add("bad-frame")
			return 0, 0, false, false
		}
		seq, stamp, ok = ParseMarker(pm.Messages[0].Data.Bytes)
		if !ok {
			errs.Add("bad-payload")
		}
		return seq, stamp, ok, false
	case protocol.ActionClosed:
		return 0, 0, false, true
	case protocol.ActionDisconnected, protocol.ActionError:
		if !c.Closing() {
			if pm.Error != nil {
				errs.AddErr(pm.Error)
			} else {
				errs.Add(pm.Action.String())
			}
		}
		return 0, 0, false, true
	}
	return 0, 0, false, false
}

var marker = []byte("~B~")

// AppendMarker appends a payload "~B~<seq>~<stamp ns>~" padded with 'x'
// to size bytes. '~' appears in no id, serial or channel name Herald
// writes, so the marker can be found in a raw JSON or msgpack frame.
func AppendMarker(dst []byte, seq int, stamp time.Duration, size int) []byte {
	start := len(dst)
	dst = append(dst, marker...)
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, '~')
	dst = strconv.AppendInt(dst, int64(stamp), 10)
	dst = append(dst, '~')
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// ParseMarker finds a payload marker in b and returns its sequence number
// and timestamp.
func ParseMarker(b []byte) (seq int, stamp time.Duration, ok bool) {
	i := bytes.Index(b, marker)
	if i < 0 {
		return 0, 0, false
	}
	b = b[i+len(marker):]
	s, b, ok1 := parseField(b)
	t, _, ok2 := parseField(b)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return int(s), time.Duration(t), true
}

func parseField(b []byte) (int64, []byte, bool) {
	var n int64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
		case c == '~' && i > 0:
			return n, b[i+1:], true
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}
