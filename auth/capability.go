package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// Limits on a capability, so that a token request or JWT cannot make the
// server parse, store or intersect something unbounded. Ably publishes no
// limit; JWTs must fit in ~8 KB headers and tokens in 128 KiB (ably-auth §3.8,
// §4.5), so these are generous for real use.
const (
	// MaxCapabilityBytes is the largest capability JSON accepted, in bytes.
	MaxCapabilityBytes = 64 << 10
	// MaxCapabilityResources is the most resources a capability may have.
	MaxCapabilityResources = 1000
)

// Capability is a parsed, validated and compiled capability (ably-auth §5): a
// set of resource patterns, each with the operations it grants. It is
// immutable and safe for concurrent use. Build one with ParseCapability,
// ParseCapabilityJSON, CapabilityFromMap or Intersect.
type Capability struct {
	raw       string     // the text it was parsed from (or canonical, if built)
	canonical string     // §5.1 canonical form
	entries   []capEntry // sorted by resource, as in the canonical form
	m         capMatcher
}

// capEntry is one resource of a capability with what it grants. all records an
// op list of ["*"], which grants AllOps but is written back as "*".
type capEntry struct {
	resource string
	pat      resPattern
	ops      OpSet
	all      bool
}

// invalidCapability returns the 40000 error every invalid capability gets: Ably
// answers an invalid capability with HTTP 400 (ably-auth §5.2, [T]) and no
// more specific code is documented (§12.9), so we use the generic one.
func invalidCapability(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeBadRequest, "invalid capability: "+format, args...)
}

// ParseCapability parses a capability from its JSON string form, as carried
// in TokenParams, TokenRequest, TokenDetails and the JWT claim. See
// ParseCapabilityJSON.
func ParseCapability(s string) (*Capability, error) {
	return parseCapability(s, []byte(s))
}

// ParseCapabilityJSON parses and validates capability JSON: an object mapping
// each resource to a non-empty array of operation names. Raw and String
// return raw unchanged. Every problem is a *herald.Error, code 40000, status
// 400, whose message names the bad resource or operation; the rules are in
// docs/decisions.md (duplicate keys are an error even though
// encoding/json would keep the last one; duplicate ops are merged).
func ParseCapabilityJSON(raw []byte) (*Capability, error) {
	return parseCapability(string(raw), raw)
}

// capRawEntry is one resource and its op names as written.
type capRawEntry struct {
	resource string
	ops      []string
}

func parseCapability(s string, raw []byte) (*Capability, error) {
	if len(raw) > MaxCapabilityBytes {
		return nil, invalidCapability("larger than %d bytes", MaxCapabilityBytes)
	}
	if !utf8.Valid(raw) {
		// encoding/json would silently turn bad bytes into U+FFFD, making the
		// canonical form differ from what the client signed.
		return nil, invalidCapability("not valid UTF-8")
	}
	entries, err := decodeCapEntries(raw)
	if err != nil {
		return nil, err
	}
	return buildCapability(s, entries)
}

// decodeCapEntries walks the JSON tokens so that a resource given twice is an
// error rather than silently keeping the last value (encoding/json's rule).
func decodeCapEntries(raw []byte) ([]capRawEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, capJSONError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidCapability("must be a JSON object mapping resources to arrays of operations")
	}
	var entries []capRawEntry
	seen := make(map[string]struct{})
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, capJSONError(err)
		}
		res, _ := tok.(string) // object keys are always strings
		if _, dup := seen[res]; dup {
			return nil, invalidCapability("duplicate resource %s", quoteShort(res))
		}
		if len(entries) == MaxCapabilityResources {
			return nil, invalidCapability("more than %d resources", MaxCapabilityResources)
		}
		seen[res] = struct{}{}
		ops, err := decodeCapOps(dec, res)
		if err != nil {
			return nil, err
		}
		entries = append(entries, capRawEntry{resource: res, ops: ops})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, capJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidCapability("unexpected data after the JSON object")
	}
	return entries, nil
}

// decodeCapOps reads the array of operation names for resource res.
func decodeCapOps(dec *json.Decoder, res string) ([]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, capJSONError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, invalidCapability("resource %s: operations must be a JSON array of strings, not %s", quoteShort(res), jsonTokenKind(tok))
	}
	ops := []string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, capJSONError(err)
		}
		op, ok := tok.(string)
		if !ok {
			return nil, invalidCapability("resource %s: operation must be a string, not %s", quoteShort(res), jsonTokenKind(tok))
		}
		ops = append(ops, op)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, capJSONError(err)
	}
	return ops, nil
}

// capJSONError reports a JSON syntax error from the token walk.
func capJSONError(err error) *herald.Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalidCapability("not valid JSON: unexpected end of input")
	}
	return invalidCapability("not valid JSON: %v", err)
}

// jsonTokenKind names a JSON token's type for an error message.
func jsonTokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// CapabilityFromMap builds a capability from its decoded object form (Control
// API, or an x-ably-capability JWT claim sent as an object, §5.1 and §12.3),
// with the same validation as ParseCapabilityJSON. There is no original text,
// so Raw returns the canonical form.
func CapabilityFromMap(m map[string][]string) (*Capability, error) {
	if len(m) > MaxCapabilityResources {
		return nil, invalidCapability("more than %d resources", MaxCapabilityResources)
	}
	entries := make([]capRawEntry, 0, len(m))
	for res, ops := range m {
		entries = append(entries, capRawEntry{resource: res, ops: ops})
	}
	// Sorting first makes the reported error deterministic.
	slices.SortFunc(entries, func(a, b capRawEntry) int { return strings.Compare(a.resource, b.resource) })
	c, err := buildCapability("", entries)
	if err != nil {
		return nil, err
	}
	if len(c.canonical) > MaxCapabilityBytes {
		return nil, invalidCapability("larger than %d bytes", MaxCapabilityBytes)
	}
	c.raw = c.canonical
	return c, nil
}

