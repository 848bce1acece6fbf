package relay

import (
	"context"
	"fmt"

	"github.com/herald-relay/herald/agent"
)

// Summary returns an event's notification in lang, for those who need it
// outside Telegram delivery (outbound forwarding): made once per event and
// language, the same one a chat in that language gets, read back from the
// summaries table when it exists already.
func (r *Relay) Summary(ctx context.Context, eventID, lang string) (agent.Notification, error) {
	ev, err := r.db.EventForDelivery(ctx, eventID)
	if err != nil {
		return agent.Notification{}, fmt.Errorf("relay: summary: %w", err)
	}
	return r.notification(ctx, ev, lang)
}
