package auth

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
)

// MaxChannelNameBytes is the longest channel name or capability resource
// accepted, in bytes. Ably recommends names under 2048 characters (ably-auth
// §5.3); bytes rather than characters keep the check O(1) and encoding-free.
const MaxChannelNameBytes = 2048

// resClass is the kind of thing a channel name or resource names, taken from its
// bracket qualifier (§5.3): plain channels, [meta] channels and [queue]s.
type resClass uint8

const (
	classPlain resClass = iota
	classMeta
	classQueue
	numClasses

	// classAny is the [*] qualifier of a resource: every class. It never
	// describes a channel.
	classAny resClass = 255
)

// qualifierFor returns the bracket prefix that writes c in a resource.
func qualifierFor(c resClass) string {
	switch c {
	case classMeta:
		return "[meta]"
	case classQueue:
		return "[queue]"
	case classAny:
		return "[*]"
	}
	return ""
}

// Reasons a channel name or resource is invalid. splitQualifier returns a code,
// not a message, so that the hot path never builds a string.
type nameProblem uint8

const (
	nameOK nameProblem = iota
	nameEmpty
	nameLeadingColon
	nameUnterminated
	nameBadQualifier
	nameNoBase
	nameBaseColon
	nameSecondQualifier
	nameTooLong
	nameLineBreak
)

// describe explains problem p with name s.
func (p nameProblem) describe(s string) string {
	switch p {
	case nameEmpty:
		return "is empty"
	case nameLeadingColon:
		return "starts with ':'"
	case nameUnterminated:
		return "has an unterminated '[' qualifier"
	case nameBadQualifier:
		q := s[:strings.IndexByte(s, ']')+1]
		return "has an unknown qualifier " + quoteShort(q)
	case nameNoBase:
		return "has no name after its qualifier"
	case nameBaseColon:
		return "starts with ':' after its qualifier"
	case nameSecondQualifier:
		return "has a second qualifier"
	case nameTooLong:
		return "is longer than " + strconv.Itoa(MaxChannelNameBytes) + " bytes"
	case nameLineBreak:
		return "contains a line break"
	}
	return "is valid"
}

// splitQualifier splits a channel name or resource into its class and base name,
// dropping any ?params in the qualifier: §5.3 leaves matching of [?rewind=1]x
// undocumented (§12.11) and we match on the base name, as the reference
// recommends. allowAny admits the [*] qualifier, which only resources may
// use. It does no length or line-break checks, so that the hot path can use
// it as it is.
func splitQualifier(s string, allowAny bool) (c resClass, name string, problem nameProblem) {
	if s == "" {
		return 0, "", nameEmpty
	}
	switch s[0] {
	case ':':
		return 0, "", nameLeadingColon
	case '[':
	default:
		return classPlain, s, nameOK
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return 0, "", nameUnterminated
	}
	kind, _, hasParams := strings.Cut(s[1:end], "?")
	switch {
	case kind == "" && hasParams:
		c = classPlain
	case kind == "meta":
		c = classMeta
	case kind == "queue":
		c = classQueue
	case kind == "*" && allowAny:
		c = classAny
	default:
		return 0, "", nameBadQualifier
	}
	name = s[end+1:]
	switch {
	case name == "":
		return 0, "", nameNoBase
	case name[0] == ':':
		return 0, "", nameBaseColon
	case name[0] == '[':
		return 0, "", nameSecondQualifier
	}
	return c, name, nameOK
}

// checkName applies the full channel-name rules (§5.3) shared by channel
// names and resources, returning the class, base name and a failure reason
// ("" when valid).
func checkName(s string, allowAny bool) (resClass, string, string) {
	if len(s) > MaxChannelNameBytes {
		return 0, "", nameTooLong.describe(s)
	}
	if strings.ContainsAny(s, "\n\r") {
		return 0, "", nameLineBreak.describe(s)
	}
	c, name, problem := splitQualifier(s, allowAny)
	if problem != nameOK {
		return 0, "", problem.describe(s)
	}
	return c, name, ""
}

// ValidateChannelName returns nil if name is a valid channel name, else a
// *herald.Error with code 40010 (invalid channel name, §5.3 and §10.1) saying
// why: empty, longer than MaxChannelNameBytes, containing '\n' or '\r',
// starting with ':', or with a qualifier other than [meta], [queue], [?params]
// or [meta?params]/[queue?params] followed by a non-empty name. Transports
// call it before Allows, which skips these checks to stay cheap.
func ValidateChannelName(name string) error {
	if _, _, reason := checkName(name, false); reason != "" {
		return herald.Errorf(herald.CodeInvalidChannelName, "invalid channel name %s: %s", quoteShort(name), reason)
	}
	return nil
}

