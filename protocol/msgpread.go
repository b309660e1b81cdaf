package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// mpReader is a cursor over one MessagePack document. It is hand-written,
// like jsonReader, so that declared lengths are checked against the bytes
// actually present before anything is allocated, nesting is bounded
// (MaxDepth), maps decode with string keys (map[string]any, never
// map[any]any) and decoded values never alias b.
type mpReader struct {
	b []byte
	i int
	s string // copy of b for sub, made on first use
}

// MessagePack type codes.
const (
	mpNil     = 0xc0
	mpFalse   = 0xc2
	mpTrue    = 0xc3
	mpBin8    = 0xc4
	mpBin16   = 0xc5
	mpBin32   = 0xc6
	mpExt8    = 0xc7
	mpExt16   = 0xc8
	mpExt32   = 0xc9
	mpFloat32 = 0xca
	mpFloat64 = 0xcb
	mpUint8   = 0xcc
	mpUint16  = 0xcd
	mpUint32  = 0xce
	mpUint64  = 0xcf
	mpInt8    = 0xd0
	mpInt16   = 0xd1
	mpInt32   = 0xd2
	mpInt64   = 0xd3
	mpFixExt1 = 0xd4
	mpStr8    = 0xd9
	mpStr16   = 0xda
	mpStr32   = 0xdb
	mpArray16 = 0xdc
	mpArray32 = 0xdd
	mpMap16   = 0xde
	mpMap32   = 0xdf
)

// maxPrealloc caps the capacity allocated from a declared length.
const maxPrealloc = 16

func (r *mpReader) errf(format string, args ...any) error {
	return &decodeError{format: Msgpack, msg: fmt.Sprintf(format, args...) + " at offset " + strconv.Itoa(r.i)}
}

// code returns the next type byte without consuming it (0xc1, never
// used by MessagePack, at the end of input).
func (r *mpReader) code() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0xc1
}

func (r *mpReader) end() error {
	if r.i != len(r.b) {
		return r.errf("unexpected data after the top-level value")
	}
	return nil
}

