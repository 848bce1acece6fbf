package tgemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Updates are queued until the bot confirms them, as described in
// https://core.telegram.org/bots/api#getting-updates: getUpdates confirms
// every update below its offset, a webhook confirms an update by answering
// 2xx.

type queuedUpdate struct {
	id   int64
	kind string
	raw  json.RawMessage
}

// defaultExcluded are the update kinds Telegram does not deliver unless they
// are asked for in allowed_updates.
var defaultExcluded = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

// enqueueLocked queues an update of the given kind (the Update field name,
// e.g. "message") and returns its update_id, or 0 when allowed_updates
// filters it out, as Telegram drops such updates.
func (s *Server) enqueueLocked(kind string, payload any) int64 {
	if s.allowed != nil && !s.allowed[kind] || s.allowed == nil && defaultExcluded[kind] {
		return 0
	}
	id := s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("tgemu: encoding %s update: %v", kind, err))
	}
	raw, _ := json.Marshal(map[string]json.RawMessage{
		"update_id": json.RawMessage(fmt.Sprint(id)),
		kind:        body,
	})
	s.pending = append(s.pending, queuedUpdate{id: id, kind: kind, raw: raw})
	s.broadcastLocked()
	return id
}

// SendUpdate queues an arbitrary update: kind is the name of the Update
// field (e.g. "inline_query") and payload its JSON-encodable value. It
// returns the update_id.
func (s *Server) SendUpdate(kind string, payload any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueueLocked(kind, payload)
}

// PendingUpdates returns how many updates are waiting for the bot to
// confirm them.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

func (s *Server) setAllowedLocked(raw string) *apiError {
	if raw == "" {
		return nil
	}
	var kinds []string
	if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
		return badRequest("can't parse allowed updates JSON array")
	}
	if len(kinds) == 0 {
		s.allowed = nil
		return nil
	}
	s.allowed = map[string]bool{}
	for _, k := range kinds {
		s.allowed[k] = true
	}
	return nil
}

// poller is a getUpdates request waiting for updates.
type poller struct {
	kicked chan struct{}
}

const (
	conflictWebhook    = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	conflictTerminated = "terminated by other getUpdates request; make sure that only one bot instance is running"
)

// getUpdates implements https://core.telegram.org/bots/api#getupdates with
// long polling. Like Telegram, a newer getUpdates terminates a waiting one
// with 409 Conflict.
func getUpdates(s *Server, r *request) (any, *apiError) {
	offset, _ := r.p.int64("offset")
	limit := r.p.int("limit")
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := max(r.p.int("timeout"), 0)

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		return nil, conflict(conflictWebhook)
	}
	if err := s.setAllowedLocked(r.p.str("allowed_updates")); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	// Confirm: updates below a positive offset are forgotten; a negative
	// offset keeps only the last -offset updates.
	switch {
	case offset > 0:
		k := 0
		for k < len(s.pending) && s.pending[k].id < offset {
			k++
		}
		s.pending = s.pending[k:]
	case offset < 0:
		if keep := int(-offset); keep < len(s.pending) {
			s.pending = s.pending[len(s.pending)-keep:]
		}
	}
	if s.poller != nil {
		close(s.poller.kicked)
	}
	me := &poller{kicked: make(chan struct{})}
	s.poller = me

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		timer = t.C
	}
	defer func() {
		s.mu.Lock()
		if s.poller == me {
			s.poller = nil
		}
		s.mu.Unlock()
	}()
	for {
		if len(s.pending) > 0 || timeout == 0 || s.closed {
			n := min(limit, len(s.pending))
			out := make([]json.RawMessage, n)
			for k := range n {
				out[k] = s.pending[k].raw
			}
			s.mu.Unlock()
			return out, nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-me.kicked:
			s.mu.Lock()
			webhook := s.webhook.url != ""
			s.mu.Unlock()
			if webhook {
				return nil, conflict(conflictWebhook)
			}
			return nil, conflict(conflictTerminated)
		case <-timer:
			return []json.RawMessage{}, nil
		case <-r.ctx.Done():
			return []json.RawMessage{}, nil
		}
		s.mu.Lock()
		if s.webhook.url != "" {
			s.mu.Unlock()
			return nil, conflict(conflictWebhook)
		}
	}
}

type webhookState struct {
	url            string
	secret         string
	maxConnections int
	lastErrorDate  time.Time
	lastErrorMsg   string
	stop           context.CancelFunc
}

