package httpapi

import (
	"github.com/heraldrt/herald/auth"
)

// requireAppWide checks an app-wide operation (stats, channel enumeration):
// it must be granted on "*" or "[*]*" (ably-auth §5.2, §5.4).
func requireAppWide(p *auth.Principal, op auth.Op) error {
	return p.RequireAppWide(op)
}
