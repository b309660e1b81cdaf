package tokenissuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// Capability limits. Herald refuses larger capabilities, and Ably publishes
// no limit of its own (ably-auth §3.8, §4.5).
const (
	// MaxCapabilityBytes is the largest capability accepted, in bytes of
	// its canonical JSON form.
	MaxCapabilityBytes = 64 << 10
	// MaxCapabilityResources is the most resources a capability may have.
	MaxCapabilityResources = 1000
	// MaxResourceBytes is the longest resource name accepted (Ably
	// recommends channel names under 2048 characters, ably-auth §5.3).
	MaxResourceBytes = 2048
)

// Capability maps resource names (channel names and patterns such as
// "chat:*", "[meta]log" or "[*]*") to the operations granted on them
// (ably-auth §5). The zero value (nil) means "no capability given".
type Capability map[string][]string

// operations are the capability operation names of ably-auth §5.2, sorted.
// "*" (all operations) is allowed only as the sole entry of a list.
var operations = []string{
	"annotation-publish", "annotation-subscribe", "channel-metadata", "history",
	"message-delete-any", "message-delete-own", "message-update-any", "message-update-own",
	"object-publish", "object-subscribe", "presence", "privileged-headers", "publish",
	"push-admin", "push-subscribe", "stats", "subscribe",
}

func capabilityError(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeBadRequest, "invalid capability: "+format, args...)
}

// ParseCapability parses capability JSON: an object mapping each resource
// to an array of operation names. Unlike encoding/json it refuses a
// resource given twice, and it validates the result as Validate does.
func ParseCapability(s string) (Capability, error) {
	c, err := decodeCapability(s)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeCapability decodes capability JSON without validating resources
// or operations, refusing a resource given twice.
func decodeCapability(s string) (Capability, error) {
	if len(s) > MaxCapabilityBytes {
		return nil, capabilityError("larger than %d bytes", MaxCapabilityBytes)
	}
	if !utf8.ValidString(s) {
		return nil, capabilityError("not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	if d, err := dec.Token(); err != nil || d != json.Delim('{') {
		return nil, capabilityError("must be a JSON object mapping resources to arrays of operations")
	}
	c := Capability{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, capabilityError("not valid JSON: %v", err)
		}
		res, _ := tok.(string) // object keys are strings
		if _, dup := c[res]; dup {
			return nil, capabilityError("resource %s is given twice", quote(res))
		}
		var ops []string
		if err := dec.Decode(&ops); err != nil {
			return nil, capabilityError("resource %s: operations must be an array of strings", quote(res))
		}
		c[res] = ops
	}
	if _, err := dec.Token(); err != nil {
		return nil, capabilityError("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, capabilityError("unexpected data after the JSON object")
	}
	return c, nil
}

// Validate reports, as a *herald.Error with code 40000, the first problem
// with c: no resources, too many, a resource that is not a valid channel
// name or pattern (ably-auth §5.3), an empty operation list, an unknown
// operation, or "*" mixed with other operations (§5.2). These are the
// capabilities Ably and Herald answer with HTTP 400.
func (c Capability) Validate() error {
	_, err := c.Canonical()
	return err
}

// Canonical validates c and returns its canonical form (ably-auth §5.1):
// compact JSON, resources sorted, each operation list sorted with
// duplicates removed, strings escaped as JavaScript's JSON.stringify does.
// This is the text SDKs sign and Herald returns in TokenDetails.
func (c Capability) Canonical() (string, error) {
	if len(c) == 0 {
		return "", capabilityError("no resources; a token needs at least one")
	}
	if len(c) > MaxCapabilityResources {
		return "", capabilityError("more than %d resources", MaxCapabilityResources)
	}
	resources := make([]string, 0, len(c))
	for r := range c {
		resources = append(resources, r)
	}
	slices.Sort(resources)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range resources {
		if reason := resourceProblem(r); reason != "" {
			return "", capabilityError("resource %s %s", quote(r), reason)
		}
		ops, err := canonicalOps(r, c[r])
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		appendJSONString(&b, r)
		b.WriteByte(':')
		b.WriteByte('[')
		for j, op := range ops {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			b.WriteString(op) // operation names need no escaping
			b.WriteByte('"')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	if b.Len() > MaxCapabilityBytes {
		return "", capabilityError("larger than %d bytes", MaxCapabilityBytes)
	}
	return b.String(), nil
}

// canonicalOps validates one resource's operation list and returns it
// sorted with duplicates removed.
func canonicalOps(res string, ops []string) ([]string, error) {
	if len(ops) == 0 {
		return nil, capabilityError("resource %s has an empty operation list", quote(res))
	}
	out := make([]string, 0, len(ops))
	for _, op := range ops {
		if op == "*" {
			if len(ops) != 1 {
				return nil, capabilityError(`resource %s: "*" must be the only operation`, quote(res))
			}
			return ops, nil
		}
		if _, ok := slices.BinarySearch(operations, op); !ok {
			return nil, capabilityError("resource %s: unknown operation %s", quote(res), quote(op))
		}
		out = append(out, op)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// resourceProblem returns why r is not a valid capability resource, or "".
// The rules are Herald's (and the reference's, ably-auth §5.3): not empty,
// at most MaxResourceBytes, valid UTF-8, no line breaks, not starting with
// ':'; a leading bracket qualifier must be [meta], [queue], [*] or
// [?params] (optionally [meta?params] and so on) followed by a name that
// starts with neither ':' nor '['.
func resourceProblem(r string) string {
	switch {
	case r == "":
		return "is empty"
	case len(r) > MaxResourceBytes:
		return "is longer than 2048 bytes"
	case !utf8.ValidString(r):
		return "is not valid UTF-8"
	case strings.ContainsAny(r, "\n\r"):
		return "contains a line break"
	case r[0] == ':':
		return "starts with ':'"
	case r[0] != '[':
		return ""
	}
	end := strings.IndexByte(r, ']')
	if end < 0 {
		return "has an unterminated '[' qualifier"
	}
	kind, _, params := strings.Cut(r[1:end], "?")
	switch {
	case kind == "" && params, kind == "meta", kind == "queue", kind == "*":
	default:
		return "has an unknown qualifier " + quote(r[:end+1]) + " (use [meta], [queue] or [*])"
	}
	switch name := r[end+1:]; {
	case name == "":
		return "has no name after its qualifier"
	case name[0] == ':':
		return "starts with ':' after its qualifier"
	case name[0] == '[':
		return "has a second qualifier"
	}
	return ""
}

// appendJSONString writes s as a JSON string the way JavaScript's
// JSON.stringify does: only '"', '\\' and control characters are escaped
// (encoding/json also escapes <, > and &, which would make our canonical
// form differ from an SDK's). s must be valid UTF-8.
func appendJSONString(b *bytes.Buffer, s string) {
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
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
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

// quote quotes s for an error message, cutting long input.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		s = s[:max] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}
