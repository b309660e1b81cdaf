package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the low-level pieces of the JWT fast path (jwt_fast.go):
// a strict base64url decoder, HMAC-SHA256 without allocation and a small
// JSON scanner. They exist so that verifying an Ably JWT on every connect and
// REST request costs a few allocations instead of golang-jwt's dozens; the
// tests and FuzzJWT hold them to golang-jwt's and crypto/hmac's results.

// jwtB64 maps a base64url character (RFC 4648 §5) to its 6-bit value, or to
// 0xff for anything else, including '=': JWS segments are unpadded (RFC 7515
// §2, and the Go example in Ably's jwt.mdx).
var jwtB64 = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// jwtDecodedLen returns the length of the bytes that n base64url characters
// decode to, and false for a length no unpadded encoding has (n%4 == 1).
func jwtDecodedLen(n int) (int, bool) {
	switch n % 4 {
	case 1:
		return 0, false
	case 2:
		return n/4*3 + 1, true
	case 3:
		return n/4*3 + 2, true
	}
	return n / 4 * 3, true
}

// jwtDecode decodes the base64url text src into dst, which must have
// jwtDecodedLen(len(src)) bytes. Decoding is strict: any character outside
// the alphabet, and any non-zero bit left over in the last character, is an
// error, so that each byte string has exactly one encoding (no signature
// malleability; golang-jwt's WithStrictDecoding does the same).
func jwtDecode(dst []byte, src string) bool {
	n := len(src) / 4 * 4
	i, d := 0, 0
	// Eight characters at a time into one 64-bit store, while dst has the
	// two bytes of slack the store needs; then four at a time.
	for ; i+8 <= n && d+8 <= len(dst); i, d = i+8, d+6 {
		q := src[i : i+8]
		a, b, c, e := jwtB64[q[0]], jwtB64[q[1]], jwtB64[q[2]], jwtB64[q[3]]
		f, g, h, k := jwtB64[q[4]], jwtB64[q[5]], jwtB64[q[6]], jwtB64[q[7]]
		if (a|b|c|e|f|g|h|k)&0x80 != 0 { // 0xff marks a character outside the alphabet
			return false
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(e)<<40 |
			uint64(f)<<34 | uint64(g)<<28 | uint64(h)<<22 | uint64(k)<<16
		binary.BigEndian.PutUint64(dst[d:], v)
	}
	for ; i < n; i, d = i+4, d+3 {
		a, b, c, e := jwtB64[src[i]], jwtB64[src[i+1]], jwtB64[src[i+2]], jwtB64[src[i+3]]
		if (a|b|c|e)&0x80 != 0 {
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(e)
		dst[d], dst[d+1], dst[d+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - n {
	case 2:
		a, b := jwtB64[src[n]], jwtB64[src[n+1]]
		if (a|b)&0x80 != 0 || b&0x0f != 0 {
			return false
		}
		dst[d] = a<<2 | b>>4
	case 3:
		a, b, c := jwtB64[src[n]], jwtB64[src[n+1]], jwtB64[src[n+2]]
		if (a|b|c)&0x80 != 0 || c&0x03 != 0 {
			return false
		}
		dst[d], dst[d+1] = a<<2|b>>4, b<<4|c>>2
	case 1:
		return false
	}
	return true
}

// jwtDecodeString decodes a base64url segment into a string. Small segments
// are decoded on the stack, so the string is the only allocation.
func jwtDecodeString(seg string) (string, bool) {
	n, ok := jwtDecodedLen(len(seg))
	if !ok {
		return "", false
	}
	var stack [1024]byte
	var buf []byte
	if n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	if !jwtDecode(buf, seg) {
		return "", false
	}
	return string(buf), true
}

// jwtHS256 returns HMAC-SHA256(key, msg) (RFC 2104). It is written out with
// sha256.Sum256 rather than crypto/hmac because hmac.New allocates five times
// per call and the message is a string; the result is checked against
// crypto/hmac (through SignJWT and golang-jwt) by the tests and FuzzJWT.
func jwtHS256(key []byte, msg string) [sha256.Size]byte {
	const block = 64 // SHA-256 block size
	var k [block]byte
	if len(key) > block {
		h := sha256.Sum256(key)
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	var stack [2048]byte
	var inner []byte
	if n := block + len(msg); n <= len(stack) {
		inner = stack[:n]
	} else {
		inner = make([]byte, n)
	}
	for i := range k {
		inner[i] = k[i] ^ 0x36
	}
	copy(inner[block:], msg)
	ih := sha256.Sum256(inner)
	var outer [block + sha256.Size]byte
	for i := range k {
		outer[i] = k[i] ^ 0x5c
	}
	copy(outer[block:], ih[:])
	return sha256.Sum256(outer[:])
}

// jwtKind is the JSON type of a scanned value.
type jwtKind uint8

const (
	jwtAbsent jwtKind = iota // the member was not present
	jwtString
	jwtNumber
	jwtObject
	jwtArray
	jwtBool
	jwtNull
)

func (k jwtKind) String() string {
	return [...]string{"absent", "a string", "a number", "an object", "an array", "a boolean", "null"}[k]
}

// jwtValue locates a scanned JSON value in its document. For a string,
// start and end exclude the quotes and escaped says whether the content has
// backslash escapes; for anything else they span the value's whole text.
type jwtValue struct {
	kind       jwtKind
	escaped    bool
	start, end int
}

// jwtSyntaxError describes invalid JSON; it becomes the detail of a 40144.
type jwtSyntaxError struct {
	off  int
	what string
}

func (e *jwtSyntaxError) Error() string {
	return e.what + " at byte " + strconv.Itoa(e.off)
}

// jwtMaxDepth bounds nesting as encoding/json does (10000 levels), which
// golang-jwt uses; MaxJWTLen keeps real input far below it anyway.
const jwtMaxDepth = 10000

// jwtScanner validates and walks JSON text (RFC 8259) without building
// values. It accepts exactly what encoding/json accepts for the documents
// Herald reads, so that the fast path and VerifyJWTLibrary agree; the one
// difference, invalid UTF-8, is ruled out by the callers beforehand.
type jwtScanner struct {
	s     string
	i     int
	depth int
}

func (sc *jwtScanner) fail(what string) error { return &jwtSyntaxError{off: sc.i, what: what} }

func (sc *jwtScanner) skipSpace() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (sc *jwtScanner) end() error {
	sc.skipSpace()
	if sc.i != len(sc.s) {
		return sc.fail("unexpected data after the JSON value")
	}
	return nil
}

// beginObject consumes the '{' of a top-level object.
func (sc *jwtScanner) beginObject() error {
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != '{' {
		return sc.fail("not a JSON object")
	}
	sc.i++
	return nil
}

// member scans the next member of the object begun by beginObject; first is
// true for the first call. done is true once the closing '}' is consumed.
func (sc *jwtScanner) member(first bool) (key, val jwtValue, done bool, err error) {
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return key, val, false, sc.fail("unterminated object")
	}
	if sc.s[sc.i] == '}' && first {
		sc.i++
		return key, val, true, nil
	}
	if !first {
		switch sc.s[sc.i] {
		case '}':
			sc.i++
			return key, val, true, nil
		case ',':
			sc.i++
			sc.skipSpace()
		default:
			return key, val, false, sc.fail("expected ',' or '}'")
		}
	}
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return key, val, false, sc.fail("expected a member name")
	}
	if key, err = sc.str(); err != nil {
		return key, val, false, err
	}
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
		return key, val, false, sc.fail("expected ':'")
	}
	sc.i++
	val, err = sc.value()
	return key, val, false, err
}

// value scans any JSON value, validating everything inside it.
func (sc *jwtScanner) value() (jwtValue, error) {
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return jwtValue{}, sc.fail("unexpected end of JSON")
	}
	switch c := sc.s[sc.i]; {
	case c == '"':
		return sc.str()
	case c == '{' || c == '[':
		return sc.container()
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	case c == 't':
		return sc.literal("true", jwtBool)
	case c == 'f':
		return sc.literal("false", jwtBool)
	case c == 'n':
		return sc.literal("null", jwtNull)
	}
	return jwtValue{}, sc.fail("invalid character " + strconv.QuoteRune(rune(sc.s[sc.i])))
}

func (sc *jwtScanner) literal(word string, k jwtKind) (jwtValue, error) {
	if !strings.HasPrefix(sc.s[sc.i:], word) {
		return jwtValue{}, sc.fail("invalid literal")
	}
	v := jwtValue{kind: k, start: sc.i, end: sc.i + len(word)}
	sc.i += len(word)
	return v, nil
}

// jwtStrStop marks the bytes that end a run of plain string content: the
// closing quote, a backslash and the control characters JSON forbids.
var jwtStrStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str scans a string starting at its opening quote.
func (sc *jwtScanner) str() (jwtValue, error) {
	s := sc.s
	i := sc.i + 1
	v := jwtValue{kind: jwtString, start: i}
	for {
		for i < len(s) && !jwtStrStop[s[i]] {
			i++
		}
		if i >= len(s) {
			sc.i = i
			return v, sc.fail("unterminated string")
		}
		switch c := s[i]; {
		case c == '"':
			v.end = i
			sc.i = i + 1
			return v, nil
		case c < 0x20:
			sc.i = i
			return v, sc.fail("control character in string")
		}
		// A backslash.
		v.escaped = true
		if i+1 >= len(s) {
			sc.i = i
			return v, sc.fail("unterminated escape")
		}
		switch s[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if jwtHex4(s[i+2:]) < 0 {
				sc.i = i
				return v, sc.fail(`invalid \u escape`)
			}
			i += 6
		default:
			sc.i = i
			return v, sc.fail("invalid escape")
		}
	}
}

// number scans a number (RFC 8259 §6 grammar) and checks that it fits a
// float64, as encoding/json requires when it decodes claims into
// map[string]any: a claim of 1e400 is invalid JSON to golang-jwt too.
func (sc *jwtScanner) number() (jwtValue, error) {
	v := jwtValue{kind: jwtNumber, start: sc.i}
	s := sc.s
	i := sc.i
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		sc.i = i
		return v, sc.fail("invalid number")
	}
	intEnd := i
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			sc.i = i
			return v, sc.fail("invalid number")
		}
	}
	exp := false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		exp = true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			sc.i = i
			return v, sc.fail("invalid number")
		}
	}
	sc.i, v.end = i, i
	// Without an exponent, fewer than 300 integer digits is always in range.
	if exp || intEnd-v.start >= 300 {
		if _, err := strconv.ParseFloat(s[v.start:v.end], 64); err != nil {
			return v, sc.fail("number out of range")
		}
	}
	return v, nil
}

