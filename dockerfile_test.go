package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// No Docker engine runs in CI: these tests check what can be checked of the
// image's files without one.

// TestDockerfile_BuildFlags: the Dockerfile and the release configuration
// build the same static binary with the same flags, and the version stamp
// lands in main.version.
func TestDockerfile_BuildFlags(t *testing.T) {
	docker := readFile(t, "Dockerfile")
	release := readFile(t, ".goreleaser.yaml")
	run := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)`).FindStringSubmatch(docker)
	if run == nil {
		t.Fatal("Dockerfile: no RUN CGO_ENABLED=0 go build line")
	}
	for _, flag := range []string{"-trimpath", `-ldflags "-s -w -X main.version=`} {
		if !strings.Contains(run[1], flag) {
			t.Errorf("Dockerfile's go build lacks %s: %s", flag, run[1])
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "- -trimpath", "- -s -w -X main.version={{.Version}}"} {
		if !strings.Contains(release, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		if !strings.Contains(release, goos) {
			t.Errorf(".goreleaser.yaml builds no %s binary", goos)
		}
	}
	if !strings.Contains(release, "arm64") || !strings.Contains(release, "amd64") {
		t.Error(".goreleaser.yaml must build amd64 and arm64")
	}
	// The Go version of the build image is the one go.mod asks for.
	goVer := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(readFile(t, "go.mod"))
	if goVer == nil || !strings.Contains(docker, "FROM golang:"+goVer[1]+"-") {
		t.Errorf("Dockerfile's build image is not pinned to go %v", goVer)
	}
}

// TestDockerfile_Runtime: both images run as the non-root user, keep the
// database in a /data volume that user owns, and check their health with
// the binary itself (distroless has no curl).
func TestDockerfile_Runtime(t *testing.T) {
	for _, name := range []string{"Dockerfile", "release.Dockerfile"} {
		s := readFile(t, name)
		for _, want := range []string{
			"--chown=65532:65532", "VOLUME /data", "USER 65532:65532",
			`HEALTHCHECK`, `CMD ["/herald", "healthcheck"]`, "DATABASE_URL=sqlite:/data/herald.db",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Index(s, "--chown=65532:65532") > strings.Index(s, "VOLUME /data") {
			t.Errorf("%s: /data must be made and owned before VOLUME declares it", name)
		}
	}
	compose := readFile(t, "compose.yaml")
	for _, want := range []string{"ADMIN_IDS", "ACCESS_MODE", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "${POSTGRES_PASSWORD:?", `"/herald", "healthcheck"`} {
		if !strings.Contains(compose, want) {
			t.Errorf("compose.yaml lacks %q", want)
		}
	}
	if strings.Contains(compose, "POSTGRES_PASSWORD: herald") {
		t.Error("compose.yaml hard-codes the PostgreSQL password")
	}
	ignore := readFile(t, ".dockerignore")
	for _, want := range []string{".git", "*.db"} {
		if !strings.Contains(ignore, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
