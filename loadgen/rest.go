package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// CheckLoopback refuses a base URL whose host is not a loopback address:
// the load generator only ever talks to a server on the same machine.
func CheckLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("loadgen: server URL %q: %w", base, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("loadgen: server URL %q: only http:// (and ws://) on loopback is supported", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen: server URL %q is not a loopback address; the load generator only targets 127.0.0.0/8 or ::1", base)
	}
	return nil
}

// REST is a minimal Ably REST client for setup and the rest scenario.
type REST struct {
	Base string // e.g. http://127.0.0.1:8080
	HTTP *http.Client
}

// NewREST returns a client with keep-alive connections for up to conns
// concurrent requests and no proxy.
func NewREST(base string, conns int) *REST {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
	return &REST{Base: base, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// BasicAuth returns the Authorization header value for a full key string.
func BasicAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key))
}

// BearerAuth returns the Authorization header value for a token (base64,
// as ably-js sends it, RSA3b).
func BearerAuth(token string) string {
	return "Bearer " + base64.StdEncoding.EncodeToString([]byte(token))
}

// Do sends one request and returns the status and body; an Ably error body
// (or X-Ably-Errorcode header) on a status ≥ 400 becomes an *herald.Error.
func (r *REST) Do(ctx context.Context, method, path, authz, ctype string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		var env struct {
			Error *herald.Error `json:"error"`
		}
		if json.Unmarshal(b, &env) == nil && env.Error != nil && env.Error.Code != 0 {
			return nil, env.Error
		}
		code, _ := strconv.Atoi(resp.Header.Get("X-Ably-Errorcode"))
		if code == 0 {
			code = resp.StatusCode * 100
		}
		return nil, &herald.Error{Code: code, StatusCode: resp.StatusCode, Message: string(b)}
	}
	return b, nil
}

// Keys are the credentials the scenarios use.
type Keys struct {
	// Key is a full key string with capability {"*":["*"]}.
	Key string `json:"key"`
	// RevocableKey is a full key string with revocableTokens enabled.
	RevocableKey string `json:"revocableKey"`
}

// Provision creates a fresh app with a root key and a revocable key through
// the sandbox-style POST /apps (the server must run with --dev).
func (r *REST) Provision(ctx context.Context) (Keys, error) {
	body := []byte(`{"name":"herald-bench","keys":[{},{"revocableTokens":true}]}`)
	b, err := r.Do(ctx, http.MethodPost, "/apps", "", "application/json", body)
	if err != nil {
		return Keys{}, fmt.Errorf("loadgen: provision app (POST /apps needs herald serve --dev): %w", err)
	}
	var resp struct {
		Keys []struct {
			KeyStr string `json:"keyStr"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || len(resp.Keys) != 2 {
		return Keys{}, fmt.Errorf("loadgen: unexpected POST /apps response %.200s", b)
	}
	return Keys{Key: resp.Keys[0].KeyStr, RevocableKey: resp.Keys[1].KeyStr}, nil
}

// RequestToken asks the server for an Ably token with Basic auth
// (POST /keys/{keyName}/requestToken, RSA8) and returns the token string.
func (r *REST) RequestToken(ctx context.Context, key, clientID string, ttl time.Duration) (string, error) {
	keyName, _, _ := splitKey(key)
	params := map[string]any{"ttl": ttl.Milliseconds()}
	if clientID != "" {
		params["clientId"] = clientID
	}
	body, _ := json.Marshal(params)
	b, err := r.Do(ctx, http.MethodPost, "/keys/"+url.PathEscape(keyName)+"/requestToken", BasicAuth(key), "application/json", body)
	if err != nil {
		return "", err
	}
	var td struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &td); err != nil || td.Token == "" {
		return "", fmt.Errorf("loadgen: unexpected requestToken response %.200s", b)
	}
	return td.Token, nil
}

// RevokeTokens revokes every token of key matching targets
// (POST /keys/{keyName}/revokeTokens, RSA17).
func (r *REST) RevokeTokens(ctx context.Context, key string, targets []string) error {
	keyName, _, _ := splitKey(key)
	body, _ := json.Marshal(map[string]any{"targets": targets})
	_, err := r.Do(ctx, http.MethodPost, "/keys/"+url.PathEscape(keyName)+"/revokeTokens", BasicAuth(key), "application/json", body)
	return err
}

// Publish posts one message to a channel (POST /channels/{ch}/messages,
// RSL1) in format f with the given Authorization header.
func (r *REST) Publish(ctx context.Context, authz, channel string, f protocol.Format, data []byte) error {
	body, err := protocol.EncodeMessages(f, []*herald.Message{{Name: "bench", Data: herald.Data{Kind: herald.DataString, Bytes: data}}})
	if err != nil {
		return err
	}
	_, err = r.Do(ctx, http.MethodPost, "/channels/"+url.PathEscape(channel)+"/messages", authz, f.ContentType(), body)
	return err
}

// splitKey splits "appId.keyId:secret" into key name and secret.
func splitKey(key string) (keyName, secret string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}
