package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// provisionRequest is the sandbox's post_apps body (ably-common
// test-resources/test-app-setup.json; protocol.md §C). Fields Herald does
// not use (limits) are accepted and ignored.
type provisionRequest struct {
	Keys       []provisionKey    `json:"keys"`
	Namespaces []json.RawMessage `json:"namespaces"`
	Channels   []json.RawMessage `json:"channels"`
	Limits     json.RawMessage   `json:"limits"`
	Name       string            `json:"name"`
	// RevokeByChannel (Herald's extension) enables "channel:" revocation
	// targets for the app, which Ably enables per account on request.
	RevokeByChannel bool `json:"revokeByChannel"`
}

type provisionKey struct {
	Name            string          `json:"name"`
	Capability      json.RawMessage `json:"capability"`
	RevocableTokens *bool           `json:"revocableTokens"`
}

type provisionNamespace struct {
	ID              string `json:"id"`
	Persisted       bool   `json:"persisted"`
	PushEnabled     bool   `json:"pushEnabled"`
	MutableMessages bool   `json:"mutableMessages"`
}

type provisionChannel struct {
	Name     string            `json:"name"`
	Presence []json.RawMessage `json:"presence"`
}

// provisionedKey is one key of the response: ably-js reads keyName,
// keySecret, keyStr and capability; ably-go reads id and value (the secret).
type provisionedKey struct {
	ID              string `json:"id"`
	Value           string `json:"value"`
	KeyName         string `json:"keyName"`
	KeySecret       string `json:"keySecret"`
	KeyStr          string `json:"keyStr"`
	Capability      string `json:"capability"`
	RevocableTokens bool   `json:"revocableTokens"`
	Status          int    `json:"status"`
	Created         int64  `json:"created"`
	Modified        int64  `json:"modified"`
}

type provisionResponse struct {
	AppID      string            `json:"appId"`
	AccountID  string            `json:"accountId"`
	Keys       []provisionedKey  `json:"keys"`
	Namespaces []json.RawMessage `json:"namespaces"`
	Channels   []json.RawMessage `json:"channels"`
	Endpoint   string            `json:"endpoint"`
	Port       int               `json:"port"`
	TLS        bool              `json:"tls"`
}

// Limits on provisioning bodies (Herald's, documented in docs/decisions.md).
const (
	maxProvisionKeys       = 100
	maxProvisionNamespaces = 100
	maxProvisionChannels   = 1000
	maxNamespaceIDLen      = 256
)

// postApps provisions an app the way Ably's sandbox does: app, keys,
// namespaces and channel fixtures are written in one transaction.
func (h *Handler) postApps(w http.ResponseWriter, r *http.Request) error {
	if !h.cfg.Provisioning {
		return herald.Errorf(herald.CodeNotFound, "No such endpoint: %s %s (provisioning is disabled; start the server with --dev or --provisioning-token)", r.Method, r.URL.Path)
	}
	if h.cfg.ProvisioningToken != "" {
		if !bearerMatches(r, h.cfg.ProvisioningToken) {
			return herald.NewError(herald.CodeUnauthorized,
				"POST /apps requires the provisioning token: send Authorization: Bearer <token>")
		}
	}
	var req provisionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	p, err := h.buildProvisioning(&req)
	if err != nil {
		return err
	}
	if err := h.deps.Store.Provision(r.Context(), p); err != nil {
		return fmt.Errorf("httpapi: provision app: %w", err)
	}
	if err := h.deps.Auth.Keys().Invalidate(r.Context()); err != nil {
		return err
	}
	if h.deps.Hub != nil {
		if err := LoadFixtures(r.Context(), h.deps.Store, h.deps.Hub, p.App.ID); err != nil {
			return err
		}
	}
	setApp(r, p.App.ID)
	if h.deps.Audit != nil {
		keyNames := make([]string, len(p.Keys))
		for i, k := range p.Keys {
			keyNames[i] = k.KeyName()
		}
		details, _ := json.Marshal(map[string]any{"name": p.App.Name, "keys": keyNames})
		h.deps.Audit.Record(r.Context(), &herald.AuditEntry{Time: p.App.Created, AppID: p.App.ID, Kind: herald.AuditAppCreate,
			Actor: "provisioning", Target: p.App.ID, Address: r.RemoteAddr, Details: string(details)})
	}
	resp := provisionResponse{
		AppID:      p.App.ID,
		AccountID:  p.App.AccountID,
		Keys:       make([]provisionedKey, len(p.Keys)),
		Namespaces: nonNil(req.Namespaces),
		Channels:   nonNil(req.Channels),
	}
	for i, k := range p.Keys {
		resp.Keys[i] = provisionedKey{
			ID: k.ID, Value: k.Secret, KeyName: k.KeyName(), KeySecret: k.Secret, KeyStr: k.KeyString(),
			Capability: k.Capability, RevocableTokens: k.RevocableTokens, Status: int(k.Status),
			Created: k.Created.UnixMilli(), Modified: k.Modified.UnixMilli(),
		}
	}
	resp.Endpoint, resp.Port, resp.TLS = h.endpointOf(r)
	return write(w, r, http.StatusCreated, resp)
}

