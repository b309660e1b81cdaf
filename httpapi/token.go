package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/stats"
)

// tokenRequestBody is a TokenRequest or TokenParams as SDKs post it (JSON
// from ably-js, msgpack from ably-go). Numbers may arrive as JSON numbers or
// numeric strings, and the capability as a JSON string or an object.
type tokenRequestBody struct {
	KeyName    string          `json:"keyName"`
	TTL        json.RawMessage `json:"ttl"`
	Capability json.RawMessage `json:"capability"`
	ClientID   json.RawMessage `json:"clientId"`
	Timestamp  json.RawMessage `json:"timestamp"`
	Nonce      string          `json:"nonce"`
	MAC        string          `json:"mac"`
}

// requestToken answers POST /keys/{keyName}/requestToken (RSA8, ably-auth
// §3.5) with a TokenDetails.
func (h *Handler) requestToken(w http.ResponseWriter, r *http.Request) error {
	keyName := r.PathValue("keyName")
	// Count the request for the key's app when the key exists.
	if _, err := h.deps.Auth.Keys().Lookup(r.Context(), keyName); err == nil {
		appID, _, _ := herald.SplitKeyName(keyName)
		setApp(r, appID)
	}
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		ri.tokenRequest = true
	}
	var body tokenRequestBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	req, err := body.toTokenRequest()
	if err != nil {
		return err
	}
	var caller *auth.Principal
	if req.MAC == "" && r.Header.Get("Authorization") != "" {
		if caller, err = h.authenticate(r); err != nil {
			return err
		}
	}
	td, err := h.deps.Auth.RequestToken(r.Context(), keyName, req, caller)
	if err != nil {
		return err
	}
	return write(w, r, http.StatusOK, td)
}

var decimalRe = regexp.MustCompile(`^-?[0-9]+$`)

func (b *tokenRequestBody) toTokenRequest() (*herald.TokenRequest, error) {
	req := &herald.TokenRequest{KeyName: b.KeyName, Nonce: b.Nonce, MAC: b.MAC}
	var err error
	if req.TTL, err = decimalField(b.TTL, "ttl"); err != nil {
		return nil, err
	}
	if req.Timestamp, err = decimalField(b.Timestamp, "timestamp"); err != nil {
		return nil, err
	}
	capRaw := bytes.TrimSpace(b.Capability)
	switch {
	case len(capRaw) == 0 || string(capRaw) == "null":
	case capRaw[0] == '"':
		if err := json.Unmarshal(capRaw, &req.Capability); err != nil {
			return nil, herald.NewError(herald.CodeInvalidRequestBody, "Invalid capability: not a valid JSON string")
		}
	case capRaw[0] == '{':
		req.Capability = string(capRaw)
	default:
		return nil, herald.NewError(herald.CodeBadRequest, "Invalid capability: expected a JSON object or a string holding one")
	}
	cid := bytes.TrimSpace(b.ClientID)
	switch {
	case len(cid) == 0 || string(cid) == "null":
	case cid[0] == '"':
		if err := json.Unmarshal(cid, &req.ClientID); err != nil {
			return nil, herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: not a valid string")
		}
		req.HasClientID = true
	default:
		return nil, herald.NewError(herald.CodeInvalidClientID, "Invalid clientId: it must be a string")
	}
	return req, nil
}

// decimalField returns the decimal text of a ttl or timestamp sent as a
// JSON number or a numeric string; that text is what the mac covers.
func decimalField(raw json.RawMessage, name string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", herald.Errorf(herald.CodeInvalidParamValue, "Invalid %s: not a valid string", name)
		}
		if s == "" {
			return "", nil
		}
	}
	if decimalRe.MatchString(s) {
		return s, nil
	}
	// A number with a fraction or exponent is accepted only when integral.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return "", herald.Errorf(herald.CodeInvalidParamValue, "Invalid %s %s: expected a whole number of milliseconds", name, truncateStr(s, 40))
	}
	return strconv.FormatInt(int64(f), 10), nil
}

func truncateStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// countTokenRequest adds a token request outcome to the app's stats.
func countTokenRequest(rec *stats.Recorder, appID string, status int) {
	switch {
	case status < 400:
		rec.Incr(appID, stats.TokenRequestsSucceeded, 1)
	case status == 401 || status == 403 || status == 429:
		rec.Incr(appID, stats.TokenRequestsRefused, 1)
	default:
		rec.Incr(appID, stats.TokenRequestsFailed, 1)
	}
}
