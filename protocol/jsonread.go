package protocol

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonReader is a cursor over one JSON document. It is hand-written rather
// than built on encoding/json so that decoding a frame costs few
// allocations, matches keys exactly as JavaScript does, bounds nesting
// (MaxDepth) and keeps numbers exact. Decoded strings never alias b, which
// transports reuse.
type jsonReader struct {
	b       []byte
	i       int
	buf     []byte // scratch for unescaped strings
	escaped bool   // the last stringBytes result is in buf, not b
	s       string // copy of b for sub, made on first use
}

// internMax is the largest input whose strings are cut from one copy of
// the whole input (see sub).
const internMax = 4 << 10

// sub returns b[i:j] as a string. A small input is copied to a string once
// and fields are substrings of it, which saves an allocation per field; a
// large one is not, so that a field kept for long (a presence member's
// clientId) never pins more than internMax bytes.
func sub(b []byte, s *string, i, j int) string {
	if len(b) > internMax {
		return string(b[i:j])
	}
	if len(*s) != len(b) {
		*s = string(b)
	}
	return (*s)[i:j]
}

func (r *jsonReader) errf(format string, args ...any) error {
	return &decodeError{format: JSON, msg: fmt.Sprintf(format, args...) + " at offset " + strconv.Itoa(r.i)}
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.ws()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// end checks that only whitespace is left.
func (r *jsonReader) end() error {
	if r.peek() != 0 || r.i < len(r.b) {
		return r.errf("unexpected data after the top-level value")
	}
	return nil
}

// null consumes a null literal and reports whether there was one.
func (r *jsonReader) null() (bool, error) {
	if r.peek() != 'n' {
		return false, nil
	}
	return true, r.literal("null")
}

func (r *jsonReader) literal(lit string) error {
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		return r.errf("invalid literal")
	}
	r.i += len(lit)
	return nil
}

// kind describes the next value for type errors.
func (r *jsonReader) kind() string {
	switch r.peek() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "end of input"
	}
	return "a number"
}

// objectStart consumes '{'; the caller then loops over objectKey.
func (r *jsonReader) objectStart() error {
	if r.peek() != '{' {
		return r.errf("expected an object, found %s", r.kind())
	}
	r.i++
	return nil
}

// objectKey reads the n-th key of the current object and its ':'. ok is
// false at the closing '}'. The key is valid until the next read.
func (r *jsonReader) objectKey(n int) (key []byte, ok bool, err error) {
	c := r.peek()
	if c == '}' {
		r.i++
		return nil, false, nil
	}
	if n > 0 {
		if c != ',' {
			return nil, false, r.errf("expected ',' or '}' in object")
		}
		r.i++
		c = r.peek()
	}
	if c != '"' {
		return nil, false, r.errf("expected a string key in object")
	}
	if key, err = r.stringBytes(); err != nil {
		return nil, false, err
	}
	if r.peek() != ':' {
		return nil, false, r.errf("expected ':' after object key")
	}
	r.i++
	return key, true, nil
}

// arrayStart consumes '['; the caller then loops over arrayNext.
func (r *jsonReader) arrayStart() error {
	if r.peek() != '[' {
		return r.errf("expected an array, found %s", r.kind())
	}
	r.i++
	return nil
}

// arrayNext positions on the n-th element; ok is false at the closing ']'.
func (r *jsonReader) arrayNext(n int) (ok bool, err error) {
	c := r.peek()
	if c == ']' {
		r.i++
		return false, nil
	}
	if n > 0 {
		if c != ',' {
			return false, r.errf("expected ',' or ']' in array")
		}
		r.i++
		if r.peek() == ']' {
			return false, r.errf("trailing ',' in array")
		}
	}
	return true, nil
}

// str reads a string value as a new Go string; null reads as "".
func (r *jsonReader) str() (string, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return "", err
	}
	if r.peek() != '"' {
		return "", r.errf("expected a string, found %s", r.kind())
	}
	b, err := r.stringBytes()
	if err != nil || r.escaped {
		return string(b), err
	}
	return sub(r.b, &r.s, r.i-1-len(b), r.i-1), nil
}

