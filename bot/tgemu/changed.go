package tgemu

// Changed returns a channel that is closed at the fake's next change: a
// message sent, edited or deleted, a callback answered, an update queued or
// confirmed, a membership changed, or Close. Read the state, then wait on the
// channel taken before reading, to miss nothing; a playground long-polls
// this way.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wake
}
