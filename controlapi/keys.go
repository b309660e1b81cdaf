package controlapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// keyResponse is control-v1.yaml's key_response (ably-auth §9.2): key is the
// full key string, secret included, as Ably returns it to holders of
// read:key. Herald adds restriction (when the capability has that shape)
// and previousSecretExpires (ms, while a rotation's overlap is open).
type keyResponse struct {
	AppID                 string          `json:"appId"`
	ID                    string          `json:"id"`
	Name                  string          `json:"name"`
	RevocableTokens       bool            `json:"revocableTokens"`
	Status                int             `json:"status"`
	Key                   string          `json:"key"`
	Capability            json.RawMessage `json:"capability"`
	Restriction           *restriction    `json:"restriction,omitempty"`
	Created               int64           `json:"created"`
	Modified              int64           `json:"modified"`
	PreviousSecretExpires int64           `json:"previousSecretExpires,omitempty"`
}

func toKeyResponse(k *herald.Key, now time.Time) keyResponse {
	resp := keyResponse{AppID: k.AppID, ID: k.ID, Name: k.Name, RevocableTokens: k.RevocableTokens,
		Status: int(k.Status), Key: k.KeyString(), Created: k.Created.UnixMilli(), Modified: k.Modified.UnixMilli()}
	// The canonical form lists operations sorted, as Ably's responses do.
	if c, err := auth.ParseCapability(k.Capability); err == nil {
		resp.Capability, resp.Restriction = json.RawMessage(c.Canonical()), restrictionOf(c)
	} else if json.Valid([]byte(k.Capability)) && bytes.HasPrefix(bytes.TrimSpace([]byte(k.Capability)), []byte("{")) {
		resp.Capability = json.RawMessage(k.Capability)
	} else {
		resp.Capability = json.RawMessage(`{}`)
	}
	if k.PreviousSecretValid(now) {
		resp.PreviousSecretExpires = k.PreviousExpires.UnixMilli()
	}
	return resp
}

// keyBody is key_post and key_patch, plus Herald's restriction: a key's
// capability comes from either "capability" or "restriction", not both.
type keyBody struct {
	Name            *string         `json:"name"`
	Capability      json.RawMessage `json:"capability"`
	RevocableTokens *bool           `json:"revocableTokens"`
	Restriction     json.RawMessage `json:"restriction"`
}

