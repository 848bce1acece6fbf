package bot

import (
	"testing"
	"time"
)

// SetHandlerTimeout shortens the limit of one update's work until the test
// ends, so that a test can outlast it.
func SetHandlerTimeout(t testing.TB, d time.Duration) {
	old := handlerTimeout
	handlerTimeout = d
	t.Cleanup(func() { handlerTimeout = old })
}