func nonNil(v []json.RawMessage) []json.RawMessage {
	if v == nil {
		return []json.RawMessage{}
	}
	return v
}

// buildProvisioning validates the whole body before anything is written, so
// every error names the offending field and nothing is half-created.
func (h *Handler) buildProvisioning(req *provisionRequest) (*herald.Provisioning, error) {
	now := h.deps.Clock.Now()
	app := &herald.App{
		ID: auth.NewAppID(), AccountID: h.cfg.AccountID, Name: req.Name,
		Status: herald.AppEnabled, Created: now, Modified: now, RevokeByChannel: req.RevokeByChannel,
	}
	if app.Name == "" {
		app.Name = "sandbox-" + app.ID
	}
	if len(req.Keys) > maxProvisionKeys {
		return nil, fieldError("keys", "has %d entries; at most %d are allowed", len(req.Keys), maxProvisionKeys)
	}
	if len(req.Keys) == 0 {
		req.Keys = []provisionKey{{}}
	}
	p := &herald.Provisioning{App: app}
	seenKeyIDs := map[string]bool{}
	for i, pk := range req.Keys {
		field := "keys[" + strconv.Itoa(i) + "]"
		capability, err := capabilityField(pk.Capability, field+".capability")
		if err != nil {
			return nil, err
		}
		id := auth.NewKeyID()
		for seenKeyIDs[id] {
			id = auth.NewKeyID()
		}
		seenKeyIDs[id] = true
		k := &herald.Key{
			AppID: app.ID, ID: id, Secret: auth.NewSecret(), Name: pk.Name,
			Capability: capability, Status: herald.KeyEnabled, Created: now, Modified: now,
		}
		if pk.RevocableTokens != nil {
			k.RevocableTokens = *pk.RevocableTokens
		}
		p.Keys = append(p.Keys, k)
	}
	if len(req.Namespaces) > maxProvisionNamespaces {
		return nil, fieldError("namespaces", "has %d entries; at most %d are allowed", len(req.Namespaces), maxProvisionNamespaces)
	}
	seenNS := map[string]bool{}
	for i, raw := range req.Namespaces {
		field := "namespaces[" + strconv.Itoa(i) + "]"
		var ns provisionNamespace
		if err := strictObject(raw, &ns); err != nil {
			return nil, fieldError(field, "must be an object with a string id: %v", err)
		}
		if ns.ID == "" || len(ns.ID) > maxNamespaceIDLen {
			return nil, fieldError(field+".id", "must be a non-empty string of at most %d bytes", maxNamespaceIDLen)
		}
		if bytes.ContainsAny([]byte(ns.ID), ":*[]\n") {
			return nil, fieldError(field+".id", "%q may not contain ':', '*', brackets or newlines", ns.ID)
		}
		if seenNS[ns.ID] {
			return nil, fieldError(field+".id", "%q appears twice", ns.ID)
		}
		seenNS[ns.ID] = true
		p.Namespaces = append(p.Namespaces, &herald.Namespace{
			AppID: app.ID, ID: ns.ID, Persisted: ns.Persisted, PushEnabled: ns.PushEnabled,
			MutableMessages: ns.MutableMessages, Raw: raw,
		})
	}
	if len(req.Channels) > maxProvisionChannels {
		return nil, fieldError("channels", "has %d entries; at most %d are allowed", len(req.Channels), maxProvisionChannels)
	}
	seenCh := map[string]bool{}
	for i, raw := range req.Channels {
		field := "channels[" + strconv.Itoa(i) + "]"
		var ch provisionChannel
		if err := strictObject(raw, &ch); err != nil {
			return nil, fieldError(field, "must be an object with a string name and a presence array: %v", err)
		}
		if err := auth.ValidateChannelName(ch.Name); err != nil {
			return nil, fieldError(field+".name", "%s", herald.AsError(err).Message)
		}
		if seenCh[ch.Name] {
			return nil, fieldError(field+".name", "%q appears twice", ch.Name)
		}
		seenCh[ch.Name] = true
		for j, pm := range ch.Presence {
			var m struct {
				ClientID string `json:"clientId"`
			}
			if err := strictObject(pm, &m); err != nil || m.ClientID == "" {
				return nil, fieldError(field+".presence["+strconv.Itoa(j)+"]", "must be an object with a non-empty clientId")
			}
		}
		p.Channels = append(p.Channels, &herald.ChannelFixture{AppID: app.ID, Name: ch.Name, Raw: raw})
	}
	return p, nil
}