// container scans an object or array, recursing into its values.
func (sc *jwtScanner) container() (jwtValue, error) {
	open := sc.s[sc.i]
	v := jwtValue{kind: jwtObject, start: sc.i}
	if open == '[' {
		v.kind = jwtArray
	}
	if sc.depth++; sc.depth > jwtMaxDepth {
		return v, sc.fail("nested too deeply")
	}
	sc.i++
	if open == '{' {
		for first := true; ; first = false {
			_, _, done, err := sc.member(first)
			if err != nil {
				return v, err
			}
			if done {
				break
			}
		}
	} else {
		sc.skipSpace()
		if sc.i < len(sc.s) && sc.s[sc.i] == ']' {
			sc.i++
		} else {
			for {
				if _, err := sc.value(); err != nil {
					return v, err
				}
				sc.skipSpace()
				if sc.i >= len(sc.s) {
					return v, sc.fail("unterminated array")
				}
				c := sc.s[sc.i]
				sc.i++
				if c == ']' {
					break
				}
				if c != ',' {
					sc.i--
					return v, sc.fail("expected ',' or ']'")
				}
			}
		}
	}
	sc.depth--
	v.end = sc.i
	return v, nil
}

// jwtHex4 parses the four hex digits at the start of s, or returns -1.
func jwtHex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for i := range 4 {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// jwtText returns the content of string value v of document s with its
// escapes resolved. Unescaped strings are substrings of s (no allocation).
// Surrogate handling follows encoding/json, so that both paths read the
// same names and values: a valid \uD8xx\uDCxx pair is one rune, and any
// other surrogate escape becomes U+FFFD.
func jwtText(s string, v jwtValue) string {
	raw := s[v.start:v.end]
	if !v.escaped {
		return raw
	}
	// Unescaping only shortens, so len(raw) bytes suffice; small strings
	// are built on the stack and copied once into the result.
	var stack [256]byte
	b := stack[:]
	if len(raw) > len(stack) {
		b = make([]byte, len(raw))
	}
	n := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b[n] = c
			n++
			i++
			continue
		}
		switch c = raw[i+1]; c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r := jwtHex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = jwtHex4(raw[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			n += utf8.EncodeRune(b[n:], r)
			continue
		}
		// c is now the unescaped byte ('"', '\\' and '/' stand for themselves).
		b[n] = c
		n++
		i += 2
	}
	return string(b[:n])
}
