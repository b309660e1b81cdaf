package tokenissuer

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldrt/herald"
)

// Content types an SDK accepts from an authUrl (ably-auth §4.1 "authUrl
// content types"; RSA8c): a token string as application/jwt or text/plain,
// a TokenRequest or TokenDetails object as application/json.
const (
	ContentTypeJWT  = "application/jwt"
	ContentTypeText = "text/plain; charset=utf-8"
	ContentTypeJSON = "application/json"
)

// AuthResponse is the body of an authUrl response with its Content-Type.
type AuthResponse struct {
	ContentType string
	Body        []byte
}

// JWTResponse answers with the bare JWT as application/jwt, the form Ably
// recommends; SDKs use the token string as it is.
func JWTResponse(jwt string) AuthResponse {
	return AuthResponse{ContentType: ContentTypeJWT, Body: []byte(jwt)}
}

// TextResponse answers with a token string (an Ably token or a JWT) as
// text/plain, for clients that expect it.
func TextResponse(token string) AuthResponse {
	return AuthResponse{ContentType: ContentTypeText, Body: []byte(token)}
}

// TokenRequestResponse answers with r as application/json. The SDK sees a
// keyName and no issued field, so it posts r to the server's requestToken
// endpoint to get a token (ably-js auth.ts requestToken).
func TokenRequestResponse(r *TokenRequest) AuthResponse {
	return jsonResponse(r)
}

// TokenDetailsResponse answers with d as application/json. The SDK sees
// the issued field and uses d.Token directly, and it learns the expiry up
// front, which a bare JWT does not tell it.
func TokenDetailsResponse(d *TokenDetails) AuthResponse {
	return jsonResponse(d)
}

func jsonResponse(v any) AuthResponse {
	b, err := json.Marshal(v)
	if err != nil { // only strings and integers: cannot happen
		panic("tokenissuer: encoding a token response: " + err.Error())
	}
	return AuthResponse{ContentType: ContentTypeJSON, Body: b}
}

// Write sends r with status 200 and headers that keep the token out of
// caches (Cache-Control: no-store) and stop content sniffing.
func (r AuthResponse) Write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", r.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.Body)
	return err
}

// WriteError sends err as an Ably ErrorInfo body, {"error":{code,
// statusCode, message, href}}, with its status. An error that is not a
// *herald.Error becomes a 500 (50000) whose detail is not sent. SDKs treat
// a 403 from an authUrl as final and anything else as worth a retry
// (RSA4d), so use 403 only when retrying cannot help.
func WriteError(w http.ResponseWriter, err error) {
	e := herald.AsError(err)
	b, _ := json.Marshal(struct {
		Error *herald.Error `json:"error"`
	}{e})
	h := w.Header()
	h.Set("Content-Type", ContentTypeJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.StatusCode)
	w.Write(b)
}
