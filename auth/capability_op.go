package auth

import (
	"math/bits"
	"strconv"
	"strings"
)

// Op is one capability operation (ably-auth §5.2). The zero Op is not an
// operation: Allows never grants it, so a forgotten initialisation denies.
type Op uint8

// The operations, numbered in the lexicographic order of their wire names so
// that walking an OpSet's bits from low to high yields the sorted op list the
// canonical form needs (§5.1) without a sort.
const (
	OpAnnotationPublish   Op = iota + 1 // annotation-publish
	OpAnnotationSubscribe               // annotation-subscribe
	OpChannelMetadata                   // channel-metadata
	OpHistory                           // history
	OpMessageDeleteAny                  // message-delete-any
	OpMessageDeleteOwn                  // message-delete-own
	OpMessageUpdateAny                  // message-update-any
	OpMessageUpdateOwn                  // message-update-own
	OpObjectPublish                     // object-publish
	OpObjectSubscribe                   // object-subscribe
	OpPresence                          // presence
	OpPrivilegedHeaders                 // privileged-headers
	OpPublish                           // publish
	OpPushAdmin                         // push-admin
	OpPushSubscribe                     // push-subscribe
	OpStats                             // stats
	OpSubscribe                         // subscribe

	opEnd // one past the last operation
)

var opNames = [opEnd]string{
	OpAnnotationPublish:   "annotation-publish",
	OpAnnotationSubscribe: "annotation-subscribe",
	OpChannelMetadata:     "channel-metadata",
	OpHistory:             "history",
	OpMessageDeleteAny:    "message-delete-any",
	OpMessageDeleteOwn:    "message-delete-own",
	OpMessageUpdateAny:    "message-update-any",
	OpMessageUpdateOwn:    "message-update-own",
	OpObjectPublish:       "object-publish",
	OpObjectSubscribe:     "object-subscribe",
	OpPresence:            "presence",
	OpPrivilegedHeaders:   "privileged-headers",
	OpPublish:             "publish",
	OpPushAdmin:           "push-admin",
	OpPushSubscribe:       "push-subscribe",
	OpStats:               "stats",
	OpSubscribe:           "subscribe",
}

// ParseOp returns the operation named s. The wildcard "*" is not an Op (it
// is a property of a whole op list, see AllOps), so ParseOp("*") reports false,
// as does any family pattern such as "object-*" (§5.2 treats those as invalid).
func ParseOp(s string) (Op, bool) {
	for op := OpAnnotationPublish; op < opEnd; op++ {
		if opNames[op] == s {
			return op, true
		}
	}
	return 0, false
}

// String returns the operation's wire name, or "Op(n)" for a value that is not
// an operation.
func (op Op) String() string {
	if op > 0 && op < opEnd {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// bit returns op's bit in an OpSet, or 0 for a value that is not an operation
// so that it can never be granted.
func (op Op) bit() OpSet {
	if op > 0 && op < opEnd {
		return 1 << op
	}
	return 0
}

// OpSet is a set of operations as a bitmask: what a capability grants on one
// channel (Modes), from which the realtime layer derives ATTACHED mode flags.
type OpSet uint32

// AllOps is the set of every operation; it is what an op list of ["*"] grants.
const AllOps OpSet = (1<<opEnd - 1) &^ 1

// OpSetOf returns the set holding ops.
func OpSetOf(ops ...Op) OpSet {
	var s OpSet
	for _, op := range ops {
		s |= op.bit()
	}
	return s
}

// Has reports whether op is in s.
func (s OpSet) Has(op Op) bool { b := op.bit(); return b != 0 && s&b != 0 }

// Len returns the number of operations in s.
func (s OpSet) Len() int { return bits.OnesCount32(uint32(s & AllOps)) }

// Names returns the wire names of the operations in s, sorted.
func (s OpSet) Names() []string {
	out := make([]string, 0, s.Len())
	for op := OpAnnotationPublish; op < opEnd; op++ {
		if s&op.bit() != 0 {
			out = append(out, opNames[op])
		}
	}
	return out
}

// String returns s as a JSON array of sorted op names, e.g.
// ["publish","subscribe"]; the form error messages and Explain use.
func (s OpSet) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range s.Names() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(n)
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}