// capabilityField accepts a capability as a JSON string (the sandbox form)
// or an object (the Control API form), keeps its exact text, and validates
// it with the capability engine. Absent means the default {"*":["*"]}.
func capabilityField(raw json.RawMessage, field string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return herald.DefaultCapability, nil
	}
	var text string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", fieldError(field, "is not a valid JSON string")
		}
	case '{':
		text = string(raw)
	default:
		return "", fieldError(field, "must be a JSON object or a string holding one")
	}
	if _, err := auth.ParseCapability(text); err != nil {
		return "", fieldError(field, "%s", herald.AsError(err).Message)
	}
	return text, nil
}

func strictObject(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(raw, v)
}

func fieldError(field, format string, args ...any) *herald.Error {
	return herald.Errorf(herald.CodeBadRequest, "Invalid provisioning request: %s %s", field, fmt.Sprintf(format, args...))
}

// endpointOf reports how the client reached us, for the response's
// endpoint/port/tls (local-sandbox mode reads them).
func (h *Handler) endpointOf(r *http.Request) (string, int, bool) {
	tls := h.isTLS(r)
	host, portStr, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
		portStr = "80"
		if tls {
			portStr = "443"
		}
	}
	port, _ := strconv.Atoi(portStr)
	if host == "" {
		host = "localhost"
	}
	return host, port, tls
}

func bearerMatches(r *http.Request, token string) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || !bytes.EqualFold([]byte(h[:len(prefix)]), []byte(prefix)) {
		return false
	}
	return auth.SecretEqual(h[len(prefix):], token)
}

// deleteApp deletes a provisioned app. The caller proves ownership with
// Basic auth of one of the app's keys (the ably-js root after-hook does
// this), or with the provisioning token.
func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if !h.cfg.Provisioning {
		return herald.Errorf(herald.CodeNotFound, "No such endpoint: %s %s (provisioning is disabled)", r.Method, r.URL.Path)
	}
	appID := r.PathValue("appID")
	actor := "provisioning"
	if !(h.cfg.ProvisioningToken != "" && bearerMatches(r, h.cfg.ProvisioningToken)) {
		c, err := h.credentials(r)
		if err != nil {
			return err
		}
		if c.Key == "" {
			return herald.NewError(herald.CodeInvalidCredentials,
				"Deleting an app requires Basic authentication with one of its keys")
		}
		p, err := h.deps.Auth.Authenticate(r.Context(), c)
		if err != nil {
			return err
		}
		if p.AppID != appID {
			return herald.Errorf(herald.CodeForbidden, "The key %q does not belong to app %q", p.KeyName, appID)
		}
		actor = "key:" + p.KeyName
	}
	if err := h.deps.Store.DeleteApp(r.Context(), appID); err != nil {
		if errors.Is(err, herald.ErrNotFound) {
			return herald.Errorf(herald.CodeNotFound, "No such app %q", appID)
		}
		return err
	}
	if h.deps.Stats != nil {
		h.deps.Stats.Forget(appID)
	}
	if h.deps.Hub != nil {
		h.deps.Hub.DropApp(appID)
	}
	if err := h.deps.Auth.Keys().Invalidate(r.Context()); err != nil {
		return err
	}
	if h.deps.Audit != nil {
		h.deps.Audit.Record(r.Context(), &herald.AuditEntry{Time: h.deps.Clock.Now(), AppID: appID, Kind: herald.AuditAppDelete,
			Actor: actor, Target: appID, Address: r.RemoteAddr})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
