package bot

import (
	"context"
	"errors"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// Tasks (SPEC §10): a notification whose event needs someone to act carries
// a Done button beside its link; the task is created with the delivery's
// record (storage.CompleteDeliveries), /tasks lists a chat's open ones, and
// any member of the chat may close one. Closing edits the notification to
// say who closed it and when.

// doneData is the Done button's callback data under a notification: the
// task is found by the message it is pressed under. Under the /tasks list
// a button carries the task's id: "done <id>". Neither is bound to the
// user it was shown to (any member may close a task).
const doneData = "done"

// tasksShown bounds the /tasks list; the rest are counted.
const tasksShown = 10

// Limits of a task's line in the /tasks list and of a closer's name, in runes.
const (
	taskTitleMax  = 120
	taskActionMax = 160
	closerNameMax = 64
)

// notificationKeyboard is a notification's inline keyboard: its link and,
// for a task, the Done button, in one row; nil for neither.
func notificationKeyboard(msg agent.Message) *models.InlineKeyboardMarkup {
	var row []models.InlineKeyboardButton
	if msg.LinkURL != "" {
		row = append(row, models.InlineKeyboardButton{Text: msg.LinkText, URL: msg.LinkURL})
	}
	if msg.Done {
		text := msg.DoneText
		if text == "" {
			text = "✅"
		}
		row = append(row, models.InlineKeyboardButton{Text: text, CallbackData: doneData})
	}
	if len(row) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

// cmdTasks lists the chat's open tasks, each with a Done button.
func (b *Bot) cmdTasks(ctx context.Context, r request) {
	text, kb, err := b.taskList(ctx, r.chat.ID, r.loc)
	if err != nil {
		b.internalError(ctx, r, "open tasks", err)
		return
	}
	b.reply(ctx, r.chat.ID, text, kb)
}

// taskList renders a chat's open tasks: the oldest tasksShown, numbered,
// with a button per task, and a count of the rest.
func (b *Bot) taskList(ctx context.Context, chatID int64, loc *locales.Localizer) (string, *models.InlineKeyboardMarkup, error) {
	tasks, total, err := b.db.OpenTasks(ctx, chatID, tasksShown)
	if err != nil {
		return "", nil, err
	}
	if total == 0 {
		return loc.T("task.list.empty", nil), nil, nil
	}
	now := b.db.Now()
	var sb strings.Builder
	sb.WriteString(loc.N("task.list.header", total, nil))
	var buttons []models.InlineKeyboardButton
	for i, t := range tasks {
		n := i + 1
		title := t.Title
		if strings.TrimSpace(title) == "" {
			title = t.Action
		}
		sb.WriteString("\n\n" + loc.T("task.list.item", map[string]any{
			"N":      n,
			"Title":  html.EscapeString(truncateRunes(oneLine(title), taskTitleMax)),
			"Source": html.EscapeString(truncateRunes(oneLine(t.Source), 64)),
			"Age":    age(loc, now.Sub(t.CreatedAt)),
		}))
		if a := oneLine(t.Action); a != "" && a != oneLine(title) {
			sb.WriteString("\n" + loc.T("task.list.action", map[string]any{"Action": html.EscapeString(truncateRunes(a, taskActionMax))}))
		}
		buttons = append(buttons, models.InlineKeyboardButton{
			Text:         loc.T("task.list.button", map[string]any{"N": n}),
			CallbackData: doneData + " " + strconv.FormatInt(t.ID, 10),
		})
	}
	if more := total - len(tasks); more > 0 {
		sb.WriteString("\n\n" + loc.N("task.list.more", more, nil))
	}
	sb.WriteString("\n\n" + loc.T("task.list.hint", nil))
	// Five buttons a row: ten tasks fit in two rows.
	kb := &models.InlineKeyboardMarkup{}
	for len(buttons) > 0 {
		k := min(5, len(buttons))
		kb.InlineKeyboard = append(kb.InlineKeyboard, buttons[:k])
		buttons = buttons[k:]
	}
	return sb.String(), kb, nil
}

// age says how long ago something happened, in words.
func age(loc *locales.Localizer, d time.Duration) string {
	switch {
	case d < time.Minute:
		return loc.T("task.age.now", nil)
	case d < time.Hour:
		return loc.N("task.age.minutes", int(d/time.Minute), nil)
	case d < 48*time.Hour:
		return loc.N("task.age.hours", int(d/time.Hour), nil)
	}
	return loc.N("task.age.days", int(d/(24*time.Hour)), nil)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// handleDone closes the task of a Done button: the one of the notification
// msg when args is empty, else task args (a /tasks button). Any member of
// the chat may; the callback is answered here (answer), and the
// notification edited to say who closed the task and when.
func (b *Bot) handleDone(ctx context.Context, msg *models.Message, r request) {
	var task storage.Task
	var err error
	fromList := r.args != ""
	if fromList {
		id, perr := strconv.ParseInt(strings.TrimSpace(r.args), 10, 64)
		if perr != nil {
			*r.answer = r.loc.T("error.expired", nil)
			return
		}
		task, err = b.db.TaskByID(ctx, id)
		// A button of another chat's list is no button of this chat's.
		if err == nil && task.ChatID != msg.Chat.ID && task.MessageChatID != msg.Chat.ID {
			err = storage.ErrNotFound
		}
	} else {
		task, err = b.db.TaskByMessage(ctx, msg.Chat.ID, int64(msg.ID))
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		*r.answer = r.loc.T("task.gone", nil)
		// A notification recorded as delivered without a task has a Done
		// button it should not have. (One not recorded yet may be a
		// moment from its commit: its button stays.)
		if !fromList {
			if _, recorded, err := b.db.EventsOfMessage(ctx, msg.Chat.ID, int64(msg.ID), 1); err == nil && recorded > 0 {
				b.clearDone(ctx, msg)
			}
		}
		return
	case err != nil:
		b.log.Error("find task", "chat_id", msg.Chat.ID, "error", err)
		*r.answer = r.loc.T("error.internal", nil)
		return
	}
	if r.account.Banned {
		*r.answer = r.loc.T("error.banned", nil)
		return
	}
	task, closed, err := b.db.CloseTask(ctx, task.ID, r.user.ID, truncateRunes(displayName(r.user), closerNameMax))
	if err != nil {
		b.log.Error("close task", "chat_id", msg.Chat.ID, "error", err)
		*r.answer = r.loc.T("error.internal", nil)
		return
	}
	if !closed {
		*r.answer = r.loc.T("task.already", map[string]any{"Name": task.ClosedByName, "Time": fmtTime(*task.ClosedAt)})
	} else {
		*r.answer = r.loc.T("task.answer", nil)
		b.log.Info("task closed", "task_id", task.ID, "chat_id", task.ChatID, "user_id", r.user.ID)
	}
	// The notification shows who closed it, whichever press came first
	// (a lost edit is made again by the next press).
	b.markClosed(ctx, task, b.loc.For(r.chat.Language)) // the notification's language
	if fromList {
		// The list the button was under loses the closed task.
		if text, kb, err := b.taskList(ctx, task.ChatID, r.loc); err == nil {
			b.editMessage(ctx, msg.Chat.ID, msg.ID, text, kb)
		}
	}
}

// displayName is how a person is shown: their name, else @username.
func displayName(u models.User) string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" && u.Username != "" {
		name = "@" + u.Username
	}
	if name == "" {
		name = strconv.FormatInt(u.ID, 10)
	}
	return name
}

// markClosed edits a closed task's notification: its text with a line
// saying who closed it and when, its link button kept, the Done button
// gone. A task of a digest (no MessageHTML) leaves its message as it is.
func (b *Bot) markClosed(ctx context.Context, t storage.Task, loc *locales.Localizer) {
	if t.MessageHTML == "" || t.ClosedAt == nil {
		return
	}
	text := closedHTML(t.MessageHTML, loc.T("task.closed", map[string]any{
		"Name": html.EscapeString(t.ClosedByName), "Time": fmtTime(*t.ClosedAt),
	}))
	var kb *models.InlineKeyboardMarkup
	if t.LinkURL != "" {
		kb = notificationKeyboard(agent.Message{LinkURL: t.LinkURL, LinkText: t.LinkText})
	}
	b.editMessage(ctx, t.MessageChatID, int(t.MessageID), text, kb)
}

// editMessage replaces a message's text and inline keyboard (none: kb nil).
// "message is not modified" (an edit made already) is no failure.
// Specs: https://core.telegram.org/bots/api#editmessagetext
func (b *Bot) editMessage(ctx context.Context, chatID int64, msgID int, text string, kb *models.InlineKeyboardMarkup) {
	params := &tg.EditMessageTextParams{
		ChatID: chatID, MessageID: msgID, Text: text, ParseMode: models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
	}
	if kb != nil {
		params.ReplyMarkup = kb
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if _, err := b.tg.EditMessageText(ctx, params); err != nil && !strings.Contains(err.Error(), "message is not modified") {
		b.log.Warn("edit message", "chat_id", chatID, "error", redact(err.Error(), b.cfg.Token))
	}
}

// clearDone removes the Done button of a notification whose task is gone,
// keeping its link button.
func (b *Bot) clearDone(ctx context.Context, msg *models.Message) {
	if msg.ReplyMarkup == nil {
		return
	}
	var rows [][]models.InlineKeyboardButton
	for _, row := range msg.ReplyMarkup.InlineKeyboard {
		var keep []models.InlineKeyboardButton
		for _, btn := range row {
			if btn.CallbackData != doneData {
				keep = append(keep, btn)
			}
		}
		if len(keep) > 0 {
			rows = append(rows, keep)
		}
	}
	params := &tg.EditMessageReplyMarkupParams{ChatID: msg.Chat.ID, MessageID: msg.ID}
	if len(rows) > 0 {
		params.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: rows}
	}
	if _, err := b.tg.EditMessageReplyMarkup(ctx, params); err != nil {
		b.log.Debug("clear done button", "chat_id", msg.Chat.ID, "error", err)
	}
}

// closedHTML appends line (Telegram HTML) to a notification's HTML after a
// blank line, cutting the notification (at a character, never inside a tag
// or an entity, its open tags closed, "…" marking the cut) so that the
// visible text stays within Telegram's limit.
func closedHTML(msgHTML, line string) string {
	room := agent.MaxMessageLen - visibleLen(line) - 2 // "\n\n"
	return cutHTML(msgHTML, room) + "\n\n" + line
}

// visibleLen is the length of HTML's visible text in UTF-16 code units,
// as Telegram counts it: tags count nothing, an entity one character.
func visibleLen(s string) int {
	n := 0
	walkHTML(s, func(text string, tag bool) bool {
		if !tag {
			n += utf16Len(text)
		}
		return true
	})
	return n
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutHTML keeps HTML whose visible text fits in max UTF-16 units; longer
// HTML is cut to max-1 units, "…" added and the tags left open closed.
func cutHTML(s string, max int) string {
	if visibleLen(s) <= max {
		return s
	}
	var b strings.Builder
	var open []string
	used := 0
	walkHTML(s, func(piece string, tag bool) bool {
		if tag {
			name, closing := tagName(piece)
			switch {
			case closing && len(open) > 0 && open[len(open)-1] == name:
				open = open[:len(open)-1]
			case !closing && !strings.HasSuffix(piece, "/>"):
				open = append(open, name)
			}
			b.WriteString(piece)
			return true
		}
		w := utf16Len(html.UnescapeString(piece))
		if used+w > max-1 {
			return false
		}
		used += w
		b.WriteString(piece)
		return true
	})
	b.WriteString("…")
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String()
}

// walkHTML calls fn with each tag ("<b>", "</a>"), entity ("&amp;") and
// character of s in turn, until fn returns false. Text pieces hold one
// character or one entity, unescaped only for counting.
func walkHTML(s string, fn func(piece string, tag bool) bool) {
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				j = len(s) - i - 1
			}
			if !fn(s[i:i+j+1], true) {
				return
			}
			i += j + 1
			continue
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 0 && j <= 10 {
				if !fn(s[i:i+j+1], false) {
					return
				}
				i += j + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		if !fn(s[i:i+size], false) {
			return
		}
		i += size
	}
}

// tagName reads "<b>", "</b>", `<a href="…">` as ("b", false), ("b", true), ("a", false).
func tagName(tag string) (string, bool) {
	t := strings.TrimSuffix(strings.TrimPrefix(tag, "<"), ">")
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	if i := strings.IndexAny(t, " \t\n/"); i >= 0 {
		t = t[:i]
	}
	return strings.ToLower(t), closing
}
