package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/heraldrt/herald"
)

// MaxKeyPartLen bounds each part of a key string so that a huge credential
// cannot make lookups or error messages expensive.
const MaxKeyPartLen = 256

// ParsedKey is a key string split into its parts (RSA11: keyName is
// everything before the first ':').
type ParsedKey struct {
	AppID   string
	KeyID   string
	Secret  string
	KeyName string
}

// ParseKey splits "appId.keyId:secret". Every malformed shape (no ':', empty
// secret, keyName without '.', empty appId or keyId, control characters,
// oversized parts) is a 40005 error whose message never contains the secret.
func ParseKey(s string) (ParsedKey, error) {
	keyName, secret, found := strings.Cut(s, ":")
	if !found {
		return ParsedKey{}, herald.NewError(herald.CodeInvalidCredential,
			"Invalid key in request: a key has the form appId.keyId:secret and this one has no ':'")
	}
	if err := ValidateKeyName(keyName); err != nil {
		return ParsedKey{}, err
	}
	if secret == "" {
		return ParsedKey{}, herald.Errorf(herald.CodeInvalidCredential,
			"Invalid key in request: key %q has an empty secret", keyName)
	}
	if len(secret) > MaxKeyPartLen || hasControl(secret) {
		return ParsedKey{}, herald.Errorf(herald.CodeInvalidCredential,
			"Invalid key in request: the secret of key %q is malformed", keyName)
	}
	appID, keyID, _ := herald.SplitKeyName(keyName)
	return ParsedKey{AppID: appID, KeyID: keyID, Secret: secret, KeyName: keyName}, nil
}

// ValidateKeyName checks an "appId.keyId" key name (40005 when malformed).
func ValidateKeyName(keyName string) error {
	if keyName == "" {
		return herald.NewError(herald.CodeInvalidCredential, "Invalid key in request: the key name is empty")
	}
	if len(keyName) > 2*MaxKeyPartLen+1 || hasControl(keyName) {
		return herald.NewError(herald.CodeInvalidCredential, "Invalid key in request: the key name is malformed")
	}
	if strings.ContainsAny(keyName, ":/ ") {
		return herald.Errorf(herald.CodeInvalidCredential,
			"Invalid key in request: key name %q may not contain ':', '/' or spaces", keyName)
	}
	if _, _, ok := herald.SplitKeyName(keyName); !ok {
		return herald.Errorf(herald.CodeInvalidCredential,
			"Invalid key in request: key name %q is not of the form appId.keyId", keyName)
	}
	return nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// SecretEqual reports whether two secrets are equal, in time that depends on
// neither their contents nor their lengths: both are hashed first, so the
// constant-time compare always sees 32 bytes.
func SecretEqual(a, b string) bool {
	ha := sha256.Sum256([]byte(a))
	hb := sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// idAlphabet is URL-safe and has no '.', ':' or '-' at odd places that could
// confuse key or token parsing.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// RandomID returns n random URL-safe characters from crypto/rand. App ids,
// key ids and secrets are made with it (secrets with n >= 32).
func RandomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])&63]
	}
	return string(b)
}

// NewAppID returns a fresh app id: 6 URL-safe characters that start with a
// letter (so ids never start with '-' and are valid everywhere).
func NewAppID() string { return letterFirst(6) }

// NewKeyID returns a fresh key id of 6 URL-safe characters.
func NewKeyID() string { return letterFirst(6) }

// NewSecret returns a fresh key secret: 43 URL-safe characters (258 bits).
func NewSecret() string { return RandomID(43) }

func letterFirst(n int) string {
	for {
		id := RandomID(n)
		c := id[0]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			return id
		}
	}
}
