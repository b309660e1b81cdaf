package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat. Linux exports
// these in USER_HZ, which is 100 on every architecture Go supports
// (proc(5)), independently of the kernel's internal tick.
const userHZ = 100

// Probe samples the server process's CPU time and resident memory from
// /proc. A zero PID disables it: Sample then reports ok = false, and
// scenarios leave the server-side figures out.
type Probe struct {
	PID int
}

// Sample is one reading of the server process.
type Sample struct {
	CPU time.Duration // utime + stime, all threads
	Sys time.Duration // stime alone (kernel: syscalls, and on loopback the TCP receive path)
	RSS int64         // resident set, bytes
	At  time.Time
}

// Sample reads the process's counters now.
func (p Probe) Sample() (s Sample, ok bool, err error) {
	if p.PID <= 0 {
		return Sample{}, false, nil
	}
	s.At = time.Now()
	if s.CPU, s.Sys, err = ProcCPU(p.PID); err != nil {
		return s, false, err
	}
	if s.RSS, err = ProcRSS(p.PID); err != nil {
		return s, false, err
	}
	return s, true, nil
}

// ProcCPU returns utime + stime and stime alone of pid (every thread,
// children excluded) from /proc/<pid>/stat fields 14 and 15.
func ProcCPU(pid int) (total, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatCPU(b)
}

func parseStatCPU(b []byte) (total, sys time.Duration, err error) {
	// The command name (field 2) is in parentheses and may contain spaces
	// and ')': fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("loadgen: /proc stat without a command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("loadgen: /proc stat has %d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("loadgen: /proc stat utime %q stime %q", f[11], f[12])
	}
	tick := time.Second / userHZ
	return time.Duration(ut+st) * tick, time.Duration(st) * tick, nil
}

// ProcRSS returns VmRSS of pid in bytes (/proc/<pid>/status).
func ProcRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(b)
}

func parseStatusRSS(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("loadgen: no VmRSS line in /proc status")
}