// stringBytes reads a string at '"'. The result aliases r.b (when the
// string has no escapes and is ASCII) or r.buf, so callers copy it.
// Invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json,
// so that anything decoded can be re-encoded as valid JSON text.
func (r *jsonReader) stringBytes() ([]byte, error) {
	r.i++ // opening quote
	start := r.i
	for j := start; j < len(r.b); j++ {
		c := r.b[j]
		if c == '"' {
			r.i = j + 1
			r.escaped = false
			return r.b[start:j], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			r.escaped = true
			r.buf = append(r.buf[:0], r.b[start:j]...)
			r.i = j
			return r.stringSlow()
		}
	}
	return nil, r.errf("unterminated string")
}

func (r *jsonReader) stringSlow() ([]byte, error) {
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			return r.buf, nil
		case c < 0x20:
			return nil, r.errf("control character in string")
		case c == '\\':
			if err := r.escape(); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			r.buf = append(r.buf, c)
			r.i++
		default:
			ru, size := utf8.DecodeRune(r.b[r.i:])
			r.buf = utf8.AppendRune(r.buf, ru) // RuneError for invalid bytes
			r.i += size
		}
	}
	return nil, r.errf("unterminated string")
}

func (r *jsonReader) escape() error {
	if r.i+1 >= len(r.b) {
		return r.errf("unterminated string")
	}
	c := r.b[r.i+1]
	r.i += 2
	switch c {
	case '"', '\\', '/':
		r.buf = append(r.buf, c)
	case 'b':
		r.buf = append(r.buf, '\b')
	case 'f':
		r.buf = append(r.buf, '\f')
	case 'n':
		r.buf = append(r.buf, '\n')
	case 'r':
		r.buf = append(r.buf, '\r')
	case 't':
		r.buf = append(r.buf, '\t')
	case 'u':
		ru, ok := r.hex4()
		if !ok {
			return r.errf("invalid \\u escape in string")
		}
		if ru >= 0xd800 && ru < 0xdc00 && r.i+1 < len(r.b) && r.b[r.i] == '\\' && r.b[r.i+1] == 'u' {
			save := r.i
			r.i += 2
			lo, ok := r.hex4()
			if ok && lo >= 0xdc00 && lo < 0xe000 {
				ru = 0x10000 + (ru-0xd800)<<10 + (lo - 0xdc00)
			} else {
				r.i = save // leave the next escape for the next round
			}
		}
		if ru >= 0xd800 && ru < 0xe000 {
			ru = utf8.RuneError
		}
		r.buf = utf8.AppendRune(r.buf, ru)
	default:
		return r.errf("invalid escape in string")
	}
	return nil
}

func (r *jsonReader) hex4() (rune, bool) {
	if len(r.b)-r.i < 4 {
		return 0, false
	}
	var v rune
	for _, c := range r.b[r.i : r.i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return v, true
}

// number scans a number token (RFC 8259 grammar) and reports whether it is
// an integer literal (no fraction or exponent).
func (r *jsonReader) number() (tok []byte, isInt bool, err error) {
	start := r.i
	j := r.i
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	switch {
	case j < len(r.b) && r.b[j] == '0':
		j++
	case j < len(r.b) && r.b[j] >= '1' && r.b[j] <= '9':
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
	default:
		return nil, false, r.errf("invalid number")
	}
	isInt = true
	if j < len(r.b) && r.b[j] == '.' {
		isInt = false
		j++
		if j >= len(r.b) || r.b[j] < '0' || r.b[j] > '9' {
			return nil, false, r.errf("invalid number")
		}
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
	}
	if j < len(r.b) && (r.b[j] == 'e' || r.b[j] == 'E') {
		isInt = false
		j++
		if j < len(r.b) && (r.b[j] == '+' || r.b[j] == '-') {
			j++
		}
		if j >= len(r.b) || r.b[j] < '0' || r.b[j] > '9' {
			return nil, false, r.errf("invalid number")
		}
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
	}
	r.i = j
	return r.b[start:j], isInt, nil
}

// int64 reads an integer field; null reads as 0. A number with a fraction
// or exponent is accepted when its value is a whole int64 (JavaScript has
// one number type, so 1e3 is as good as 1000).
func (r *jsonReader) int64() (int64, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return 0, err
	}
	c := r.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, r.errf("expected a number, found %s", r.kind())
	}
	tok, isInt, err := r.number()
	if err != nil {
		return 0, err
	}
	if isInt {
		if v, ok := parseInt(tok); ok {
			return v, nil
		}
		return 0, r.errf("integer out of range")
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, r.errf("expected an integer")
	}
	return int64(f), nil
}

