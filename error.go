package herald

import (
	"errors"
	"fmt"
	"strconv"
)

// Error mirrors Ably's ErrorInfo (spec TI1-TI5): a five-digit Code, the HTTP
// StatusCode that goes with it, a Message a user can act on and an Href to
// Ably's help page for the code. It is the only error type that transports
// write to the wire; anything else becomes 50000 with its detail only logged.
type Error struct {
	Code       int    `json:"code" msgpack:"code"`
	StatusCode int    `json:"statusCode" msgpack:"statusCode"`
	Message    string `json:"message" msgpack:"message"`
	Href       string `json:"href,omitempty" msgpack:"href,omitempty"`

	cause error
}

// Errorf returns an *Error with code, the code's table status and a formatted
// message. An unknown code gets status code/100 (ably-go's ErrorCode rule).
func Errorf(code int, format string, args ...any) *Error {
	return &Error{
		Code:       code,
		StatusCode: StatusFor(code),
		Message:    fmt.Sprintf(format, args...),
		Href:       HrefFor(code),
	}
}

// NewError returns an *Error with code and message; an empty message takes the
// code's default message from the table.
func NewError(code int, message string) *Error {
	if message == "" {
		message = DefaultMessage(code)
	}
	return &Error{Code: code, StatusCode: StatusFor(code), Message: message, Href: HrefFor(code)}
}

// WithStatus returns a copy of e with another HTTP status, for the few places
// where Ably pairs a code with a status other than its table's (e.g. 40400
// with 401 for an unknown key on an authenticated request).
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.StatusCode = status
	return &c
}

// WithCause returns a copy of e that wraps cause. The cause is for logs and
// errors.Is/As; it is never written to the wire.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

func (e *Error) Error() string {
	s := e.Message + " (code " + strconv.Itoa(e.Code) + ", status " + strconv.Itoa(e.StatusCode) + ")"
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// IsTokenError reports whether e is an Ably token error (RSA4b, RTN15h):
// statusCode 401 and 40140 <= code < 40150. SDKs renew their token on these;
// ably-go checks the status as well as the code, so both must be right.
func (e *Error) IsTokenError() bool {
	return e != nil && e.StatusCode == 401 && e.Code >= 40140 && e.Code < 40150
}

// AsError returns err as an *Error. An error that is not one (a store failure,
// a bug) becomes a 50000 internal error whose message hides the detail; the
// original stays reachable through Unwrap for logging.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return NewError(CodeInternal, "").WithCause(err)
}

// HrefFor returns the help link Ably attaches to an error code.
func HrefFor(code int) string {
	return "https://help.ably.io/error/" + strconv.Itoa(code)
}

// Sentinel errors returned by store adapters, wrapped with context.
var (
	// ErrNotFound reports that the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a record with the same identity already exists.
	ErrConflict = errors.New("already exists")
)
