package tokenissuer

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// Format is the kind of credential a Policy issues.
type Format string

// The formats. JWT is the default: the client connects with it directly,
// and only a JWT carries revocation keys, channel claims and rate limits.
const (
	FormatJWT          Format = "jwt"
	FormatTokenRequest Format = "tokenRequest"
)

// Placeholder variables every policy may use. Others come from
// Identity.Vars.
const (
	VarUser     = "user"     // Identity.User
	VarClientID = "clientId" // the expanded Policy.ClientID
)

// MaxPlaceholderBytes is the longest value a placeholder may take.
const MaxPlaceholderBytes = 256

// placeholderForbidden are the characters a placeholder value may not
// contain: ':' and '*' are segment syntax, '[' ']' '?' qualifier syntax
// (ably-auth §5.3), '{' '}' template syntax, and '"' '\' could break out
// of a JSON-encoded channel claim.
const placeholderForbidden = `:*[]?{}"\`

// Policy maps an authenticated caller to the token it gets: least
// privilege, written once. Its string fields are templates in which
// {name} is replaced by a variable ({user}, {clientId}, or a name from
// Identity.Vars) and {{ and }} stand for literal braces:
//
//	{"capability": {"chat:{clientId}": ["publish", "subscribe", "presence"],
//	                "notifications": ["subscribe"]},
//	 "clientId": "{user}", "ttl": "1h"}
//
// A variable's value must be one literal channel-name segment: Params
// refuses values that are empty, longer than MaxPlaceholderBytes, not
// UTF-8, that contain control characters or any of : * [ ] ? { } " \, or
// that start or end with a space. So a user called "bob:*" gets an error,
// never "chat:bob:*" (which would grant every channel under chat:bob).
type Policy struct {
	// Capability is the capability template (resources may hold
	// placeholders; operations may not). Required.
	Capability Capability
	// ClientID is the clientId template; "" issues anonymous tokens and
	// "*" wildcard ones. {clientId} may be used only when it is set.
	ClientID string
	// TTL is the lifetime of issued tokens; zero means DefaultTTL.
	TTL time.Duration
	// Format is what the policy issues; "" means FormatJWT.
	Format Format
	// RevocationKey, ChannelClaims and RateLimits are JWT-only templates
	// (see TokenParams); ChannelClaims values may hold placeholders too.
	RevocationKey string
	ChannelClaims map[string]string
	RateLimits    map[string]float64
}

// Identity is an authenticated caller of an auth server.
type Identity struct {
	// User identifies the caller; it is the {user} variable. Never empty.
	User string
	// Vars are further variables, such as a group taken from a trusted
	// header. They may not be named "user" or "clientId".
	Vars map[string]string
}

// policyJSON is the file form of a Policy.
type policyJSON struct {
	Capability    json.RawMessage    `json:"capability"`
	ClientID      string             `json:"clientId"`
	TTL           string             `json:"ttl"`
	Format        Format             `json:"format"`
	RevocationKey string             `json:"revocationKey"`
	ChannelClaims map[string]string  `json:"channelClaims"`
	RateLimits    map[string]float64 `json:"rateLimits"`
}

// ParsePolicy reads a policy from JSON: the Policy fields with the names
// capability, clientId, ttl (a Go duration such as "1h" or "90s"),
// format ("jwt" or "tokenRequest"), revocationKey, channelClaims and
// rateLimits. Unknown fields and resources given twice are errors, and
// the result is validated with Validate.
func ParsePolicy(data []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var pj policyJSON
	if err := dec.Decode(&pj); err != nil {
		return nil, policyError("not a valid policy JSON object: %v", err)
	}
	if dec.More() {
		return nil, policyError("unexpected data after the JSON object")
	}
	p := &Policy{ClientID: pj.ClientID, Format: pj.Format, RevocationKey: pj.RevocationKey,
		ChannelClaims: pj.ChannelClaims, RateLimits: pj.RateLimits}
	if len(pj.Capability) > 0 {
		c, err := decodeCapability(string(pj.Capability))
		if err != nil {
			return nil, policyError("capability: %s", herald.AsError(err).Message)
		}
		p.Capability = c
	}
	if pj.TTL != "" {
		d, err := time.ParseDuration(pj.TTL)
		if err != nil {
			return nil, policyError("ttl %s is not a duration such as \"1h\" or \"90s\"", quote(pj.TTL))
		}
		p.TTL = d
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func policyError(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeBadRequest, "invalid policy: "+format, args...)
}

// Validate checks the policy as a whole: a capability is given, the TTL is
// within MaxTTL, the format is known, a TokenRequest policy has no
// JWT-only fields, every template is well formed and uses {clientId} only
// with a clientId template, and the token it describes is valid when every
// variable has an ordinary value.
func (p *Policy) Validate() error {
	switch p.Format {
	case "", FormatJWT:
	case FormatTokenRequest:
		if p.RevocationKey != "" || len(p.ChannelClaims) > 0 || len(p.RateLimits) > 0 {
			return policyError("revocationKey, channelClaims and rateLimits are JWT-only; use format \"jwt\"")
		}
	default:
		return policyError("format %s is not \"jwt\" or \"tokenRequest\"", quote(string(p.Format)))
	}
	if len(p.Capability) == 0 {
		return policyError("capability is required; grant the least each user needs, e.g. {\"chat:{clientId}\":[\"publish\",\"subscribe\"]}")
	}
	if p.TTL < 0 || p.TTL > MaxTTL {
		return policyError("ttl %s is outside 0 (the default, %s) to %s", p.TTL, DefaultTTL, MaxTTL)
	}
	if p.Format == FormatJWT && p.TTL > 0 && p.TTL < time.Second {
		return policyError("ttl %s is under a second; JWT times are whole seconds", p.TTL)
	}
	// Find every variable, checking template syntax on the way.
	vars := map[string]string{}
	collect := func(what, t string) error {
		names, err := templateVars(t)
		if err != nil {
			return policyError("%s %s: %s", what, quote(t), err.Error())
		}
		for _, n := range names {
			if n == VarClientID && what == "clientId" {
				return policyError("clientId %s may not use {clientId}", quote(t))
			}
			if n == VarClientID && p.ClientID == "" {
				return policyError("%s %s uses {clientId} but the policy has no clientId", what, quote(t))
			}
			vars[n] = "x"
		}
		return nil
	}
	if err := collect("clientId", p.ClientID); err != nil {
		return err
	}
	if err := collect("revocationKey", p.RevocationKey); err != nil {
		return err
	}
	for r, v := range p.ChannelClaims {
		if err := collect("channelClaims resource", r); err != nil {
			return err
		}
		if err := collect("channelClaims value", v); err != nil {
			return err
		}
	}
	for r := range p.RateLimits {
		if err := collect("rateLimits resource", r); err != nil {
			return err
		}
	}
	for r, ops := range p.Capability {
		if err := collect("capability resource", r); err != nil {
			return err
		}
		for _, op := range ops {
			if strings.ContainsAny(op, "{}") {
				return policyError("capability resource %s: operations may not hold placeholders", quote(r))
			}
		}
	}
	// A dry run with ordinary values catches what only shows once
	// expanded: bad resource grammar, unknown operations, bad rates.
	id := Identity{User: "x", Vars: vars}
	delete(vars, VarUser)
	delete(vars, VarClientID)
	params, err := p.expand(id)
	if err != nil {
		return policyError("%s", herald.AsError(err).Message)
	}
	probe := &Issuer{maxTTL: MaxTTL}
	if _, err := probe.check(&params, p.format() == FormatJWT); err != nil {
		return policyError("%s", herald.AsError(err).Message)
	}
	return nil
}

func (p *Policy) format() Format {
	if p.Format == "" {
		return FormatJWT
	}
	return p.Format
}

// Params expands the policy for id: it fills every placeholder, refusing
// unsafe values (see Policy) and unknown variables with a 40300 (HTTP 403)
// *herald.Error, and returns the TokenParams to pass to MintJWT or
// CreateTokenRequest, which validate them again before signing. Two
// resources that expand to the same name get the union of their
// operations.
func (p *Policy) Params(id Identity) (TokenParams, error) {
	if id.User == "" {
		return TokenParams{}, forbidden("the caller has no user identity")
	}
	return p.expand(id)
}

func forbidden(format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeForbidden, format, args...)
}

func (p *Policy) expand(id Identity) (TokenParams, error) {
	for n := range id.Vars {
		if n == VarUser || n == VarClientID {
			return TokenParams{}, forbidden("identity variable %s is reserved", quote(n))
		}
	}
	lookup := func(name string) (string, error) {
		var v string
		var ok bool
		switch name {
		case VarUser:
			v, ok = id.User, true
		default:
			v, ok = id.Vars[name]
		}
		if !ok {
			return "", forbidden("the policy uses {%s} but the caller's identity has no %s", name, name)
		}
		if reason := placeholderProblem(v); reason != "" {
			return "", forbidden("cannot issue a token: {%s} = %s %s; a placeholder value must be one literal channel-name segment",
				name, quote(v), reason)
		}
		return v, nil
	}
	tp := TokenParams{TTL: p.TTL}
	var err error
	if tp.ClientID, err = expandTemplate(p.ClientID, lookup); err != nil {
		return TokenParams{}, err
	}
	withClientID := func(name string) (string, error) {
		if name != VarClientID {
			return lookup(name)
		}
		// The clientId is made of checked values, but the template's
		// literal text (or "*") could still hold segment syntax.
		if reason := placeholderProblem(tp.ClientID); reason != "" {
			return "", forbidden("cannot issue a token: {clientId} = %s %s; a placeholder value must be one literal channel-name segment",
				quote(tp.ClientID), reason)
		}
		return tp.ClientID, nil
	}
	if tp.ClientID == "*" && p.ClientID != "*" {
		return TokenParams{}, forbidden("the clientId template %s expanded to the wildcard \"*\"", quote(p.ClientID))
	}
	if tp.RevocationKey, err = expandTemplate(p.RevocationKey, withClientID); err != nil {
		return TokenParams{}, err
	}
	tp.Capability = make(Capability, len(p.Capability))
	for _, r := range slices.Sorted(maps.Keys(p.Capability)) {
		name, err := expandTemplate(r, withClientID)
		if err != nil {
			return TokenParams{}, err
		}
		tp.Capability[name] = mergeOps(tp.Capability[name], p.Capability[r])
	}
	if len(p.ChannelClaims) > 0 {
		tp.ChannelClaims = make(map[string]string, len(p.ChannelClaims))
		for _, r := range slices.Sorted(maps.Keys(p.ChannelClaims)) {
			name, err := expandTemplate(r, withClientID)
			if err != nil {
				return TokenParams{}, err
			}
			if _, dup := tp.ChannelClaims[name]; dup {
				return TokenParams{}, forbidden("two channelClaims resources expand to %s", quote(name))
			}
			if tp.ChannelClaims[name], err = expandTemplate(p.ChannelClaims[r], withClientID); err != nil {
				return TokenParams{}, err
			}
		}
	}
	if len(p.RateLimits) > 0 {
		tp.RateLimits = make(map[string]float64, len(p.RateLimits))
		for _, r := range slices.Sorted(maps.Keys(p.RateLimits)) {
			name, err := expandTemplate(r, withClientID)
			if err != nil {
				return TokenParams{}, err
			}
			if old, dup := tp.RateLimits[name]; dup {
				tp.RateLimits[name] = min(old, p.RateLimits[r]) // the stricter limit
				continue
			}
			tp.RateLimits[name] = p.RateLimits[r]
		}
	}
	return tp, nil
}

// mergeOps returns the union of two operation lists; "*" absorbs the rest.
func mergeOps(a, b []string) []string {
	if a == nil {
		return slices.Clone(b)
	}
	if slices.Contains(a, "*") || slices.Contains(b, "*") {
		return []string{"*"}
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// placeholderProblem returns why v may not fill a placeholder, or "".
func placeholderProblem(v string) string {
	switch {
	case v == "":
		return "is empty"
	case len(v) > MaxPlaceholderBytes:
		return "is longer than 256 bytes"
	case !utf8.ValidString(v):
		return "is not valid UTF-8"
	case hasControl(v):
		return "contains a control character"
	case strings.ContainsAny(v, placeholderForbidden):
		i := strings.IndexAny(v, placeholderForbidden)
		return "contains " + quote(v[i:i+1]) + " (none of : * [ ] ? { } \" \\ are allowed)"
	}
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "starts or ends with a space"
	}
	return ""
}

// templateVars returns the variable names t uses, or why t is malformed.
func templateVars(t string) ([]string, error) {
	var names []string
	_, err := expandTemplate(t, func(name string) (string, error) {
		names = append(names, name)
		return "", nil
	})
	return names, err
}

// expandTemplate replaces each {name} in t with lookup(name); "{{" and
// "}}" are literal braces. A lone brace, an empty or non-identifier name
// is a 40000 error.
func expandTemplate(t string, lookup func(name string) (string, error)) (string, error) {
	if !strings.ContainsAny(t, "{}") {
		return t, nil
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '{' && i+1 < len(t) && t[i+1] == '{', c == '}' && i+1 < len(t) && t[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '}':
			return "", templateError("a lone '}' (write }} for a literal brace)")
		case c == '{':
			end := strings.IndexByte(t[i+1:], '}')
			if end < 0 {
				return "", templateError("an unclosed '{' (write {{ for a literal brace)")
			}
			name := t[i+1 : i+1+end]
			if !isIdentifier(name) {
				return "", templateError("placeholder {" + name + "} is not a name of letters, digits and '_'")
			}
			v, err := lookup(name)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func templateError(msg string) *herald.Error {
	return herald.NewError(herald.CodeBadRequest, "template has "+msg)
}

func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
