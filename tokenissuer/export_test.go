package tokenissuer

import "crypto/hmac"
import "crypto/sha256"

// CountSigning makes i count the HMAC states it creates and returns the
// counter. A fresh Issuer has none pooled, so any signing shows up.
func CountSigning(i *Issuer) *int {
	n := new(int)
	i.macs.New = func() any {
		*n++
		return hmac.New(sha256.New, i.secret)
	}
	return n
}
