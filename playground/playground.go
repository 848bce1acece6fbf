// Package playground lets people try Herald without Telegram: a page that
// looks and behaves like a Telegram chat with the bot, backed by the Bot API
// emulator bot/tgemu served in the same process. The bot's real
// command handlers, the relay and the webhook endpoint all run unchanged;
// only the Telegram on the other end is emulated.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary. It
// long-polls a small JSON API (routes.go) and builds messages from the
// entities the emulator parsed out of the bot's Telegram HTML, so nothing the
// bot or a payload wrote is ever parsed as HTML by the browser.
package playground

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// Path is where the page is served; the emulated Bot API is under APIPath.
const (
	Path    = "/playground"
	APIPath = Path + "/tg"
)

// Config is what the playground needs to know.
type Config struct {
	// PublicURL is PUBLIC_URL, the base of the webhook URLs the bot hands
	// out, without a trailing slash; the page finds them in the bot's
	// messages.
	PublicURL string
	// TemporaryDB says the database goes with the process (no -db file):
	// after a restart the page says the data is gone, not just the chats.
	TemporaryDB bool
	// Locales holds the page's texts (locales/playground.*.toml); nil
	// loads the embedded ones.
	Locales *locales.Bundle
}

// person is someone the page can act as.
type person struct {
	key  string // "alice", in the API
	user tgemu.User
	role string // in the group: "administrator" or "member"
}

// The people and the group of the playground. Alice administers the group,
// Bob is a member: the group rules (only administrators configure, URLs go
// privately) can be seen from both sides.
var (
	people = []person{
		{key: "alice", user: tgemu.User{ID: 710001, FirstName: "Alice", Username: "alice"}, role: tgemu.StatusAdministrator},
		{key: "bob", user: tgemu.User{ID: 710002, FirstName: "Bob", Username: "bob"}, role: tgemu.StatusMember},
	}
	group = tgemu.Supergroup(-1001710000001, "Team")
)

func personByKey(key string) (person, bool) {
	for _, p := range people {
		if p.key == key {
			return p, true
		}
	}
	return person{}, false
}

// Playground serves the page, its API and the emulated Bot API.
type Playground struct {
	tg     *tgemu.Server
	db     *storage.DB
	log    *slog.Logger
	cfg    Config
	hookRE *regexp.Regexp
	texts  map[string]map[string]string // the page's texts: language → id → text
	// instance names this process to the page, which remembers it: a new
	// one means the playground restarted, and the emulated chats (and a
	// temporary database) are gone.
	instance string

	done      chan struct{} // closed by Close: long polls end
	closeOnce sync.Once
}

// New makes a Playground over the emulator tg, which it sets up with the
// group and its members. db is Herald's database, asked whether the webhook
// URLs found in the chat still work.
func New(tg *tgemu.Server, db *storage.DB, cfg Config, log *slog.Logger) *Playground {
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Locales == nil {
		cfg.Locales = locales.MustNew()
	}
	var admins []tgemu.User
	for _, p := range people {
		if p.role == tgemu.StatusAdministrator {
			admins = append(admins, p.user)
		}
	}
	tg.SetChatAdmins(group.ID, admins...)
	for _, p := range people {
		if p.role == tgemu.StatusMember {
			tg.AddMember(group.ID, p.user)
		}
	}
	return &Playground{
		tg:       tg,
		db:       db,
		log:      log,
		cfg:      cfg,
		hookRE:   regexp.MustCompile(regexp.QuoteMeta(cfg.PublicURL) + `/hook/([A-Za-z0-9_-]{16,128})`),
		texts:    pageTexts(cfg.Locales),
		instance: rand.Text(),
		done:     make(chan struct{}),
	}
}

// Close ends the page's pending long polls, so that an HTTP shutdown does
// not wait for them. It does not close the emulator.
func (p *Playground) Close() {
	p.closeOnce.Do(func() { close(p.done) })
}

// hook is a webhook URL the bot gave in a chat.
type hook struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// latestHook returns the newest webhook URL the bot sent in chatID that
// still works (not regenerated or revoked), if any.
func (p *Playground) latestHook(ctx context.Context, msgs []tgemu.Message) (*hook, error) {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if !m.From.IsBot || m.Deleted {
			continue
		}
		found := p.hookRE.FindAllStringSubmatch(m.Text, -1)
		for j := len(found) - 1; j >= 0; j-- {
			wh, err := p.db.WebhookByTokenHash(ctx, storage.HashToken(found[j][1]))
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return &hook{Name: wh.Name, URL: found[j][0]}, nil
		}
	}
	return nil, nil
}
