package webhook

import (
	"net/http"
	"strconv"
	"time"

	"github.com/herald-relay/herald/storage"
)

// eventResponse is an event's status (SPEC §3).
type eventResponse struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	ReceivedAt  time.Time  `json:"received_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	Attempts    int        `json:"attempts"`
	Error       string     `json:"error"`
}

func toEventResponse(e storage.Event) eventResponse {
	return eventResponse{ID: e.ID, Status: e.Status, ReceivedAt: e.ReceivedAt, DeliveredAt: e.DeliveredAt, Attempts: e.Attempts, Error: e.Error}
}

func (s *Server) handleEventGet(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.db.EventByID(r.Context(), wh.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	writeJSON(w, http.StatusOK, toEventResponse(e))
}

const (
	defaultEventLimit = 20
	maxEventLimit     = 100
)

func (s *Server) handleEventList(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit := defaultEventLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		limit = min(n, maxEventLimit)
	}
	events, err := s.db.EventsByWebhook(r.Context(), wh.ID, limit)
	if err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	out := make([]eventResponse, len(events))
	for i, e := range events {
		out[i] = toEventResponse(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}
