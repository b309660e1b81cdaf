package auth

import (
	"slices"
	"strings"

	"github.com/heraldrt/herald"
)

// capMatcher is a capability compiled for the per-message checks (§5.4): every
// resource is sorted, per channel class, into the cheapest structure that can
// answer for it, so that Allows is a couple of map lookups plus a walk over
// the few wildcard patterns sharing the channel's first segment, with no
// allocation. [*] resources are copied into all three classes at compile
// time, which is how "[*]*" comes to match plain channels (§5.3).
type capMatcher struct {
	// classOps is everything any resource grants in the class: an op outside
	// it is denied without looking further.
	classOps [numClasses]OpSet
	// every holds the ops of resources matching every name in the class
	// ("*", "[meta]*", "[*]*").
	every [numClasses]OpSet
	// exact maps a base name to the ops of the wildcard-free resources for it.
	exact [numClasses]map[string]OpSet
	// Other wildcard resources, by literal first segment, and those whose
	// first segment is "*".
	byFirst  [numClasses]map[string][]capWildEntry
	anyFirst [numClasses][]capWildEntry
	// appWide is what "*" and "[*]*" grant, for app-wide operations.
	appWide OpSet
}

type capWildEntry struct {
	segs []string
	ops  OpSet
}

func compileMatcher(entries []capEntry) capMatcher {
	var m capMatcher
	for i := range entries {
		e := &entries[i]
		p := &e.pat
		if p.appWide() {
			m.appWide |= e.ops
		}
		for _, c := range classesOf(p.class) {
			m.classOps[c] |= e.ops
			switch {
			case len(p.segs) == 1 && p.trailing:
				m.every[c] |= e.ops
			case p.exact():
				if m.exact[c] == nil {
					m.exact[c] = make(map[string]OpSet)
				}
				m.exact[c][strings.Join(p.segs, ":")] |= e.ops
			case p.segs[0] == wildSeg:
				m.anyFirst[c] = append(m.anyFirst[c], capWildEntry{p.segs, e.ops})
			default:
				if m.byFirst[c] == nil {
					m.byFirst[c] = make(map[string][]capWildEntry)
				}
				m.byFirst[c][p.segs[0]] = append(m.byFirst[c][p.segs[0]], capWildEntry{p.segs, e.ops})
			}
		}
	}
	return m
}

// Allows reports whether the capability grants op on channel (§5.4): some
// resource matching the channel lists op or "*". A nil capability grants
// nothing. Channel names are not fully validated here (no length or line
// break checks): transports call ValidateChannelName first. It does not
// allocate.
func (c *Capability) Allows(channel string, op Op) bool {
	if c == nil {
		return false
	}
	cls, name, problem := splitQualifier(channel, false)
	if problem != nameOK {
		return false
	}
	b := op.bit()
	m := &c.m
	if m.classOps[cls]&b == 0 {
		return false
	}
	if m.every[cls]&b != 0 || m.exact[cls][name]&b != 0 {
		return true
	}
	for _, w := range m.byFirst[cls][firstSegment(name)] {
		if w.ops&b != 0 && matchSegs(w.segs, name) {
			return true
		}
	}
	for _, w := range m.anyFirst[cls] {
		if w.ops&b != 0 && matchSegs(w.segs, name) {
			return true
		}
	}
	return false
}

// Modes returns every operation the capability grants on channel: the union
// over all matching resources. The realtime layer derives the ATTACHED mode
// flags from it, and attach is allowed when it is not empty (§5.2). It does
// not allocate.
func (c *Capability) Modes(channel string) OpSet {
	if c == nil {
		return 0
	}
	cls, name, problem := splitQualifier(channel, false)
	if problem != nameOK {
		return 0
	}
	m := &c.m
	s := m.every[cls] | m.exact[cls][name]
	if s == m.classOps[cls] {
		return s
	}
	for _, w := range m.byFirst[cls][firstSegment(name)] {
		if w.ops&^s != 0 && matchSegs(w.segs, name) {
			s |= w.ops
		}
	}
	for _, w := range m.anyFirst[cls] {
		if w.ops&^s != 0 && matchSegs(w.segs, name) {
			s |= w.ops
		}
	}
	return s
}

