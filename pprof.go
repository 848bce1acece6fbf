//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // the profiles, on DefaultServeMux
	"os"
)

// Built with -tags pprof (benchmarks only, never a release), herald serves
// net/http/pprof on HERALD_PPROF_ADDR, a loopback address, for profiling
// under load: bench/ingest.sh PPROF=1.
func init() {
	if addr := os.Getenv("HERALD_PPROF_ADDR"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
