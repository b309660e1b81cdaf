package controlapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// appResponse is control-v1.yaml's app_response, plus Herald's created,
// modified and revokeByChannel.
type appResponse struct {
	AccountID       string `json:"accountId"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	TLSOnly         bool   `json:"tlsOnly"`
	RevokeByChannel bool   `json:"revokeByChannel"`
	Created         int64  `json:"created"`
	Modified        int64  `json:"modified"`
}

func toAppResponse(a *herald.App) appResponse {
	return appResponse{AccountID: a.AccountID, ID: a.ID, Name: a.Name, Status: string(a.Status), TLSOnly: a.TLSOnly,
		RevokeByChannel: a.RevokeByChannel, Created: a.Created.UnixMilli(), Modified: a.Modified.UnixMilli()}
}

// appBody is app_post and app_patch. The push fields are Ably's; Herald has
// no push notifications, so they may only be absent or null.
type appBody struct {
	Name            *string `json:"name"`
	Status          *string `json:"status"`
	TLSOnly         *bool   `json:"tlsOnly"`
	RevokeByChannel *bool   `json:"revokeByChannel"`

	FCMKey                 json.RawMessage `json:"fcmKey"`
	APNSCertificate        json.RawMessage `json:"apnsCertificate"`
	APNSPrivateKey         json.RawMessage `json:"apnsPrivateKey"`
	APNSUseSandboxEndpoint json.RawMessage `json:"apnsUseSandboxEndpoint"`
}

// maxNameLen bounds app, key and access-token names.
const maxNameLen = 256

// validName checks a friendly name: UTF-8, no control characters, at most
// maxNameLen bytes; empty is allowed unless required.
func validName(field, s string, required bool) error {
	switch {
	case required && s == "":
		return invalid(field, "must not be empty")
	case len(s) > maxNameLen:
		return invalid(field, "is longer than %d bytes", maxNameLen)
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// apply validates b and applies it to app, returning the names of the
// fields that changed.
func (b *appBody) apply(app *herald.App) ([]string, error) {
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"fcmKey", b.FCMKey}, {"apnsCertificate", b.APNSCertificate}, {"apnsPrivateKey", b.APNSPrivateKey},
		{"apnsUseSandboxEndpoint", b.APNSUseSandboxEndpoint}} {
		if len(f.raw) > 0 && string(f.raw) != "null" {
			return nil, invalid(f.name, "push notifications are not supported by Herald; omit the field or send null")
		}
	}
	var changed []string
	if b.Name != nil {
		if err := validName("name", *b.Name, true); err != nil {
			return nil, err
		}
		if *b.Name != app.Name {
			app.Name, changed = *b.Name, append(changed, "name")
		}
	}
	if b.Status != nil {
		st := herald.AppStatus(*b.Status)
		if st != herald.AppEnabled && st != herald.AppDisabled {
			return nil, invalid("status", "%q is not a status; use \"enabled\" or \"disabled\"", *b.Status)
		}
		if st != app.Status {
			app.Status, changed = st, append(changed, "status")
		}
	}
	if b.TLSOnly != nil && *b.TLSOnly != app.TLSOnly {
		app.TLSOnly, changed = *b.TLSOnly, append(changed, "tlsOnly")
	}
	if b.RevokeByChannel != nil && *b.RevokeByChannel != app.RevokeByChannel {
		app.RevokeByChannel, changed = *b.RevokeByChannel, append(changed, "revokeByChannel")
	}
	return changed, nil
}

// account checks that the path's account is the token's (there is only
// one account per installation).
func (h *Handler) account(r *http.Request, tok *herald.AccessToken) error {
	id := r.PathValue("accountID")
	if id != tok.AccountID || id != h.cfg.AccountID {
		return notFound("No such account %q (this server's account is %q)", id, tok.AccountID)
	}
	return nil
}

// app returns the app in the path, or a 404 if it does not exist or
// belongs to another account.
func (h *Handler) app(ctx context.Context, tok *herald.AccessToken, id string) (*herald.App, error) {
	app, err := h.deps.Store.App(ctx, id)
	if errors.Is(err, herald.ErrNotFound) || (err == nil && app.AccountID != tok.AccountID) {
		return nil, notFound("No such app %q", id)
	}
	return app, err
}

func (h *Handler) listApps(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	if err := h.account(r, tok); err != nil {
		return err
	}
	apps, err := h.deps.Store.Apps(r.Context())
	if err != nil {
		return err
	}
	out := make([]appResponse, 0, len(apps))
	for _, a := range apps {
		if a.AccountID == tok.AccountID {
			out = append(out, toAppResponse(a))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// createApp creates an app with a root key ({"*":["*"]}), as Ably's
// dashboard does, in one transaction.
func (h *Handler) createApp(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	if err := h.account(r, tok); err != nil {
		return err
	}
	var b appBody
	if err := decodeBody(r, &b, false); err != nil {
		return err
	}
	if b.Name == nil {
		return invalid("name", "is required")
	}
	now := h.deps.Clock.Now()
	app := &herald.App{ID: auth.NewAppID(), AccountID: tok.AccountID, Status: herald.AppEnabled, Created: now, Modified: now}
	if _, err := b.apply(app); err != nil {
		return err
	}
	root := &herald.Key{AppID: app.ID, ID: auth.NewKeyID(), Secret: auth.NewSecret(), Name: "Root",
		Capability: herald.DefaultCapability, Status: herald.KeyEnabled, Created: now, Modified: now}
	if err := h.deps.Store.Provision(r.Context(), &herald.Provisioning{App: app, Keys: []*herald.Key{root}}); err != nil {
		return fmt.Errorf("controlapi: create app: %w", err)
	}
	if err := h.invalidate(r.Context()); err != nil {
		return err
	}
	h.record(r, tok, &herald.AuditEntry{AppID: app.ID, Kind: herald.AuditAppCreate, Target: app.ID,
		Details: detailsJSON(map[string]any{"name": app.Name, "status": app.Status, "rootKey": root.KeyName()})})
	return writeJSON(w, http.StatusCreated, toAppResponse(app))
}

func (h *Handler) updateApp(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	app, err := h.app(r.Context(), tok, r.PathValue("appID"))
	if err != nil {
		return err
	}
	var b appBody
	if err := decodeBody(r, &b, false); err != nil {
		return err
	}
	changed, err := b.apply(app)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		app.Modified = h.deps.Clock.Now()
		if err := h.deps.Store.UpdateApp(r.Context(), app); err != nil {
			return fmt.Errorf("controlapi: update app: %w", err)
		}
		// A disabled app's connections are closed by the key recheck.
		if err := h.invalidate(r.Context()); err != nil {
			return err
		}
		h.record(r, tok, &herald.AuditEntry{AppID: app.ID, Kind: herald.AuditAppUpdate, Target: app.ID,
			Details: detailsJSON(map[string]any{"changed": changed})})
	}
	return writeJSON(w, http.StatusOK, toAppResponse(app))
}

func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	app, err := h.app(r.Context(), tok, r.PathValue("appID"))
	if err != nil {
		return err
	}
	if err := h.deps.Store.DeleteApp(r.Context(), app.ID); err != nil {
		if errors.Is(err, herald.ErrNotFound) {
			return notFound("No such app %q", app.ID)
		}
		return fmt.Errorf("controlapi: delete app: %w", err)
	}
	if h.deps.OnAppDeleted != nil {
		h.deps.OnAppDeleted(app.ID)
	}
	if err := h.invalidate(r.Context()); err != nil {
		return err
	}
	h.record(r, tok, &herald.AuditEntry{AppID: app.ID, Kind: herald.AuditAppDelete, Target: app.ID,
		Details: detailsJSON(map[string]any{"name": app.Name})})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// detailsJSON renders audit details; the values are Herald's own, so
// marshalling cannot fail.
func detailsJSON(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
