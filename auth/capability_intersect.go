package auth

import (
	"strings"

	"github.com/heraldrt/herald"
)

// Intersect derives a token's capability from its key's (ably-auth §5.5); the
// same rule applies to a JWT's x-ably-capability. requested == nil means no
// capability was asked for: the result is key itself, so Raw keeps the key's
// exact text (op order included), as SDK tests expect. So does a request
// that grants everything the key grants: ably-js's "Equal intersection" test
// requests the key's own capability and compares op lists in the key's
// order, and ably-go requests {"*":["*"]} when the user asked for nothing.
//
// Otherwise every (key resource, requested resource) pair is met: the result
// holds, for each pair whose channel sets and op lists overlap, the pattern
// matching exactly the channels both match, with the ops both grant ("*" only
// when both sides say "*"). When one pattern covers the other, that is the
// more specific of the two, kept as written (§5.5: key "*" and requested
// "cansubscribe:*" give "cansubscribe:*"); for partly overlapping wildcards
// (key "foo:*", requested "*:bar") it is their segment-wise meet "foo:bar"
// (§12.11 leaves this open; see docs/decisions.md). Pairs giving
// the same resource merge their ops. So for every channel and op the result
// grants exactly what both the key and the request grant, never more.
//
// Otherwise the result is canonical (Raw == Canonical). An empty result is a
// *herald.Error 40160/401 (§4.6, §5.5); a result over the capability limits is
// a 40000/400 error.
func Intersect(key, requested *Capability) (*Capability, error) {
	if key == nil {
		return nil, herald.NewError(herald.CodeCapabilityDenied, "capability intersection is empty: the key has no capability")
	}
	if requested == nil || coveredBy(key, requested) {
		return key, nil
	}
	return meetCapabilities(key, requested)
}

// meetCapabilities is Intersect's general path: the pairwise meet.
func meetCapabilities(key, requested *Capability) (*Capability, error) {
	type acc struct {
		ops OpSet
		all bool
		pat resPattern
	}
	out := make(map[string]*acc)
	for i := range key.entries {
		k := &key.entries[i]
		for j := range requested.entries {
			r := &requested.entries[j]
			ops, all := meetOps(k, r)
			if ops == 0 {
				continue
			}
			res, p, ok := meetResources(k, r)
			if !ok {
				continue
			}
			if a := out[res]; a != nil {
				a.ops |= ops
				a.all = a.all || all
				continue
			}
			if len(out) == MaxCapabilityResources {
				return nil, invalidCapability("intersection has more than %d resources", MaxCapabilityResources)
			}
			out[res] = &acc{ops: ops, all: all, pat: p}
		}
	}
	if len(out) == 0 {
		return nil, herald.NewError(herald.CodeCapabilityDenied,
			"capability intersection is empty: no requested resource and operation is granted by the key (requested resources: "+
				quoteNames(requested.Resources())+")")
	}
	entries := make([]capEntry, 0, len(out))
	for res, a := range out {
		if a.all {
			a.ops = AllOps
		}
		entries = append(entries, capEntry{resource: res, pat: a.pat, ops: a.ops, all: a.all})
	}
	c := newCapability("", entries)
	if len(c.canonical) > MaxCapabilityBytes {
		return nil, invalidCapability("intersection is larger than %d bytes", MaxCapabilityBytes)
	}
	return c, nil
}

