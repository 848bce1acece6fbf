package webhook

import (
	"github.com/herald-relay/herald/body"
)

// How a body is stored. Ingest keeps the body exactly as it was sent — the
// bytes a signature covers — and decides only its label and whether the
// sender should hear a warning, by body.Classify: the same decision the
// formatter reads the stored body by, so it reads it as ingest did.

// maxContentType bounds the stored label.
const maxContentType = body.MaxContentType

// Warnings an accepted body can get (SPEC §3: accepted, and told).
const (
	warnNotJSON   = "body is labelled JSON but does not parse; delivered as text"
	warnTooDeep   = "body is labelled JSON but is nested deeper than 10000 levels; delivered as text"
	warnNotForm   = "body is labelled as a form but does not decode; delivered as text"
	warnNotUTF8   = "body is not valid UTF-8; the invalid bytes are shown as �"
	textPlainUTF8 = body.TypeText
)

// warnings are what a sender hears about each body.Problem.
var warnings = [...]string{
	body.NotJSON:     warnNotJSON,
	body.TooDeep:     warnTooDeep,
	body.NotForm:     warnNotForm,
	body.InvalidUTF8: warnNotUTF8,
}

// classifyBody returns the content type to store a body under and a
// warning for the sender, if any. A body labelled JSON (or a form) that does
// not parse as one is stored as text rather than lost; an unlabelled body is
// labelled by a look at it.
func classifyBody(contentType string, b []byte) (storedType, warning string) {
	c := body.Classify(contentType, b)
	if int(c.Problem) < len(warnings) {
		warning = warnings[c.Problem]
	}
	return c.Label, warning
}

// mediaType is the lower-cased type/subtype of a Content-Type.
func mediaType(ct string) string { return body.MediaType(ct) }
