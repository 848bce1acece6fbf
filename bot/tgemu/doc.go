// Package tgemu is a strict, in-memory emulator of the Telegram Bot API
// (https://core.telegram.org/bots/api), served over HTTP so that the real
// client (github.com/go-telegram/bot) talks to it unchanged. The playground
// serves it on Herald's own listener; tests start it on httptest through
// bot/telegramtest, which adds the waits that fail a test:
//
//	s := tgemu.NewServer()
//	go http.Serve(ln, s) // or mount s under any path of a mux
//	s.SetURL("http://" + ln.Addr().String())
//	b, _ := bot.New(s.Token(), bot.WithServerURL(s.URL()))
//	s.UserSends(alice, tgemu.PrivateChat(alice), "/start")
//	m, err := s.AwaitMessage(ctx, alice.ID, nil)
//
// The package imports no test code, so that the production binary can link
// it for the playground.
//
// # Protocol
//
// Requests go to <base>/bot<token>/<method>; parameters come from the query
// string and from multipart/form-data, x-www-form-urlencoded or JSON bodies,
// as in https://core.telegram.org/bots/api#making-requests. Method names are
// case-insensitive. Answers are {"ok":true,"result":...} or
// {"ok":false,"error_code":N,"description":"...","parameters":{...}} with
// the HTTP status equal to error_code. A wrong token answers 401
// "Unauthorized", an unknown method 404 "Not Found".
//
// Implemented methods: getMe, getUpdates, setWebhook, deleteWebhook,
// getWebhookInfo, sendMessage, editMessageText, editMessageReplyMarkup,
// deleteMessage, deleteMessages, answerCallbackQuery, setMyCommands,
// getMyCommands, deleteMyCommands, getChat, getChatMember,
// getChatAdministrators, getChatMemberCount, sendChatAction, leaveChat.
//
// # Strictness
//
// The fake fails where Telegram fails, with Telegram's error texts (taken
// from tdlib and telegram-bot-api, or from observed answers):
//
//   - Chats exist only once they interacted with the bot (a user wrote or
//     pressed a button, the bot was added to a group, KnownChat/KnownUser);
//     others answer 400 "chat not found", as do @usernames of users.
//   - Blocked users, groups the bot was kicked from or left answer 403;
//     upgraded groups answer 400 with parameters.migrate_to_chat_id.
//   - parse_mode HTML is parsed like tdlib does, with the same "can't parse
//     entities: ..." errors and byte offsets.
//     The visible text, trimmed of surrounding whitespace, must be 1-4096
//     UTF-16 code units ("text must be non-empty", "message is too long").
//     Explicit entities are checked against the text.
//   - reply_markup is validated: callback_data of 1-64 bytes, http(s)/tg
//     button URLs, one action per button, Web App URLs in HTTPS, ...
//   - editMessageText fails with "message is not modified" when text,
//     entities and inline keyboard are unchanged; an edit without
//     reply_markup removes the keyboard, as in Telegram.
//   - Replies to missing messages, unknown message_thread_id, deleting other
//     users' group messages without admin rights, answering a callback query
//     twice, invalid command names and descriptions are all rejected.
//   - getUpdates honours offset (confirmation), limit and timeout (long
//     polling); a newer getUpdates ends a waiting one with 409 "terminated by
//     other getUpdates request", and getUpdates answers 409 while a webhook
//     is set. allowed_updates filters updates as they are created.
//   - With WithLimits, sendMessage is flood-controlled (see Limits) and
//     answers 429 "Too Many Requests: retry after N".
//
// Where the fake is stricter than Telegram, its error says so: in HTML, a
// '&' must start one of &lt; &gt; &amp; &quot; &#N; &#xH; with its ';' and
// <a> needs an href (Telegram silently keeps such text; WithLenientHTML
// restores that), an inline button must not use two actions (Telegram
// picks one), and parse_mode MarkdownV2 and Markdown, which Herald never
// sends, are refused rather than parsed.
//
// # Known gaps
//
// Media, files, inline mode, payments, games, forums, business connections,
// reactions and channels' finer points are not modelled: their methods
// answer 404. Message ids are per chat (Telegram shares one sequence across
// a user's private chats and basic groups). Telegram's automatic entities
// (links, mentions, hashtags) are not detected in sent texts, and only a
// leading /command gets a bot_command entity in users' messages. setWebhook
// accepts plain http URLs and any port so that tests can use httptest; a
// failing webhook is retried a few times, then the update is dropped, where
// Telegram would keep retrying for a day. Replies in the webhook response
// body are ignored. Edits older than 48 hours and callback queries older
// than their timeout are not refused.
package tgemu
