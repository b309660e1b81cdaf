package httpapi

import (
	"context"
	"encoding/json"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/hub"
)

// LoadFixtures puts an app's provisioned presence fixtures into the hub, so
// that REST and realtime presence see them (ably-protocol §C).
func LoadFixtures(ctx context.Context, store herald.ProvisionStore, h *hub.Hub, appID string) error {
	fxs, err := store.ChannelFixtures(ctx, appID)
	if err != nil {
		return err
	}
	for _, fx := range fxs {
		var ch struct {
			Presence []struct {
				ClientID string          `json:"clientId"`
				Data     json.RawMessage `json:"data"`
				Encoding string          `json:"encoding"`
			} `json:"presence"`
		}
		if err := json.Unmarshal(fx.Raw, &ch); err != nil {
			continue // validated when provisioned; skip anything odd
		}
		members := make([]*herald.PresenceMessage, 0, len(ch.Presence))
		for _, p := range ch.Presence {
			m := &herald.PresenceMessage{ClientID: p.ClientID, Encoding: p.Encoding}
			var s string
			switch {
			case len(p.Data) == 0 || string(p.Data) == "null":
			case json.Unmarshal(p.Data, &s) == nil:
				m.Data = herald.Data{Kind: herald.DataString, Bytes: []byte(s)}
			default:
				m.Data = herald.Data{Kind: herald.DataJSON, Bytes: p.Data}
			}
			members = append(members, m)
		}
		h.AddFixtures(appID, fx.Name, members)
	}
	return nil
}