// coveredBy reports whether every key resource is covered, with its ops, by
// a single requested resource, so that key ∩ requested is key itself. (A key
// resource covered only by a union of requested ones takes the general path;
// the result is equivalent, only spelled canonically.)
func coveredBy(key, requested *Capability) bool {
	for i := range key.entries {
		k := &key.entries[i]
		found := false
		for j := range requested.entries {
			r := &requested.entries[j]
			if (r.all || !k.all && k.ops&^r.ops == 0) && patternCovers(&r.pat, &k.pat) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// meetOps intersects two op lists with "*" expanded (§5.5): the result is
// "*" only when both are, so requested ["*"] with key ["publish","subscribe"]
// gives ["publish","subscribe"].
func meetOps(a, b *capEntry) (OpSet, bool) {
	return a.ops & b.ops, a.all && b.all
}

// meetResources returns the resource matching exactly the channels that both
// k and r match, with its pattern, or false when they share none. A covered
// resPattern is returned as written (the requested one when they are equal, so
// a request's [?params] spelling survives); otherwise the meet is built.
func meetResources(k, r *capEntry) (string, resPattern, bool) {
	switch {
	case patternCovers(&k.pat, &r.pat):
		return r.resource, r.pat, true
	case patternCovers(&r.pat, &k.pat):
		return k.resource, k.pat, true
	}
	c, ok := meetClass(k.pat.class, r.pat.class)
	if !ok {
		return "", resPattern{}, false
	}
	segs, ok := meetSegs(k.pat.segs, r.pat.segs)
	if !ok {
		return "", resPattern{}, false
	}
	res := qualifierFor(c) + strings.Join(segs, ":")
	if len(res) > MaxChannelNameBytes {
		// Only two long patterns can meet in something this long; it can
		// match no channel of a valid length in practice, and dropping it
		// keeps every result re-parseable and never grants more.
		return "", resPattern{}, false
	}
	return res, newResPattern(c, segs), true
}

// patternCovers reports whether every channel q matches is matched by p.
func patternCovers(p, q *resPattern) bool {
	if p.class != classAny && p.class != q.class {
		return false
	}
	P, Q := p.segs, q.segs
	if !p.trailing {
		// p matches exactly len(P) segments, so q must too, segment-wise
		// within p. A literal segment is never "*", so P[i] == Q[i] only
		// lets a "*" in q through where p has "*" as well.
		if q.trailing || len(Q) != len(P) {
			return false
		}
		for i := range P {
			if P[i] != wildSeg && P[i] != Q[i] {
				return false
			}
		}
		return true
	}
	// p matches len(P) or more segments with the last ones free; q must need
	// at least as many, and agree on p's constrained ones (all but p's last).
	if len(Q) < len(P) {
		return false
	}
	for i := 0; i < len(P)-1; i++ {
		if P[i] != wildSeg && P[i] != Q[i] {
			return false
		}
	}
	return true
}

// meetClass intersects two resource classes.
func meetClass(a, b resClass) (resClass, bool) {
	switch {
	case a == classAny:
		return b, true
	case b == classAny, a == b:
		return a, true
	}
	return 0, false
}

// meetSegs returns the segments matching exactly the names both P and Q
// match. Every position of a pattern is either one literal or "anything", so
// the meet is always expressible: it is fixed-length when either side is
// (and long enough), else trailing with the longer side's length.
func meetSegs(P, Q []string) ([]string, bool) {
	pt, qt := P[len(P)-1] == wildSeg, Q[len(Q)-1] == wildSeg
	if pt && (!qt || len(P) > len(Q)) {
		// Make P the fixed one, or the shorter of two trailing ones.
		P, Q, pt, qt = Q, P, qt, pt
	}
	var out []string
	switch {
	case !pt && !qt:
		if len(P) != len(Q) {
			return nil, false
		}
		out = make([]string, len(P))
		for i := range P {
			s, ok := meetSeg(P[i], Q[i])
			if !ok {
				return nil, false
			}
			out[i] = s
		}
	case !pt: // P fixed with n segments, Q trailing with m <= n
		if len(P) < len(Q) {
			return nil, false
		}
		out = make([]string, len(P))
		for i := range P {
			s, ok := P[i], true
			if i < len(Q)-1 {
				s, ok = meetSeg(P[i], Q[i])
			}
			if !ok {
				return nil, false
			}
			out[i] = s
		}
	default: // both trailing, len(P) <= len(Q): Q's length, P's constraints
		out = make([]string, len(Q))
		for i := range Q {
			s, ok := Q[i], true
			if i < len(P)-1 {
				s, ok = meetSeg(P[i], Q[i])
			}
			if !ok {
				return nil, false
			}
			out[i] = s
		}
	}
	return out, true
}

// meetSeg intersects two single-segment tokens.
func meetSeg(a, b string) (string, bool) {
	switch {
	case a == wildSeg:
		return b, true
	case b == wildSeg, a == b:
		return a, true
	}
	return "", false
}
