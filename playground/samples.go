package playground

import (
	"embed"
	"net/http"
)

//go:embed static
var staticFiles embed.FS

//go:embed samples/*.json
var sampleFiles embed.FS

// sample is an example event the page can post to the webhook URL, with the
// headers its sender would set: Herald recognizes senders by them.
type sample struct {
	ID      string            `json:"id"`
	Title   string            `json:"title"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// samples lists the examples in the menu's order; the bodies are the files
// in samples/.
var samples = []struct {
	id, title, file string
	headers         map[string]string
}{
	{"github-push", "GitHub: push", "github-push.json", map[string]string{
		"X-GitHub-Event": "push", "X-GitHub-Delivery": "7f1c2a40-3b1e-11f0-8e5c-0a1b2c3d4e5f",
	}},
	{"stripe-payment", "Stripe: payment succeeded", "stripe-payment.json", nil},
	{"alert", "Alertmanager: alert firing", "alert-firing.json", nil},
	{"new-order", "Your app: new_order", "new-order.json", nil},
}

func loadSamples() ([]sample, error) {
	out := make([]sample, 0, len(samples))
	for _, s := range samples {
		body, err := sampleFiles.ReadFile("samples/" + s.file)
		if err != nil {
			return nil, err
		}
		h := map[string]string{"Content-Type": "application/json"}
		for k, v := range s.headers {
			h[k] = v
		}
		out = append(out, sample{ID: s.id, Title: s.title, Headers: h, Body: string(body)})
	}
	return out, nil
}

func (p *Playground) handleSamples(w http.ResponseWriter, r *http.Request) {
	list, err := loadSamples()
	if err != nil {
		p.log.Error("playground samples", "error", err)
		writeError(w, http.StatusInternalServerError, "could not read the samples")
		return
	}
	writeJSON(w, http.StatusOK, list)
}