// quoteShort quotes s for an error message, cutting very long input so that a
// hostile name cannot blow up logs and responses.
func quoteShort(s string) string {
	const max = 100
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}

// wildSeg is the segment that matches whole segments (§5.3).
const wildSeg = "*"

// resPattern is a parsed resource: its class and its ':'-separated segments,
// where a "*" segment matches exactly one segment, or one or more when it is
// the last one. "foo*" is an ordinary literal segment.
type resPattern struct {
	class resClass
	segs  []string
	// Facts used by the specificity order (see compareSpecificity).
	wild     int  // number of "*" segments
	prefix   int  // number of literal segments before the first "*"
	trailing bool // the last segment is "*" (matches one or more)
}

// parseResPattern parses a resource, returning the reason it is invalid if so.
func parseResPattern(resource string) (resPattern, string) {
	c, name, reason := checkName(resource, true)
	if reason != "" {
		return resPattern{}, reason
	}
	return newResPattern(c, strings.Split(name, ":")), ""
}

func newResPattern(c resClass, segs []string) resPattern {
	p := resPattern{class: c, segs: segs, prefix: -1}
	for i, s := range segs {
		if s == wildSeg {
			p.wild++
			if p.prefix < 0 {
				p.prefix = i
			}
		}
	}
	if p.prefix < 0 {
		p.prefix = len(segs)
	}
	p.trailing = segs[len(segs)-1] == wildSeg
	return p
}

// exact reports whether p names one channel name (per class) and nothing else.
func (p *resPattern) exact() bool { return p.wild == 0 }

// appWide reports whether p is "*" or "[*]*", the resources that §5.2 and
// §5.4 consult for app-wide operations (stats, channel enumeration).
func (p *resPattern) appWide() bool {
	return len(p.segs) == 1 && p.trailing && (p.class == classPlain || p.class == classAny)
}

// matches reports whether p matches the channel of class c with base name.
func (p *resPattern) matches(c resClass, name string) bool {
	if p.class != classAny && p.class != c {
		return false
	}
	return matchSegs(p.segs, name)
}

// matchSegs reports whether name matches segs, walking name by index so that
// nothing is allocated (this is on the per-message path).
func matchSegs(segs []string, name string) bool {
	pos := 0 // start of name's next segment; len(name)+1 once all are used
	last := len(segs) - 1
	for i, s := range segs {
		if pos > len(name) {
			return false // name has fewer segments than segs
		}
		if s == wildSeg {
			if i == last {
				return true // a trailing "*" takes this segment and any after it
			}
			end := strings.IndexByte(name[pos:], ':')
			if end < 0 {
				pos = len(name) + 1
			} else {
				pos += end + 1
			}
			continue
		}
		rest := name[pos:]
		if !strings.HasPrefix(rest, s) {
			return false
		}
		if len(rest) == len(s) {
			pos = len(name) + 1
		} else if rest[len(s)] == ':' {
			pos += len(s) + 1
		} else {
			return false
		}
	}
	return pos > len(name)
}