// has reports whether a field of the body was given (and not null).
func has(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// apply validates b and applies it to k, returning the changed fields.
func (b *keyBody) apply(k *herald.Key) ([]string, error) {
	var changed []string
	if b.Name != nil {
		if err := validName("name", *b.Name, false); err != nil {
			return nil, err
		}
		if *b.Name != k.Name {
			k.Name, changed = *b.Name, append(changed, "name")
		}
	}
	if has(b.Capability) && has(b.Restriction) {
		return nil, invalid("restriction", "give either capability or restriction, not both")
	}
	var capability string
	var err error
	switch {
	case has(b.Capability):
		capability, err = capabilityField(b.Capability)
	case has(b.Restriction):
		var rs restriction
		if err := decodeObject(b.Restriction, &rs, "restriction"); err != nil {
			return nil, err
		}
		capability, err = rs.capability()
	}
	if err != nil {
		return nil, err
	}
	if capability != "" && capability != k.Capability {
		k.Capability, changed = capability, append(changed, "capability")
	}
	if b.RevocableTokens != nil && *b.RevocableTokens != k.RevocableTokens {
		k.RevocableTokens, changed = *b.RevocableTokens, append(changed, "revocableTokens")
	}
	return changed, nil
}

// key returns the app's key in the path, or a 404.
func (h *Handler) key(ctx context.Context, tok *herald.AccessToken, r *http.Request) (*herald.Key, error) {
	app, err := h.app(ctx, tok, r.PathValue("appID"))
	if err != nil {
		return nil, err
	}
	keyID := r.PathValue("keyID")
	k, err := h.deps.Store.Key(ctx, app.ID+"."+keyID)
	if errors.Is(err, herald.ErrNotFound) {
		return nil, notFound("No such key %q in app %q", keyID, app.ID)
	}
	return k, err
}

// writableKey is key for the endpoints that change a key: a revoked key is
// kept for the record but cannot change any more (409).
func (h *Handler) writableKey(ctx context.Context, tok *herald.AccessToken, r *http.Request) (*herald.Key, error) {
	k, err := h.key(ctx, tok, r)
	if err == nil && k.Status == herald.KeyRevoked {
		return nil, conflict("Key %q is revoked; a revoked key cannot be changed (create a new one)", k.KeyName())
	}
	return k, err
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	app, err := h.app(r.Context(), tok, r.PathValue("appID"))
	if err != nil {
		return err
	}
	keys, err := h.deps.Store.Keys(r.Context(), app.ID)
	if err != nil {
		return err
	}
	now := h.deps.Clock.Now()
	out := make([]keyResponse, len(keys))
	for i, k := range keys {
		out[i] = toKeyResponse(k, now)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getKey(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	k, err := h.key(r.Context(), tok, r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toKeyResponse(k, h.deps.Clock.Now()))
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	app, err := h.app(r.Context(), tok, r.PathValue("appID"))
	if err != nil {
		return err
	}
	var b keyBody
	if err := decodeBody(r, &b, false); err != nil {
		return err
	}
	if b.Name == nil {
		return invalid("name", "is required")
	}
	if !has(b.Capability) && !has(b.Restriction) {
		return invalid("capability", "is required (or give Herald's restriction instead)")
	}
	now := h.deps.Clock.Now()
	k := &herald.Key{AppID: app.ID, Secret: auth.NewSecret(), Status: herald.KeyEnabled, Created: now, Modified: now}
	if _, err := b.apply(k); err != nil {
		return err
	}
	// Key ids are random; retry the rare collision.
	for attempt := 0; ; attempt++ {
		k.ID = auth.NewKeyID()
		err = h.deps.Store.CreateKey(r.Context(), k)
		if !errors.Is(err, herald.ErrConflict) || attempt == 3 {
			break
		}
	}
	if errors.Is(err, herald.ErrNotFound) {
		return notFound("No such app %q", app.ID)
	}
	if err != nil {
		return fmt.Errorf("controlapi: create key: %w", err)
	}
	if err := h.invalidate(r.Context()); err != nil {
		return err
	}
	h.record(r, tok, &herald.AuditEntry{AppID: app.ID, Kind: herald.AuditKeyCreate, Target: k.KeyName(),
		Details: detailsJSON(map[string]any{"name": k.Name, "capability": json.RawMessage(k.Capability), "revocableTokens": k.RevocableTokens})})
	return writeJSON(w, http.StatusCreated, toKeyResponse(k, now))
}

func (h *Handler) updateKey(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	k, err := h.writableKey(r.Context(), tok, r)
	if err != nil {
		return err
	}
	var b keyBody
	if err := decodeBody(r, &b, false); err != nil {
		return err
	}
	changed, err := b.apply(k)
	if err != nil {
		return err
	}
	now := h.deps.Clock.Now()
	if len(changed) > 0 {
		k.Modified = now
		if err := h.deps.Store.UpdateKey(r.Context(), k); err != nil {
			return fmt.Errorf("controlapi: update key: %w", err)
		}
		if err := h.invalidate(r.Context()); err != nil {
			return err
		}
		h.record(r, tok, &herald.AuditEntry{AppID: k.AppID, Kind: herald.AuditKeyUpdate, Target: k.KeyName(),
			Details: detailsJSON(map[string]any{"changed": changed})})
	}
	return writeJSON(w, http.StatusOK, toKeyResponse(k, now))
}

// revokeKey revokes a key (control-v1.yaml: 200, empty body). The key is
// kept with status 1 rather than deleted; reloading the key cache makes
// every token, JWT and Basic credential of the key fail at once (40131)
// and closes its live connections. Revoking a revoked key changes nothing.
func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	k, err := h.key(r.Context(), tok, r)
	if err != nil {
		return err
	}
	if k.Status != herald.KeyRevoked {
		k.Status, k.Modified = herald.KeyRevoked, h.deps.Clock.Now()
		if err := h.deps.Store.UpdateKey(r.Context(), k); err != nil {
			return fmt.Errorf("controlapi: revoke key: %w", err)
		}
		if err := h.invalidate(r.Context()); err != nil {
			return err
		}
		h.record(r, tok, &herald.AuditEntry{AppID: k.AppID, Kind: herald.AuditKeyRevoke, Target: k.KeyName()})
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// rotateBody is Herald's rotation request: the overlap during which the
// old secret keeps working, in ms (overlap) or seconds (overlapSeconds).
type rotateBody struct {
	Overlap        *int64 `json:"overlap"`
	OverlapSeconds *int64 `json:"overlapSeconds"`
}

func (b *rotateBody) overlap() (time.Duration, error) {
	d := auth.DefaultRotationOverlap
	switch {
	case b.Overlap != nil && b.OverlapSeconds != nil:
		return 0, invalid("overlap", "give overlap (ms) or overlapSeconds, not both")
	case b.Overlap != nil:
		if *b.Overlap < 0 || *b.Overlap > auth.MaxRotationOverlap.Milliseconds() {
			return 0, invalid("overlap", "must be 0 to %d ms (%s)", auth.MaxRotationOverlap.Milliseconds(), auth.MaxRotationOverlap)
		}
		d = time.Duration(*b.Overlap) * time.Millisecond
	case b.OverlapSeconds != nil:
		if *b.OverlapSeconds < 0 || *b.OverlapSeconds > int64(auth.MaxRotationOverlap/time.Second) {
			return 0, invalid("overlapSeconds", "must be 0 to %d seconds (%s)", int64(auth.MaxRotationOverlap/time.Second), auth.MaxRotationOverlap)
		}
		d = time.Duration(*b.OverlapSeconds) * time.Second
	}
	return d, nil
}

// rotateKey gives a key a new secret (Herald's extension). Until the
// overlap ends, the old secret keeps working for Basic auth, token requests,
// tokens and JWTs; live connections are not touched. The response carries
// the new key string.
func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	k, err := h.writableKey(r.Context(), tok, r)
	if err != nil {
		return err
	}
	var b rotateBody
	if err := decodeBody(r, &b, true); err != nil {
		return err
	}
	overlap, err := b.overlap()
	if err != nil {
		return err
	}
	now := h.deps.Clock.Now()
	auth.Rotate(k, now, overlap)
	if err := h.deps.Store.UpdateKey(r.Context(), k); err != nil {
		return fmt.Errorf("controlapi: rotate key: %w", err)
	}
	if err := h.invalidate(r.Context()); err != nil {
		return err
	}
	details := map[string]any{"overlapMs": overlap.Milliseconds()}
	if !k.PreviousExpires.IsZero() {
		details["previousSecretExpires"] = k.PreviousExpires.UnixMilli()
	}
	h.record(r, tok, &herald.AuditEntry{AppID: k.AppID, Kind: herald.AuditKeyRotate, Target: k.KeyName(), Details: detailsJSON(details)})
	return writeJSON(w, http.StatusOK, toKeyResponse(k, now))
}
