package bot

import (
	"context"
	"html"
	"strings"
)

// cmdStart greets, or follows a deep link: https://t.me/<bot>?start=<code>
// opens the private chat and sends "/start <code>".
// Specs: https://core.telegram.org/bots/features#deep-linking
func (b *Bot) cmdStart(ctx context.Context, r request) {
	payload := strings.TrimSpace(r.args)
	if r.private() && b.isAdmin(r.user.ID) {
		b.setAdminMenu(ctx, r.user.ID) // Telegram knows the chat now
	}
	if payload != "" && r.private() {
		if code, ok := strings.CutPrefix(payload, grantPrefix); ok {
			b.redeemGrant(ctx, r, code)
			return
		}
		if code, ok := strings.CutPrefix(payload, invitePrefix); ok {
			b.joinInvite(ctx, r, code) // invite.go
			return
		}
		if b.resumeFromGroup(ctx, r, payload) {
			return
		}
		// An unknown or outdated code: greet as usual.
	}
	text := r.loc.T("start.greeting", map[string]any{"Name": html.EscapeString(r.user.FirstName)})
	if !b.mayCreate(r) {
		text += "\n\n" + b.accessDenied(r)
	}
	b.reply(ctx, r.chat.ID, text, nil)
}

func (b *Bot) cmdHelp(ctx context.Context, r request) {
	text := r.loc.T("help.text", nil)
	if !r.private() {
		text += "\n\n" + r.loc.T("help.group", nil)
	}
	if b.isAdmin(r.user.ID) {
		text += "\n\n" + r.loc.T("help.admin", nil)
	}
	b.reply(ctx, r.chat.ID, text, nil)
}
