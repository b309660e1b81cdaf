package herald

import "time"

// Clock tells the time. Every time-dependent rule (token expiry, TokenRequest
// windows, stats intervals) reads it, so tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// UnixMilli returns t in milliseconds since the Unix epoch, the unit of every
// Ably wire timestamp except JWT iat/exp.
func UnixMilli(t time.Time) int64 { return t.UnixMilli() }
