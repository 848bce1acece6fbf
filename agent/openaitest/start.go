package openaitest

import "testing"

// Start starts a fake for one test and closes it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}
