package agent

import "time"

// SetClock makes the agent read the time, for how long it remembers a
// response format the server refused, from now.
func SetClock(a *Agent, now func() time.Time) {
	a.llm.mu.Lock()
	defer a.llm.mu.Unlock()
	a.llm.now = now
}

// ModeMemory is how long a refused response format is remembered.
const ModeMemory = modeMemory