func (s *Server) stopWebhookLocked() {
	if s.webhook.stop != nil {
		s.webhook.stop()
		s.webhook.stop = nil
	}
}

// setWebhook implements https://core.telegram.org/bots/api#setwebhook. Unlike
// Telegram, which insists on HTTPS on ports 443, 80, 88 or 8443, any http or
// https URL is accepted so that tests can use httptest servers.
func setWebhook(s *Server, r *request) (any, *apiError) {
	raw := strings.TrimSpace(r.p.str("url"))
	secret := r.p.str("secret_token")
	if raw == "" {
		return deleteWebhook(s, r)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, badRequest("bad webhook: invalid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	// secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
	if len(secret) > 256 || strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		return nil, badRequest("secret token contains unallowed characters")
	}
	maxConn := r.p.int("max_connections")
	if maxConn == 0 {
		maxConn = 40
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.setAllowedLocked(r.p.str("allowed_updates")); err != nil {
		return nil, err
	}
	if r.p.bool("drop_pending_updates") {
		s.pending = nil
	}
	if s.webhook.url == raw && s.webhook.secret == secret {
		return okResult{true, "Webhook is already set"}, nil
	}
	s.stopWebhookLocked()
	ctx, cancel := context.WithCancel(context.Background())
	s.webhook = webhookState{url: raw, secret: secret, maxConnections: maxConn, stop: cancel}
	if s.poller != nil {
		close(s.poller.kicked)
		s.poller = nil
	}
	if !s.closed {
		s.wg.Add(1)
		go s.deliver(ctx)
	}
	s.broadcastLocked()
	return okResult{true, "Webhook was set"}, nil
}

// deleteWebhook implements https://core.telegram.org/bots/api#deletewebhook.
func deleteWebhook(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.p.bool("drop_pending_updates") {
		s.pending = nil
	}
	if s.webhook.url == "" {
		return okResult{true, "Webhook is already deleted"}, nil
	}
	s.stopWebhookLocked()
	s.webhook = webhookState{}
	s.broadcastLocked()
	return okResult{true, "Webhook was deleted"}, nil
}

// getWebhookInfo implements https://core.telegram.org/bots/api#getwebhookinfo.
func getWebhookInfo(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := map[string]any{
		"url":                    s.webhook.url,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.pending),
	}
	if s.webhook.url != "" {
		info["max_connections"] = s.webhook.maxConnections
		info["ip_address"] = "127.0.0.1"
		if !s.webhook.lastErrorDate.IsZero() {
			info["last_error_date"] = s.webhook.lastErrorDate.Unix()
			info["last_error_message"] = s.webhook.lastErrorMsg
		}
	}
	return info, nil
}

// deliver posts pending updates to the webhook one at a time, in order, until
// ctx ends. A non-2xx answer or a network error is retried with a doubling
// delay; after webhookAttempts failures the update is dropped.
func (s *Server) deliver(ctx context.Context) {
	defer s.wg.Done()
	attempts := 0
	backoff := s.webhookBackoff
	for {
		s.mu.Lock()
		for len(s.pending) == 0 {
			wake := s.wake
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			s.mu.Lock()
		}
		up := s.pending[0]
		target, secret := s.webhook.url, s.webhook.secret
		s.mu.Unlock()

		errMsg := s.post(ctx, target, secret, up.raw)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if errMsg == "" {
			s.removePendingLocked(up.id)
			s.mu.Unlock()
			attempts, backoff = 0, s.webhookBackoff
			continue
		}
		s.webhook.lastErrorDate, s.webhook.lastErrorMsg = s.now(), errMsg
		attempts++
		if attempts >= s.webhookAttempts {
			s.removePendingLocked(up.id)
			attempts, backoff = 0, s.webhookBackoff
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff *= 2
	}
}

func (s *Server) removePendingLocked(id int64) {
	for k, u := range s.pending {
		if u.id == id {
			s.pending = append(s.pending[:k:k], s.pending[k+1:]...)
			s.broadcastLocked()
			return
		}
	}
}

// post sends one update and returns the error, worded as getWebhookInfo's
// last_error_message, or "".
func (s *Server) post(ctx context.Context, target, secret string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "Invalid webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.webhookClient.Do(req)
	if err != nil {
		return "Connection refused"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("Wrong response from the webhook: %s", resp.Status)
	}
	return ""
}
