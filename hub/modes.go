package hub

import "github.com/heraldrt/herald/auth"

// Modes is a set of channel modes (TR3, ably-protocol §A.7). The bit values
// are those of the ATTACH/ATTACHED flags, so the realtime transport passes
// flags through unchanged.
type Modes uint32

// Channel modes.
const (
	ModePresence            Modes = 1 << 16
	ModePublish             Modes = 1 << 17
	ModeSubscribe           Modes = 1 << 18
	ModePresenceSubscribe   Modes = 1 << 19
	ModeAnnotationPublish   Modes = 1 << 21
	ModeAnnotationSubscribe Modes = 1 << 22
	ModeObjectSubscribe     Modes = 1 << 24
	ModeObjectPublish       Modes = 1 << 25

	// AllModes is every mode Herald grants.
	AllModes = ModePresence | ModePublish | ModeSubscribe | ModePresenceSubscribe |
		ModeAnnotationPublish | ModeAnnotationSubscribe | ModeObjectSubscribe | ModeObjectPublish
)

// Has reports whether s contains every mode of m.
func (s Modes) Has(m Modes) bool { return s&m == m }

// ModesFor returns the modes a capability's operations allow: subscribe
// allows message and presence subscription, presence allows entering.
func ModesFor(ops auth.OpSet) Modes {
	var m Modes
	if ops.Has(auth.OpPresence) {
		m |= ModePresence
	}
	if ops.Has(auth.OpPublish) {
		m |= ModePublish
	}
	if ops.Has(auth.OpSubscribe) {
		m |= ModeSubscribe | ModePresenceSubscribe
	}
	if ops.Has(auth.OpAnnotationPublish) {
		m |= ModeAnnotationPublish
	}
	if ops.Has(auth.OpAnnotationSubscribe) {
		m |= ModeAnnotationSubscribe
	}
	if ops.Has(auth.OpObjectSubscribe) {
		m |= ModeObjectSubscribe
	}
	if ops.Has(auth.OpObjectPublish) {
		m |= ModeObjectPublish
	}
	return m
}
