package playground

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

type textsResponse struct {
	Default string                       `json:"default"`
	Texts   map[string]map[string]string `json:"texts"`
}

func (e *env) texts(t *testing.T) textsResponse {
	t.Helper()
	resp, err := http.Get(e.url + Path + "/api/texts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("texts: %d", resp.StatusCode)
	}
	var out textsResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

var pageVarRE = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// TestPlayground_Texts: api/texts has every page text in every language,
// rendered (no template left, no id standing in for a missing message),
// with the variables as {Name} for the page to fill in.
func TestPlayground_Texts(t *testing.T) {
	e := newEnv(t)
	got := e.texts(t)
	if got.Default != locales.Default {
		t.Errorf("default %q, want %q", got.Default, locales.Default)
	}
	for _, lang := range locales.Supported {
		texts := got.Texts[lang]
		if len(texts) != len(textIDsAll()) {
			t.Errorf("%s: %d texts, want %d", lang, len(texts), len(textIDsAll()))
		}
		for _, id := range textIDsAll() {
			s, ok := texts[id]
			switch {
			case !ok || strings.TrimSpace(s) == "":
				t.Errorf("%s: %s missing", lang, id)
			case s == id:
				t.Errorf("%s: %s renders as its id: it is in no message file", lang, id)
			case strings.Contains(s, "{{") || strings.Contains(s, "<no value>"):
				t.Errorf("%s: %s = %q: a variable the page does not know", lang, id, s)
			}
			for _, m := range pageVarRE.FindAllStringSubmatch(s, -1) {
				if _, ok := textVars[m[1]]; !ok {
					t.Errorf("%s: %s has {%s}, which is no variable", lang, id, m[1])
				}
			}
		}
	}
	en, ru := got.Texts["en"], got.Texts["ru"]
	if got, want := en["playground.chat.add_bot"], "Add {Bot} to {Chat} as {Name}"; got != want {
		t.Errorf("en add_bot %q, want %q", got, want)
	}
	if got, want := ru["playground.side.title"], "Ваш вебхук"; got != want {
		t.Errorf("ru side.title %q, want %q", got, want)
	}
	for _, id := range []string{"playground.title", "playground.server.unreachable", "playground.server.restarted_temporary"} {
		if en[id] == ru[id] {
			t.Errorf("%s is the same in en and ru: %q", id, en[id])
		}
	}
	if s := en["playground.server.restarted_temporary"]; !strings.Contains(s, "`herald playground -db FILE`") {
		t.Errorf("the restart text %q does not say how to keep the data", s)
	}
}

// pageIDRE finds the text ids the page uses; one ending in "." is a
// prefix completed at run time.
var pageIDRE = regexp.MustCompile(`playground(?:\.[a-z0-9_]+)+\.?`)

// TestPlayground_TextIDs ties the three lists of page texts together:
// every id the page (app.js, index.html) uses is served by api/texts,
// every one served is used, and locales/playground.en.toml holds exactly
// them.
func TestPlayground_TextIDs(t *testing.T) {
	all := textIDsAll()
	used := map[string]bool{}
	for _, file := range []string{"static/app.js", "static/index.html"} {
		b, err := staticFiles.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range pageIDRE.FindAllString(string(b), -1) {
			if strings.HasSuffix(id, ".") {
				if id != "playground.sample." && id != "playground.status." {
					t.Errorf("%s completes the prefix %q at run time: add its ids to textIDsAll", file, id)
				}
				continue
			}
			used[id] = true
			if !slices.Contains(all, id) {
				t.Errorf("%s uses %q, which api/texts does not serve (textIDs)", file, id)
			}
		}
	}
	for _, id := range textIDs {
		if !used[id] {
			t.Errorf("textIDs has %q, which the page does not use", id)
		}
	}

	b, err := os.ReadFile("../locales/playground.en.toml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := toml.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	var inFile []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			} else {
				inFile = append(inFile, prefix+k)
			}
		}
	}
	walk("", tree)
	sort.Strings(inFile)
	want := slices.Clone(all)
	sort.Strings(want)
	if !slices.Equal(inFile, want) {
		t.Errorf("locales/playground.en.toml has\n%v\napi/texts serves\n%v", inFile, want)
	}
}

// TestPlayground_ChatLang: each chat's lang is the language the bot speaks
// there (the page shows its texts in it): the chat's /language choice,
// else the person's Telegram language.
func TestPlayground_ChatLang(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	langs := func(query string) (private, grp string) {
		t.Helper()
		st := e.state(t, query)
		return chatByKey(t, st, "private").Lang, chatByKey(t, st, "group").Lang
	}
	check := func(name, query, wantPrivate, wantGroup string) {
		t.Helper()
		if p, g := langs(query); p != wantPrivate || g != wantGroup {
			t.Errorf("%s (%s): private %q, group %q; want %q, %q", name, query, p, g, wantPrivate, wantGroup)
		}
	}
	check("no chat yet, Russian Telegram", "as=alice&lang=ru", "ru", "ru")
	check("no chat yet, a language Herald does not speak", "as=alice&lang=de", "en", "en")
	check("no language", "as=alice", "en", "en")

	// A chat the bot knows, without /language: it follows the person.
	if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: alice.ID, Type: "private", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: group.ID, Type: "supergroup", Title: "Team", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	check("known chats, Russian Telegram", "as=alice&lang=ru", "ru", "ru")

	// /language ru in the private chat: the page turns Russian there,
	// whatever Alice's Telegram language; the group still follows her.
	if err := e.db.SetChatLanguage(ctx, alice.ID, "ru"); err != nil {
		t.Fatal(err)
	}
	check("/language ru in the private chat", "as=alice&lang=en", "ru", "en")
	if err := e.db.SetChatLanguage(ctx, group.ID, "ru"); err != nil {
		t.Fatal(err)
	}
	check("/language ru in the group too", "as=alice&lang=en", "ru", "ru")
	check("Bob, whose private chat has no choice", "as=bob&lang=en", "en", "ru")

	// The state's version changes with the language: a long poll answers.
	v := e.state(t, "as=alice&lang=en").Version
	if err := e.db.SetChatLanguage(ctx, alice.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, "as=alice&lang=en").Version; got == v {
		t.Errorf("version %s unchanged after /language en", got)
	}
}

// TestPlayground_Instance: the state names the process, so the page can
// tell a restart (its chats, and a temporary database, gone) from a
// server that was only out of reach; and says whether the data goes with
// the process.
func TestPlayground_Instance(t *testing.T) {
	e := newEnv(t)
	first := e.state(t, "as=alice")
	if first.Instance == "" {
		t.Fatal("no instance in the state")
	}
	if got := e.state(t, "as=bob"); got.Instance != first.Instance {
		t.Errorf("instance %q, then %q: want the same for one process", first.Instance, got.Instance)
	}
	if first.TemporaryDB {
		t.Errorf("temporary_db set, but the config did not say so")
	}
	otherTG := tgemu.NewServer()
	defer otherTG.Close()
	other := New(otherTG, e.db, Config{PublicURL: publicURL, TemporaryDB: true}, e.pg.log)
	defer other.Close()
	st, err := other.state(context.Background(), people[0], "en")
	if err != nil {
		t.Fatal(err)
	}
	if st.Instance == first.Instance {
		t.Errorf("two processes have the same instance %q", st.Instance)
	}
	if !st.TemporaryDB {
		t.Errorf("temporary_db not set for a temporary database")
	}
}