// AllowsAppWide reports whether a "*" or "[*]*" resource grants op: app
// stats need "stats" there, and enumerating channels needs
// "channel-metadata" there (§5.2, §5.4 rule 4). Narrower resources such as
// "chat:*" never grant app-wide operations.
func (c *Capability) AllowsAppWide(op Op) bool {
	return c != nil && c.m.appWide&op.bit() != 0
}

// Decision explains one capability check, for 40160 messages and the
// `auth explain` command.
type Decision struct {
	Channel string
	Op      Op
	// Allowed is what Allows(Channel, Op) returns.
	Allowed bool
	// Pattern is the resource that decided: the most specific matching
	// resource granting Op when allowed, else the most specific matching
	// resource; "" when none matches.
	Pattern string
	// Matched lists every resource matching Channel, most specific first.
	Matched []string
	// Granted lists the ops the capability grants on Channel, sorted, or
	// ["*"] when a matching resource grants everything.
	Granted []string
	// Resources lists all the capability's resources when none matched, so
	// the message can show what was available; otherwise nil.
	Resources []string
}

// Explain says whether op is allowed on channel and why. It allocates and is
// meant for error paths and tools, not the per-message path.
func (c *Capability) Explain(channel string, op Op) Decision {
	d := Decision{Channel: channel, Op: op, Allowed: c.Allows(channel, op)}
	if c == nil {
		return d
	}
	cls, name, problem := splitQualifier(channel, false)
	if problem != nameOK {
		return d
	}
	var matched []*capEntry
	for i := range c.entries {
		if e := &c.entries[i]; e.pat.matches(cls, name) {
			matched = append(matched, e)
		}
	}
	if len(matched) == 0 {
		d.Resources = c.Resources()
		return d
	}
	slices.SortStableFunc(matched, func(a, b *capEntry) int { return compareSpecificity(&a.pat, &b.pat) })
	var ops OpSet
	all := false
	for _, e := range matched {
		d.Matched = append(d.Matched, e.resource)
		ops |= e.ops
		all = all || e.all
		if d.Pattern == "" && (!d.Allowed || e.ops.Has(op)) {
			d.Pattern = e.resource
		}
	}
	d.Granted = opNamesOf(ops, all)
	return d
}

// Message renders the decision as one sentence, e.g.
//
//	publish denied on "chat:room1": capability grants ["subscribe"] via "chat:*"
//	subscribe denied on "x": no capability resource matches "x" (resources: "chat:*", "notifications")
func (d Decision) Message() string {
	var b strings.Builder
	b.WriteString(d.Op.String())
	if d.Allowed {
		b.WriteString(" allowed on " + quoteShort(d.Channel) + " via " + quoteShort(d.Pattern))
		return b.String()
	}
	b.WriteString(" denied on " + quoteShort(d.Channel) + ": ")
	switch _, _, reason := checkName(d.Channel, false); {
	case reason != "":
		b.WriteString("channel name " + reason)
	case len(d.Matched) > 0:
		b.WriteString("capability grants " + opListJSON(d.Granted) + " via " + quoteNames(d.Matched))
	case len(d.Resources) > 0:
		b.WriteString("no capability resource matches " + quoteShort(d.Channel) + " (resources: " + quoteNames(d.Resources) + ")")
	default:
		b.WriteString("no capability")
	}
	return b.String()
}

// opListJSON renders op names as a JSON array.
func opListJSON(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSString(&b, n)
	}
	b.WriteByte(']')
	return b.String()
}

// DeniedError returns the error for a refused operation: code 40160, status
// 401 (§5.2, [T] ably-js), with Explain's message. Call it after Allows (or
// Modes) has said no; it does not check again.
func (c *Capability) DeniedError(channel string, op Op) *herald.Error {
	return herald.NewError(herald.CodeCapabilityDenied, c.Explain(channel, op).Message())
}