// buildCapability validates entries and compiles the capability; raw is kept verbatim.
func buildCapability(raw string, in []capRawEntry) (*Capability, error) {
	if len(in) == 0 {
		// An empty capability grants nothing: as a key's it is useless and as
		// a request it could only produce an empty intersection (decisions).
		return nil, invalidCapability("no resources")
	}
	entries := make([]capEntry, 0, len(in))
	for _, re := range in {
		p, reason := parseResPattern(re.resource)
		if reason != "" {
			return nil, invalidCapability("resource %s %s", quoteShort(re.resource), reason)
		}
		ops, all, err := parseOpList(re.resource, re.ops)
		if err != nil {
			return nil, err
		}
		entries = append(entries, capEntry{resource: re.resource, pat: p, ops: ops, all: all})
	}
	return newCapability(raw, entries), nil
}

// parseOpList validates one resource's op list (§5.2): non-empty, known names,
// "*" only alone. Repeated names are merged: they change nothing, and the
// canonical form lists each op once.
func parseOpList(res string, names []string) (OpSet, bool, error) {
	if len(names) == 0 {
		return 0, false, invalidCapability("resource %s has an empty operation list", quoteShort(res))
	}
	var ops OpSet
	for _, n := range names {
		if n == "*" {
			if len(names) != 1 {
				return 0, false, invalidCapability(`resource %s: "*" must be the only operation`, quoteShort(res))
			}
			return AllOps, true, nil
		}
		op, ok := ParseOp(n)
		if !ok {
			return 0, false, invalidCapability("resource %s: unknown operation %s", quoteShort(res), quoteShort(n))
		}
		ops |= op.bit()
	}
	return ops, false, nil
}

// newCapability sorts entries, writes the canonical form and compiles the
// matcher. raw "" means "use the canonical form".
func newCapability(raw string, entries []capEntry) *Capability {
	slices.SortFunc(entries, func(a, b capEntry) int { return strings.Compare(a.resource, b.resource) })
	c := &Capability{raw: raw, entries: entries}
	c.canonical = c.encode()
	if c.raw == "" {
		c.raw = c.canonical
	}
	c.m = compileMatcher(entries)
	return c
}

// encode writes the canonical form (§5.1): no whitespace, resources sorted,
// ops sorted, escaped as JavaScript's JSON.stringify escapes strings, so that
// it matches what an SDK computes. Resources sort by byte (code point) order.
func (c *Capability) encode() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range c.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSString(&b, e.resource)
		b.WriteString(":")
		writeOps(&b, e.ops, e.all)
	}
	b.WriteByte('}')
	return b.String()
}

func writeOps(b *strings.Builder, ops OpSet, all bool) {
	if all {
		b.WriteString(`["*"]`)
		return
	}
	b.WriteString(ops.String())
}

// writeJSString writes s as JSON.stringify would: only '"', '\\' and control
// characters are escaped. encoding/json differs (it escapes <, >, & by default
// and U+2028/U+2029 always), which would break byte-for-byte comparisons.
func writeJSString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 0x20 && ch != '"' && ch != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch ch {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// Raw returns the capability exactly as it was configured or requested:
// SDK tests compare a token's capability with the key's byte for byte when
// no capability was requested, op order included (§5.5 "Blanket
// intersection"). Capabilities made by Intersect or CapabilityFromMap have no
// such text and return their canonical form.
func (c *Capability) Raw() string { return c.raw }

// String returns Raw.
func (c *Capability) String() string { return c.raw }

// Canonical returns the canonical form (§5.1): compact JSON, resources and
// ops sorted, each op once.
func (c *Capability) Canonical() string { return c.canonical }

// Resources returns the resource strings in canonical order. Revocation
// targets of the form "channel:<resource>" match these exactly (§6).
func (c *Capability) Resources() []string {
	out := make([]string, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.resource
	}
	return out
}

// Ops returns the operations resource grants as written in the canonical form
// (["*"] for the wildcard), and whether the capability has that resource.
func (c *Capability) Ops(resource string) ([]string, bool) {
	i, ok := slices.BinarySearchFunc(c.entries, resource, func(e capEntry, r string) int { return strings.Compare(e.resource, r) })
	if !ok {
		return nil, false
	}
	return opNamesOf(c.entries[i].ops, c.entries[i].all), true
}

// opNamesOf returns the op list for display: ["*"] for the wildcard.
func opNamesOf(ops OpSet, all bool) []string {
	if all {
		return []string{"*"}
	}
	return ops.Names()
}

// quoteNames renders resources for a message as "a", "b", cutting long lists.
func quoteNames(rs []string) string {
	const max = 10
	var b strings.Builder
	for i, r := range rs {
		if i == max {
			b.WriteString(", and " + strconv.Itoa(len(rs)-max) + " more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteShort(r))
	}
	return b.String()
}
