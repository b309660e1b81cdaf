package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations with a relative error under 1% (128 linear
// sub-buckets per power of two, as HdrHistogram does) in fixed memory. It
// is safe for concurrent use: Record is a few atomic adds, so one histogram
// can be shared by thousands of reader goroutines.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 7
	subCount    = 1 << subBits
	maxExp      = 40 - subBits // values are capped at 2^40 ns (about 18 minutes)
	histBuckets = (maxExp + 2) * subCount
	maxValue    = int64(1)<<40 - 1
)

func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	exp := bits.Len64(uint64(v)) - subBits - 1
	return (exp+1)*subCount + int(v>>exp) - subCount
}

// bucketValue returns the middle of bucket i's range.
func bucketValue(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	exp := i/subCount - 1
	lo := int64(i%subCount+subCount) << exp
	return lo + (int64(1)<<exp)/2
}

// Record adds one duration; negative values count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > maxValue {
		v = maxValue
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the mean, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value at quantile q (0..1): the smallest recorded
// bucket at or below which a fraction q of the values lie. It returns 0
// when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := bucketValue(i)
			if m := h.max.Load(); v > m {
				v = m
			}
			return time.Duration(v)
		}
	}
	return h.Max()
}
