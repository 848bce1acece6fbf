// Command fakebot serves the Bot API fake (bot/tgemu) on a port, for
// benchmarks that run herald as users run it, and creates webhooks through
// the bot the way a user does.
//
//	fakebot -addr 127.0.0.1:18090
//
// prints "url=<Bot API URL> token=<bot token>" and serves the Bot API there
// with Telegram's flood limits. GET /bench/newtoken?name=NAME&user=ID then
// sends "/newtoken NAME" to the bot as that user in their private chat,
// waits for the bot's answer and responds with the webhook URL it contains.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/herald-relay/herald/bot/tgemu"
)

var hookURL = regexp.MustCompile(`https?://[^\s"<>]+/hook/[A-Za-z0-9_-]+`)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	fake := tgemu.NewServer(tgemu.WithLimits())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	fake.SetURL(base)
	mux := http.NewServeMux()
	mux.Handle("/", fake)
	mux.HandleFunc("GET /bench/newtoken", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		id, err := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
		if name == "" || err != nil || id <= 0 {
			http.Error(w, "want ?name=NAME&user=ID", http.StatusBadRequest)
			return
		}
		u := tgemu.User{ID: id, FirstName: "Bench", Username: "bench" + strconv.FormatInt(id, 10), LanguageCode: "en"}
		chat := tgemu.PrivateChat(u)
		last := 0
		for _, m := range fake.Messages(chat.ID) {
			last = max(last, m.ID)
		}
		fake.UserSends(u, chat, "/newtoken "+name)
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		m, err := fake.AwaitMessage(ctx, chat.ID, func(m tgemu.Message) bool {
			return m.ID > last && hookURL.MatchString(m.Text+" "+m.HTML)
		})
		if err != nil {
			http.Error(w, "the bot did not answer with a webhook URL: "+err.Error(), http.StatusGatewayTimeout)
			return
		}
		fmt.Fprintln(w, hookURL.FindString(m.Text+" "+m.HTML))
	})
	fmt.Printf("url=%s token=%s\n", base, fake.Token())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