// uint reads an n-byte big-endian length or number after the type byte.
func (r *mpReader) uint(n int) (uint64, error) {
	if len(r.b)-r.i < n {
		return 0, r.errf("unexpected end of input")
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	switch n {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

// kind describes the next value for type errors.
func (r *mpReader) kind() string {
	c := r.code()
	switch {
	case c <= 0x7f || c >= 0xe0 || (c >= mpUint8 && c <= mpInt64):
		return "an integer"
	case c <= 0x8f || c == mpMap16 || c == mpMap32:
		return "a map"
	case c <= 0x9f || c == mpArray16 || c == mpArray32:
		return "an array"
	case c <= 0xbf || (c >= mpStr8 && c <= mpStr32):
		return "a string"
	case c == mpNil:
		return "nil"
	case c == mpFalse || c == mpTrue:
		return "a boolean"
	case c >= mpBin8 && c <= mpBin32:
		return "binary"
	case c == mpFloat32 || c == mpFloat64:
		return "a float"
	case c == 0xc1:
		if r.i >= len(r.b) {
			return "end of input"
		}
		return "the unused type 0xc1"
	}
	return "an extension"
}

// null consumes a nil and reports whether there was one.
func (r *mpReader) null() bool {
	if r.code() == mpNil {
		r.i++
		return true
	}
	return false
}

// mapLen reads a map header. Every entry takes at least two bytes, so a
// count larger than what is left is rejected before anyone loops on it.
func (r *mpReader) mapLen() (int, error) {
	c := r.code()
	var n uint64
	var err error
	switch {
	case c >= 0x80 && c <= 0x8f:
		r.i++
		n = uint64(c & 0x0f)
	case c == mpMap16:
		r.i++
		n, err = r.uint(2)
	case c == mpMap32:
		r.i++
		n, err = r.uint(4)
	default:
		return 0, r.errf("expected a map, found %s", r.kind())
	}
	if err == nil && n > uint64(len(r.b)-r.i)/2 {
		err = r.errf("map of %d entries overruns the input", n)
	}
	return int(n), err
}

// arrayLen reads an array header; see mapLen.
func (r *mpReader) arrayLen() (int, error) {
	c := r.code()
	var n uint64
	var err error
	switch {
	case c >= 0x90 && c <= 0x9f:
		r.i++
		n = uint64(c & 0x0f)
	case c == mpArray16:
		r.i++
		n, err = r.uint(2)
	case c == mpArray32:
		r.i++
		n, err = r.uint(4)
	default:
		return 0, r.errf("expected an array, found %s", r.kind())
	}
	if err == nil && n > uint64(len(r.b)-r.i) {
		err = r.errf("array of %d elements overruns the input", n)
	}
	return int(n), err
}

// raw reads a str or bin and returns its bytes (aliasing r.b) and whether
// it was a str.
func (r *mpReader) raw() (b []byte, isStr bool, err error) {
	c := r.code()
	var n uint64
	r.i++
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, isStr = uint64(c&0x1f), true
	case c == mpStr8, c == mpBin8:
		n, err = r.uint(1)
	case c == mpStr16, c == mpBin16:
		n, err = r.uint(2)
	case c == mpStr32, c == mpBin32:
		n, err = r.uint(4)
	default:
		r.i--
		return nil, false, r.errf("expected a string, found %s", r.kind())
	}
	isStr = isStr || c == mpStr8 || c == mpStr16 || c == mpStr32
	if err != nil {
		return nil, false, err
	}
	if n > uint64(len(r.b)-r.i) {
		return nil, false, r.errf("string of %d bytes overruns the input", n)
	}
	b = r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return b, isStr, nil
}

// str reads a string field; nil reads as "". A bin is accepted too (old
// MessagePack had one raw type for both).
func (r *mpReader) str() (string, error) {
	if r.null() {
		return "", nil
	}
	b, _, err := r.raw()
	if err != nil {
		return "", err
	}
	return sub(r.b, &r.s, r.i-len(b), r.i), nil
}

// key reads a map key. A key that is not a string is skipped and comes
// back nil, which matches no field, so its value is skipped as unknown.
func (r *mpReader) key() ([]byte, error) {
	c := r.code()
	if (c >= 0xa0 && c <= 0xbf) || (c >= mpBin8 && c <= mpBin32) || (c >= mpStr8 && c <= mpStr32) {
		b, _, err := r.raw()
		return b, err
	}
	return nil, r.skip(0)
}

// number reads any integer or float. isFloat tells which of i/u/f holds it;
// isUint marks a uint64 above MaxInt64.
func (r *mpReader) number() (i int64, u uint64, f float64, isUint, isFloat bool, err error) {
	c := r.code()
	switch {
	case c <= 0x7f:
		r.i++
		return int64(c), 0, 0, false, false, nil
	case c >= 0xe0:
		r.i++
		return int64(int8(c)), 0, 0, false, false, nil
	}
	var v uint64
	r.i++
	switch c {
	case mpUint8, mpUint16, mpUint32, mpUint64:
		if v, err = r.uint(1 << (c - mpUint8)); err != nil {
			return
		}
		if v > math.MaxInt64 {
			return 0, v, 0, true, false, nil
		}
		return int64(v), 0, 0, false, false, nil
	case mpInt8:
		v, err = r.uint(1)
		return int64(int8(v)), 0, 0, false, false, err
	case mpInt16:
		v, err = r.uint(2)
		return int64(int16(v)), 0, 0, false, false, err
	case mpInt32:
		v, err = r.uint(4)
		return int64(int32(v)), 0, 0, false, false, err
	case mpInt64:
		v, err = r.uint(8)
		return int64(v), 0, 0, false, false, err
	case mpFloat32:
		v, err = r.uint(4)
		return 0, 0, float64(math.Float32frombits(uint32(v))), false, true, err
	case mpFloat64:
		v, err = r.uint(8)
		return 0, 0, math.Float64frombits(v), false, true, err
	}
	r.i--
	return 0, 0, 0, false, false, r.errf("expected a number, found %s", r.kind())
}

// int64 reads an integer field; nil reads as 0 and a float is accepted
// when it is a whole int64 (@ably/msgpack-js writes JS numbers as floats
// when they are not small integers).
func (r *mpReader) int64() (int64, error) {
	if r.null() {
		return 0, nil
	}
	i, _, f, isUint, isFloat, err := r.number()
	switch {
	case err != nil:
		return 0, err
	case isUint:
		return 0, r.errf("integer out of range")
	case isFloat:
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, r.errf("expected an integer")
		}
		return int64(f), nil
	}
	return i, nil
}

// skip validates and skips one value of any type.
func (r *mpReader) skip(depth int) error {
	c := r.code()
	switch {
	case c <= 0x7f || c >= 0xe0 || c == mpNil || c == mpFalse || c == mpTrue:
		r.i++
		return nil
	case (c >= 0x80 && c <= 0x8f) || c == mpMap16 || c == mpMap32:
		if depth >= MaxDepth {
			return r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.mapLen()
		for ; err == nil && n > 0; n-- {
			if err = r.skip(depth + 1); err == nil {
				err = r.skip(depth + 1)
			}
		}
		return err
	case (c >= 0x90 && c <= 0x9f) || c == mpArray16 || c == mpArray32:
		if depth >= MaxDepth {
			return r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.arrayLen()
		for ; err == nil && n > 0; n-- {
			err = r.skip(depth + 1)
		}
		return err
	case (c >= 0xa0 && c <= 0xbf) || (c >= mpBin8 && c <= mpBin32) || (c >= mpStr8 && c <= mpStr32):
		_, _, err := r.raw()
		return err
	case c >= mpFloat32 && c <= mpInt64:
		_, _, _, _, _, err := r.number()
		return err
	case c >= mpFixExt1 && c <= 0xd8: // fixext: type byte + 1, 2, 4, 8 or 16 bytes
		return r.skipBytes(1 + 1<<(c-mpFixExt1))
	case c >= mpExt8 && c <= mpExt32:
		r.i++
		n, err := r.uint(1 << (c - mpExt8))
		if err != nil {
			return err
		}
		if n > uint64(len(r.b)-r.i) {
			return r.errf("extension overruns the input")
		}
		return r.skipBytes(1 + int(n))
	}
	return r.errf("unexpected %s", r.kind())
}

func isExt(c byte) bool {
	return (c >= mpExt8 && c <= mpExt32) || (c >= mpFixExt1 && c <= 0xd8)
}

// skipBytes skips the type byte and n more.
func (r *mpReader) skipBytes(n int) error {
	if len(r.b)-r.i-1 < n {
		return r.errf("unexpected end of input")
	}
	r.i += 1 + n
	return nil
}

// value reads a value as extras hold it: nil, bool, string, int64, uint64,
// float64, []any or map[string]any. The same extras must also be written
// as JSON, so binary, extension types, NaN and non-string map keys are
// errors.
func (r *mpReader) value(depth int) (any, error) {
	c := r.code()
	switch {
	case c == mpNil:
		r.i++
		return nil, nil
	case c == mpFalse || c == mpTrue:
		r.i++
		return c == mpTrue, nil
	case (c >= 0x80 && c <= 0x8f) || c == mpMap16 || c == mpMap32:
		if depth >= MaxDepth {
			return nil, r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.mapLen()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, min(n, maxPrealloc))
		for ; n > 0; n-- {
			k, err := r.stringKey()
			if err != nil {
				return nil, err
			}
			if m[k], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case (c >= 0x90 && c <= 0x9f) || c == mpArray16 || c == mpArray32:
		if depth >= MaxDepth {
			return nil, r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.arrayLen()
		if err != nil {
			return nil, err
		}
		a := make([]any, 0, min(n, maxPrealloc))
		for ; n > 0; n-- {
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case (c >= 0xa0 && c <= 0xbf) || (c >= mpStr8 && c <= mpStr32):
		return r.str()
	case c >= mpBin8 && c <= mpBin32:
		return nil, r.errf("binary inside structured data has no JSON form")
	case isExt(c):
		return nil, r.errf("extension type has no JSON form")
	}
	i, u, f, isUint, isFloat, err := r.number()
	switch {
	case err != nil:
		return nil, err
	case isUint:
		return u, nil
	case isFloat:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, r.errf("%v has no JSON form", f)
		}
		return f, nil
	}
	return i, nil
}

func (r *mpReader) stringKey() (string, error) {
	b, err := r.stringKeyBytes()
	if err != nil {
		return "", err
	}
	return sub(r.b, &r.s, r.i-len(b), r.i), nil
}

// stringKeyBytes reads a key of a generic map: a str (or a bin, which old
// MessagePack used for strings too); any other key has no JSON form.
func (r *mpReader) stringKeyBytes() ([]byte, error) {
	c := r.code()
	if (c >= 0xa0 && c <= 0xbf) || (c >= mpStr8 && c <= mpStr32) || (c >= mpBin8 && c <= mpBin32) {
		b, _, err := r.raw()
		return b, err
	}
	return nil, r.errf("map key must be a string, found %s", r.kind())
}

// toJSON appends the next value as compact JSON text: how a map, array,
// number or boolean payload is kept (herald.DataJSON) so that JSON readers
// get it too. Values with no JSON form (binary inside a structure,
// extension types, NaN, non-string keys) are errors.
func (r *mpReader) toJSON(dst []byte, depth int) ([]byte, error) {
	c := r.code()
	switch {
	case c == mpNil:
		r.i++
		return append(dst, "null"...), nil
	case c == mpFalse:
		r.i++
		return append(dst, "false"...), nil
	case c == mpTrue:
		r.i++
		return append(dst, "true"...), nil
	case (c >= 0x80 && c <= 0x8f) || c == mpMap16 || c == mpMap32:
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.mapLen()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '{')
		for j := 0; j < n; j++ {
			if j > 0 {
				dst = append(dst, ',')
			}
			k, err := r.stringKeyBytes()
			if err != nil {
				return dst, err
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			if dst, err = r.toJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case (c >= 0x90 && c <= 0x9f) || c == mpArray16 || c == mpArray32:
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		n, err := r.arrayLen()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for j := 0; j < n; j++ {
			if j > 0 {
				dst = append(dst, ',')
			}
			if dst, err = r.toJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case (c >= 0xa0 && c <= 0xbf) || (c >= mpStr8 && c <= mpStr32):
		b, _, err := r.raw()
		return appendJSONString(dst, b), err
	case c >= mpBin8 && c <= mpBin32:
		return dst, r.errf("binary inside structured data has no JSON form")
	case isExt(c):
		return dst, r.errf("extension type has no JSON form")
	}
	i, u, f, isUint, isFloat, err := r.number()
	switch {
	case err != nil:
		return dst, err
	case isUint:
		return strconv.AppendUint(dst, u, 10), nil
	case isFloat:
		bits := 64
		if c == mpFloat32 {
			bits = 32
		}
		if dst, err = appendJSONFloat(dst, f, bits); err != nil {
			return dst, r.errf("%v", err)
		}
		return dst, nil
	}
	return strconv.AppendInt(dst, i, 10), nil
}
