package forward

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Standard Webhooks signing.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

// secretPrefix starts every signing secret.
const secretPrefix = "whsec_"

// secretBytes is the length of a new secret's key (the spec asks for 24 to
// 64 bytes).
const secretBytes = 32

// NewSecret makes a signing secret: "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	key := make([]byte, secretBytes)
	rand.Read(key) // never fails (crypto/rand)
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// errSecret is a secret that is not "whsec_<base64>".
var errSecret = errors.New("forward: malformed signing secret")

// Sign returns the webhook-signature header value for a message:
// "v1," and the base64 HMAC-SHA256, keyed with the secret's decoded bytes,
// of "<msgID>.<timestamp>.<body>".
func Sign(secret, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return "", errSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
