package main

import (
	"context"
	"errors"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"
)

// TestBinary_LinksNoTestCode: the production binary links no test code:
// neither "testing" nor net/http/httptest, nor a test helper package of
// Herald's own (telegramtest, storagetest, openaitest). The playground's
// emulator is bot/tgemu for that reason.
func TestBinary_LinksNoTestCode(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: the binary's imports are not listed")
	}
	// A bound, not a measure: go list may load the module cache on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocmd, "list", "-deps", "-test=false", ".")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || deps[len(deps)-1] != "github.com/herald-relay/herald" {
		t.Fatalf("go list -deps did not list the main package last:\n%s", out)
	}
	for _, p := range deps {
		own := strings.HasPrefix(p, "github.com/herald-relay/herald/") && strings.HasSuffix(path.Base(p), "test")
		if p == "testing" || p == "net/http/httptest" || own {
			t.Errorf("the binary links %s", p)
		}
	}
}
