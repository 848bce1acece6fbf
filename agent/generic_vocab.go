package agent

// The generic formatter's vocabulary: the keys of locales/generic.*.toml.
// The texts live in the locale files; these lists say which keys to load,
// since a Localizer cannot list its messages. TestGenericVocabulary fails
// when the lists and the files disagree.

// vocabularyWords are the words of [generic.word] that also have a
// genitive in [generic.of].
var vocabularyWords = []string{
	"account", "action", "actions", "active", "address", "agent", "alert", "amount", "app",
	"application", "assignee", "attempt", "attempts", "author", "balance", "bank",
	"billing", "board", "body", "branch", "brand", "browser", "build", "campaign", "card",
	"category", "channel", "city", "client", "code", "collection", "command", "comment",
	"commit", "company", "contact", "content", "cost", "count", "country", "currency",
	"customer", "date", "deal", "delivery", "department", "description", "detail",
	"details", "device", "discount", "domain", "duration", "email", "entity", "entry",
	"environment", "error", "errors", "event", "extension", "factor", "fee", "field",
	"fields", "file", "folder", "form", "format", "from", "group", "host", "id",
	"identities", "image", "invoice", "issue", "item", "items", "job", "key", "label",
	"labels", "language", "lead", "level", "link", "list", "locale", "location", "media",
	"member", "message", "metadata", "method", "mode", "model", "monitor", "name", "note",
	"number", "order", "organization", "owner", "page", "path", "payment", "phone",
	"pipeline", "plan", "platform", "post", "price", "priority", "product", "project",
	"provider", "quantity", "reason", "recipient", "record", "referrer", "region",
	"release", "repository", "request", "requester", "response", "result", "revenue",
	"role", "rule", "schema", "score", "segment", "segments", "sender", "server", "service",
	"session", "severity", "shipping", "site", "size", "source", "space", "stage", "stages",
	"state", "status", "step", "store", "subject", "subscription", "summary", "table",
	"tag", "tags", "target", "task", "tax", "team", "template", "text", "ticket", "time",
	"timestamp", "timezone", "title", "to", "token", "topic", "total", "trigger", "type",
	"uid", "url", "user", "value", "version", "word", "workflow", "workspace",
}

// vocabularyPhrases are the keys of [generic.word] that are a whole
// label (words joined with "_").
var vocabularyPhrases = []string{
	"channel_name", "created", "created_at", "creation_date", "deleted_at",
	"delivery_status", "display_name", "dlr_status", "due_date", "email_action_type",
	"email_address", "email_addresses", "email_verified", "expires_at", "ext",
	"external_accounts", "external_id", "factor_type", "first_name", "friend_count",
	"full_name", "ip", "ip_address", "is_active", "is_anonymous", "is_published", "is_test",
	"last_name", "live_mode", "message_status", "mime", "mime_type", "modified_at",
	"number_segments", "occurred_at", "old_email", "old_phone", "password_enabled",
	"phone_number", "phone_numbers", "phone_verified", "postal_code", "published",
	"published_at", "received_at", "redirect_to", "released_at", "response_url",
	"scheduled_at", "sent_at", "shipping_method", "site_url", "subscription_plan",
	"team_domain", "test_mode", "trigger_word", "two_factor_enabled", "updated",
	"updated_at", "user_agent", "user_name", "username", "zip_code",
}
