package playground

import (
	"net/http"
	"strings"

	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// textIDs are the page's own texts, in locales/playground.*.toml. The page
// gets them all, in every language, from api/texts and shows them in the
// language of the chat on screen (chatView.Lang). The sample titles and the
// event statuses are there too: textIDsAll adds them.
var textIDs = []string{
	"playground.title", "playground.notice", "playground.act_as", "playground.you_are",
	"playground.language", "playground.webhook", "playground.close", "playground.ok", "playground.dismiss",
	"playground.role.administrator", "playground.role.member",
	"playground.chat.label", "playground.chat.private", "playground.chat.group",
	"playground.chat.private_sub", "playground.chat.members", "playground.chat.admin", "playground.chat.bot",
	"playground.chat.empty_private", "playground.chat.empty_group", "playground.chat.not_member",
	"playground.chat.add_bot", "playground.chat.start", "playground.chat.bot_added", "playground.chat.edited",
	"playground.chat.deleted", "playground.chat.show_message", "playground.chat.show_spoiler",
	"playground.chat.unavailable_button", "playground.chat.no_answer",
	"playground.composer.commands", "playground.composer.placeholder", "playground.composer.send",
	"playground.reply.button", "playground.reply.button_label", "playground.reply.replying_to",
	"playground.reply.cancel", "playground.reply.cancel_title",
	"playground.side.title", "playground.side.ask", "playground.side.type_it", "playground.side.hook_name",
	"playground.side.copy", "playground.side.sample_title", "playground.side.sample_label", "playground.side.send",
	"playground.side.hint", "playground.side.terminal", "playground.side.copy_curl",
	"playground.side.curl_full", "playground.side.curl_short", "playground.side.curl_shortened",
	"playground.side.copied_url", "playground.side.copied_curl", "playground.side.copy_failed",
	"playground.side.sending", "playground.side.accepted",
	"playground.side.fine_real", "playground.side.fine_reply", "playground.side.fine_group", "playground.side.fine_telegram",
	"playground.server.unreachable", "playground.server.not_done", "playground.server.error", "playground.server.back",
	"playground.server.restarted_temporary", "playground.server.restarted_kept",
}

// eventStatuses are the statuses the page shows of an event it sent.
var eventStatuses = []string{storage.StatusQueued, storage.StatusProcessing, storage.StatusDelivered, storage.StatusFailed}

// sampleTextID is the id of a sample's title: playground.sample.github_push.
func sampleTextID(sampleID string) string {
	return "playground.sample." + strings.ReplaceAll(sampleID, "-", "_")
}

// textIDsAll is textIDs with the ids made from the samples and statuses.
func textIDsAll() []string {
	ids := append([]string(nil), textIDs...)
	for _, s := range samples {
		ids = append(ids, sampleTextID(s.id))
	}
	for _, s := range eventStatuses {
		ids = append(ids, "playground.status."+s)
	}
	return ids
}

// textVars stand in for the texts' template variables: the page replaces
// {Name} with the name (as a text node).
var textVars = map[string]any{
	"Name": "{Name}", "Bot": "{Bot}", "Chat": "{Chat}", "Username": "{Username}", "Names": "{Names}",
	"Text": "{Text}", "Title": "{Title}", "ID": "{ID}", "Status": "{Status}",
}

// pageTexts renders every page text in every supported language:
// language → id → text with {Var} placeholders.
func pageTexts(loc *locales.Bundle) map[string]map[string]string {
	out := make(map[string]map[string]string, len(locales.Supported))
	for _, lang := range locales.Supported {
		l := loc.For(lang)
		m := make(map[string]string)
		for _, id := range textIDsAll() {
			m[id] = l.T(id, textVars)
		}
		out[lang] = m
	}
	return out
}

// handleTexts answers the page's texts in every language; they change only
// with the binary.
func (p *Playground) handleTexts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"default": locales.Default, "texts": p.texts})
}