// parseInt parses an integer literal without allocating.
func parseInt(tok []byte) (int64, bool) {
	neg := len(tok) > 0 && tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	if len(tok) == 0 || len(tok) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range tok {
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// numberValue converts a number token to int64, uint64 or a finite
// float64: the Go values extras hold, and what MessagePack can carry.
func numberValue(tok []byte, isInt bool) (any, bool) {
	if isInt {
		if v, ok := parseInt(tok); ok {
			return v, true
		}
		if u, err := strconv.ParseUint(string(tok), 10, 64); err == nil {
			return u, true
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return nil, false // beyond float64: no other format could carry it
	}
	return f, true
}

// skip validates and skips one value of any type.
func (r *jsonReader) skip(depth int) error {
	switch c := r.peek(); c {
	case '{':
		if depth >= MaxDepth {
			return r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		for n := 0; ; n++ {
			_, ok, err := r.objectKey(n)
			if err != nil || !ok {
				return err
			}
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		if depth >= MaxDepth {
			return r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		for n := 0; ; n++ {
			ok, err := r.arrayNext(n)
			if err != nil || !ok {
				return err
			}
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
	case '"':
		_, err := r.stringBytes()
		return err
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	default:
		_, _, err := r.number()
		return err
	}
}

// value reads any value as extras hold it: nil, bool, string, int64,
// uint64, float64, []any or map[string]any.
func (r *jsonReader) value(depth int) (any, error) {
	switch c := r.peek(); c {
	case '{':
		if depth >= MaxDepth {
			return nil, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		m := map[string]any{}
		for n := 0; ; n++ {
			key, ok, err := r.objectKey(n)
			if err != nil || !ok {
				return m, err
			}
			k := string(key)
			if m[k], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
	case '[':
		if depth >= MaxDepth {
			return nil, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		a := []any{}
		for n := 0; ; n++ {
			ok, err := r.arrayNext(n)
			if err != nil || !ok {
				return a, err
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case '"':
		return r.str()
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	case 'n':
		return nil, r.literal("null")
	default:
		tok, isInt, err := r.number()
		if err != nil {
			return nil, err
		}
		v, ok := numberValue(tok, isInt)
		if !ok {
			return nil, r.errf("number out of range")
		}
		return v, nil
	}
}

// compact appends the next value to dst as compact JSON: whitespace
// dropped, strings re-escaped (so invalid UTF-8 is repaired), numbers kept
// as written once checked to be representable in MessagePack too.
func (r *jsonReader) compact(dst []byte, depth int) ([]byte, error) {
	switch c := r.peek(); c {
	case '{':
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		dst = append(dst, '{')
		for n := 0; ; n++ {
			key, ok, err := r.objectKey(n)
			if err != nil || !ok {
				return append(dst, '}'), err
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			if dst, err = r.compact(dst, depth+1); err != nil {
				return dst, err
			}
		}
	case '[':
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		dst = append(dst, '[')
		for n := 0; ; n++ {
			ok, err := r.arrayNext(n)
			if err != nil || !ok {
				return append(dst, ']'), err
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			if dst, err = r.compact(dst, depth+1); err != nil {
				return dst, err
			}
		}
	case '"':
		b, err := r.stringBytes()
		return appendJSONString(dst, b), err
	case 't':
		return append(dst, "true"...), r.literal("true")
	case 'f':
		return append(dst, "false"...), r.literal("false")
	case 'n':
		return append(dst, "null"...), r.literal("null")
	default:
		tok, isInt, err := r.number()
		if err != nil {
			return dst, err
		}
		if _, ok := numberValue(tok, isInt); !ok {
			return dst, r.errf("number out of range")
		}
		return append(dst, tok...), nil
	}
}
