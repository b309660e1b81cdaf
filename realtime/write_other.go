//go:build !unix

package realtime

import "syscall"

// writeNonblocking is only available on Unix; elsewhere every batch is
// written by a goroutine of its own.
func writeNonblocking(syscall.RawConn, []byte) (int, error) { return 0, errWouldBlock }
