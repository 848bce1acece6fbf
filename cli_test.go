package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs herald with args and env, returning the exit code and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLI_Help(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, _ := runCLI(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, want := range []string{"healthcheck", "TELEGRAM_BOT_TOKEN", "PUBLIC_URL", "[http://localhost:8080]", "HOOK_RATE_LIMIT", "[100/m]", "LOG_FORMAT"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, out)
			}
		}
	}
	t.Run("Render", func(t *testing.T) {
		if code, _, errOut := runCLI(t, nil, "render", "--help"); code != 0 || !strings.Contains(errOut, "usage: herald render") {
			t.Fatalf("render --help: exit %d, %q", code, errOut)
		}
	})
	t.Run("MigrateDoesNotMigrate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		code, out, _ := runCLI(t, map[string]string{"DATABASE_URL": "sqlite:" + path}, "migrate", "--help")
		if code != 0 || !strings.Contains(out, "usage: herald migrate") {
			t.Fatalf("migrate --help: exit %d, %q", code, out)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("migrate --help created the database (stat: %v)", err)
		}
		if code, _, _ := runCLI(t, map[string]string{"DATABASE_URL": "sqlite:" + path}, "migrate", "extra"); code != 2 {
			t.Fatalf("migrate with an argument: exit %d, want 2", code)
		}
	})
	t.Run("Healthcheck", func(t *testing.T) {
		if code, _, errOut := runCLI(t, nil, "healthcheck", "-h"); code != 0 || !strings.Contains(errOut, "usage: herald healthcheck") {
			t.Fatalf("healthcheck -h: exit %d, %q", code, errOut)
		}
	})
}

func TestCLI_Version(t *testing.T) {
	for _, arg := range []string{"version", "-v", "--version"} {
		code, out, _ := runCLI(t, nil, arg)
		if code != 0 || !strings.HasPrefix(out, "herald ") || strings.TrimSpace(out) == "herald" {
			t.Fatalf("%s: exit %d, %q", arg, code, out)
		}
	}
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	if ver, _, _ := buildInfo(); ver != "v1.2.3" {
		t.Fatalf("buildInfo with -X main.version: %q", ver)
	}
	version = ""
	if ver, _, _ := buildInfo(); ver == "" {
		t.Fatal("buildInfo without a version is empty, want dev or the module's")
	}
}

func TestCLI_EveryBadVariable(t *testing.T) {
	code, _, errOut := runCLI(t, map[string]string{"LOG_LEVEL": "loud", "ACCESS_MODE": "x"})
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	for _, want := range []string{"TELEGRAM_BOT_TOKEN", "ACCESS_MODE", "LOG_LEVEL"} {
		found := false
		for _, l := range lines {
			if strings.Contains(l, want) {
				found = true
				if !strings.HasPrefix(l, "herald: ") {
					t.Errorf("line without the herald: prefix: %q", l)
				}
			}
		}
		if !found {
			t.Errorf("%s not reported:\n%s", want, errOut)
		}
	}
}

func TestCLI_Healthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	t.Run("OK", func(t *testing.T) {
		if code, out, errOut := runCLI(t, map[string]string{"LISTEN_ADDR": addr}, "healthcheck"); code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
	})
	t.Run("NotReady", func(t *testing.T) {
		status = http.StatusServiceUnavailable
		defer func() { status = http.StatusOK }()
		if code, _, errOut := runCLI(t, nil, "healthcheck", "-url", srv.URL+"/readyz"); code != 1 || !strings.Contains(errOut, "503") {
			t.Fatalf("exit %d, %q; want 1 naming the 503", code, errOut)
		}
	})
	t.Run("NoServer", func(t *testing.T) {
		if code, _, _ := runCLI(t, map[string]string{"LISTEN_ADDR": freeAddr(t)}, "healthcheck"); code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
	})
}

func TestConfig_WebhookModeNeedsHTTPS(t *testing.T) {
	env := map[string]string{"TELEGRAM_BOT_TOKEN": "123456:" + strings.Repeat("A", 30), "TELEGRAM_MODE": "webhook", "PUBLIC_URL": "http://herald.example.com"}
	get := func(k string) string { return env[k] }
	if _, err := parseConfig(get, true); err == nil || !strings.Contains(err.Error(), "HTTPS") {
		t.Fatalf("webhook mode with an http PUBLIC_URL: %v, want refused", err)
	}
	env["PUBLIC_URL"] = "https://herald.example.com"
	if _, err := parseConfig(get, true); err != nil {
		t.Fatalf("https PUBLIC_URL: %v", err)
	}
	// A self-hosted Bot API server may post to plain HTTP.
	env["PUBLIC_URL"], env["TELEGRAM_API_URL"] = "http://10.0.0.5:8080", "http://botapi.internal:8081"
	if _, err := parseConfig(get, true); err != nil {
		t.Fatalf("self-hosted Bot API with http: %v", err)
	}
}

func TestConfig_Warnings(t *testing.T) {
	for _, tc := range []struct {
		public, listen string
		want           []string // substrings, one per warning
	}{
		{"http://localhost:8080", ":8080", []string{"loopback"}},
		{"http://127.0.0.1:9000", ":8080", []string{"loopback", "port 9000"}},
		{"https://herald.example.com", ":8080", nil},
		{"http://herald.example.com:9000", ":8080", []string{"port 9000"}},
		{"http://203.0.113.7:8080", "0.0.0.0:8080", nil},
	} {
		got := configWarnings(Config{PublicURL: tc.public, ListenAddr: tc.listen})
		if len(got) != len(tc.want) {
			t.Errorf("%s on %s: %d warnings %q, want %d", tc.public, tc.listen, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: warning %q lacks %q", tc.public, got[i], w)
			}
		}
	}
}
