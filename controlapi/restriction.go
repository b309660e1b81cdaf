package controlapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// Key restrictions (Herald's extension; docs/decisions.md "Key
// restrictions"). Ably's dashboard limits a key to "only channels", "only
// queues" or a list of channel/queue name patterns, with the same operations
// everywhere (ably-auth §1.2). The Control API itself only takes capability
// objects, so a restriction is turned into one:
//
//	{"type":"all",      "ops":O}            → {"[*]*": O}
//	{"type":"channels", "ops":O}            → {"*": O}
//	{"type":"queues",   "ops":O}            → {"[queue]*": O}
//	{"type":"patterns", "patterns":P, "ops":O} → one resource per pattern
//
// A pattern is a capability resource as written in a capability: "chat:*"
// for channels, "[queue]orders*" for queues. The result is validated by the
// capability engine (auth), like any capability.
type restriction struct {
	Type     string   `json:"type"`
	Patterns []string `json:"patterns,omitempty"`
	Ops      []string `json:"ops"`
}

// Restriction types.
const (
	restrictAll      = "all"
	restrictChannels = "channels"
	restrictQueues   = "queues"
	restrictPatterns = "patterns"
)

// maxRestrictionPatterns bounds a pattern list (the capability engine's own
// limit is higher; a dashboard list this long is a mistake).
const maxRestrictionPatterns = 100

var wholeResource = map[string]string{restrictAll: "[*]*", restrictChannels: "*", restrictQueues: "[queue]*"}

// capability returns the canonical capability JSON the restriction stands
// for; errors name the field at fault ("restriction.ops", ...).
func (rs *restriction) capability() (string, error) {
	if len(rs.Ops) == 0 {
		return "", invalid("restriction.ops", "must list at least one operation (e.g. [\"publish\",\"subscribe\"] or [\"*\"])")
	}
	if _, err := auth.CapabilityFromMap(map[string][]string{"*": rs.Ops}); err != nil {
		return "", invalid("restriction.ops", "%s", capabilityMessage(err))
	}
	m := map[string][]string{}
	switch rs.Type {
	case restrictAll, restrictChannels, restrictQueues:
		if len(rs.Patterns) > 0 {
			return "", invalid("restriction.patterns", "is only allowed with type %q", restrictPatterns)
		}
		m[wholeResource[rs.Type]] = rs.Ops
	case restrictPatterns:
		if len(rs.Patterns) == 0 || len(rs.Patterns) > maxRestrictionPatterns {
			return "", invalid("restriction.patterns", "must list 1 to %d channel or queue patterns", maxRestrictionPatterns)
		}
		for i, p := range rs.Patterns {
			field := "restriction.patterns[" + strconv.Itoa(i) + "]"
			if slices.Contains(rs.Patterns[:i], p) {
				return "", invalid(field, "%q is listed twice", p)
			}
			if _, err := auth.CapabilityFromMap(map[string][]string{p: rs.Ops}); err != nil {
				return "", invalid(field, "%s", capabilityMessage(err))
			}
			m[p] = rs.Ops
		}
	default:
		return "", invalid("restriction.type", "%q is not a restriction type; use %q, %q, %q or %q",
			rs.Type, restrictAll, restrictChannels, restrictQueues, restrictPatterns)
	}
	c, err := auth.CapabilityFromMap(m)
	if err != nil {
		return "", invalid("restriction", "%s", capabilityMessage(err))
	}
	return c.Canonical(), nil
}

// restrictionOf describes a capability as a restriction when it has that
// shape (every resource grants the same operations), for dashboards to show
// the form it was made with; nil otherwise.
func restrictionOf(c *auth.Capability) *restriction {
	resources := c.Resources()
	if len(resources) == 0 {
		return nil
	}
	ops, _ := c.Ops(resources[0])
	for _, res := range resources[1:] {
		if o, _ := c.Ops(res); !slices.Equal(o, ops) {
			return nil
		}
	}
	if len(resources) == 1 {
		for typ, res := range wholeResource {
			if resources[0] == res {
				return &restriction{Type: typ, Ops: ops}
			}
		}
	}
	return &restriction{Type: restrictPatterns, Patterns: resources, Ops: ops}
}

// capabilityField parses a key's "capability": a JSON object mapping
// resources to operations (control-v1.yaml key_post), validated by the
// capability engine. It returns the canonical text, which is what is stored:
// resources and operations sorted, so responses list them sorted as Ably's
// do (ably-auth §9.2).
func capabilityField(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return "", invalid("capability", "must be a JSON object mapping resources to operation lists, e.g. {\"chat:*\":[\"publish\",\"subscribe\"]}")
	}
	c, err := auth.ParseCapabilityJSON(raw)
	if err != nil {
		return "", invalid("capability", "%s", capabilityMessage(err))
	}
	return c.Canonical(), nil
}

// capabilityMessage is the capability engine's message for err, without
// its "invalid capability: " prefix (the field error says that already).
func capabilityMessage(err error) string {
	return strings.TrimPrefix(herald.AsError(err).Message, "invalid capability: ")
}
