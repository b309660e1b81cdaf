//go:build unix

package realtime

import "syscall"

// writeNonblocking writes as much of p as the socket takes now, without
// waiting: errWouldBlock (with n < len(p)) when its buffer is full.
func writeNonblocking(rc syscall.RawConn, p []byte) (n int, err error) {
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				werr = errWouldBlock
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				werr = errWouldBlock
				return true
			}
			n += m
		}
		return true // done: never wait for the socket here
	})
	if err != nil {
		return n, err
	}
	return n, werr
}