// compareSpecificity orders two patterns for "most specific resource wins"
// (JWT channel claims §4.3, rate-limit claims §4.4, Explain). It returns a
// negative number when p is more specific than q. The order, documented in
// docs/decisions.md, only matters between patterns that match a
// common channel:
//  1. an exact name beats any pattern with a wildcard;
//  2. more literal segments before the first "*" wins;
//  3. more literal segments in all wins (for patterns of one length: fewer
//     wildcards);
//  4. more segments wins (a:*:* beats a:*, whose channels it is a subset of);
//  5. a fixed-length pattern beats one ending in "*";
//  6. a plain, [meta] or [queue] pattern beats a [*] one, so "*" beats "[*]*".
//
// Each rule agrees with set inclusion: when p's channels are a strict subset
// of q's, p never ranks below q. Ties are left to the caller (lower index).
func compareSpecificity(p, q *resPattern) int {
	if p.exact() != q.exact() {
		if p.exact() {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(q.prefix, p.prefix); c != 0 {
		return c
	}
	if c := cmp.Compare(len(q.segs)-q.wild, len(p.segs)-p.wild); c != 0 {
		return c
	}
	if c := cmp.Compare(len(q.segs), len(p.segs)); c != 0 {
		return c
	}
	if p.trailing != q.trailing {
		if !p.trailing {
			return -1
		}
		return 1
	}
	pa, qa := p.class == classAny, q.class == classAny
	if pa != qa {
		if !pa {
			return -1
		}
		return 1
	}
	return 0
}

// CompareSpecificity compares two resource patterns by specificity: negative
// when a is more specific than b, positive when less, 0 when neither is, so
// that slices.SortStableFunc(rs, CompareSpecificity) puts the most specific
// first. The order is exact name, then longer literal prefix, then more
// literal segments (fewer wildcards), ..., down to "*" and then "[*]*" (see
// compareSpecificity). Invalid patterns are less specific than valid ones.
func CompareSpecificity(a, b string) int {
	pa, ra := parseResPattern(a)
	pb, rb := parseResPattern(b)
	switch {
	case ra != "" && rb != "":
		return 0
	case ra != "":
		return 1
	case rb != "":
		return -1
	}
	return compareSpecificity(&pa, &pb)
}

// MostSpecific returns the index of the most specific pattern in patterns
// that matches channel, and whether any does. Ties go to the lower index;
// invalid patterns and invalid channel names never match. It parses the
// patterns on every call: build a PatternSet for a set used more than once.
func MostSpecific(patterns []string, channel string) (index int, ok bool) {
	c, name, problem := splitQualifier(channel, false)
	if problem != nameOK {
		return -1, false
	}
	best, bestPat := -1, resPattern{}
	for i, r := range patterns {
		p, reason := parseResPattern(r)
		if reason != "" || !p.matches(c, name) {
			continue
		}
		if best < 0 || compareSpecificity(&p, &bestPat) < 0 {
			best, bestPat = i, p
		}
	}
	return best, best >= 0
}

// PatternSet is a fixed set of resource patterns compiled to answer "which
// resPattern is the most specific match for this channel" without allocating,
// for per-message lookups such as JWT user claims (§4.3) and per-attachment
// rate limits (§4.4). It is safe for concurrent use.
type PatternSet struct {
	patterns []string
	pats     []resPattern
	rank     []int // rank[i]: position of pattern i in specificity order
	// exact[c][name] is the best exact pattern for that channel; exact names
	// beat every wildcard, so a hit ends the search.
	exact [numClasses]map[string]int
	// Wildcard patterns grouped by literal first segment, and those starting
	// with "*"; each list is in rank order so its first match is its best.
	byFirst  [numClasses]map[string][]int
	anyFirst [numClasses][]int
}

// NewPatternSet compiles patterns, which keep their indexes. An invalid
// resPattern is a *herald.Error with code 40000 naming it.
func NewPatternSet(patterns []string) (*PatternSet, error) {
	s := &PatternSet{
		patterns: slices.Clone(patterns),
		pats:     make([]resPattern, len(patterns)),
		rank:     make([]int, len(patterns)),
	}
	for i, r := range patterns {
		p, reason := parseResPattern(r)
		if reason != "" {
			return nil, herald.Errorf(herald.CodeBadRequest, "invalid resource pattern %s: %s", quoteShort(r), reason)
		}
		s.pats[i] = p
	}
	order := make([]int, len(patterns))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareSpecificity(&s.pats[a], &s.pats[b]) })
	for r, i := range order {
		s.rank[i] = r
	}
	for _, i := range order {
		p := &s.pats[i]
		for _, c := range classesOf(p.class) {
			switch {
			case p.exact():
				name := strings.Join(p.segs, ":")
				if s.exact[c] == nil {
					s.exact[c] = make(map[string]int)
				}
				if _, dup := s.exact[c][name]; !dup {
					s.exact[c][name] = i
				}
			case p.segs[0] == wildSeg:
				s.anyFirst[c] = append(s.anyFirst[c], i)
			default:
				if s.byFirst[c] == nil {
					s.byFirst[c] = make(map[string][]int)
				}
				s.byFirst[c][p.segs[0]] = append(s.byFirst[c][p.segs[0]], i)
			}
		}
	}
	return s, nil
}

// classesOf returns the channel classes a resource of class c applies to.
func classesOf(c resClass) []resClass {
	if c == classAny {
		return []resClass{classPlain, classMeta, classQueue}
	}
	return []resClass{c}
}

// Len returns the number of patterns in s.
func (s *PatternSet) Len() int { return len(s.patterns) }

// Pattern returns the i'th pattern as given to NewPatternSet.
func (s *PatternSet) Pattern(i int) string { return s.patterns[i] }

// Match returns the index of the most specific pattern matching channel and
// whether there is one, with MostSpecific's tie rule. It does not allocate.
func (s *PatternSet) Match(channel string) (index int, ok bool) {
	c, name, problem := splitQualifier(channel, false)
	if problem != nameOK {
		return -1, false
	}
	if i, ok := s.exact[c][name]; ok {
		return i, true
	}
	best := -1
	for _, i := range s.byFirst[c][firstSegment(name)] {
		if matchSegs(s.pats[i].segs, name) {
			best = i
			break
		}
	}
	for _, i := range s.anyFirst[c] {
		if best >= 0 && s.rank[i] > s.rank[best] {
			break
		}
		if matchSegs(s.pats[i].segs, name) {
			best = i
			break
		}
	}
	return best, best >= 0
}

// firstSegment returns name up to its first ':'.
func firstSegment(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}
