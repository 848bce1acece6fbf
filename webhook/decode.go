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
var (
	warnNotJSON = body.NotJSON.String()
	warnTooDeep = body.TooDeep.String()
	warnNotForm = body.NotForm.String()
	warnNotUTF8 = body.InvalidUTF8.String()
)

const textPlainUTF8 = body.TypeText

// classifyBody returns the content type to store a body under and a
// warning for the sender, if any. A body labelled JSON (or a form) that does
// not parse as one is stored as text rather than lost; an unlabelled body is
// labelled by a look at it.
func classifyBody(contentType string, b []byte) (storedType, warning string) {
	c := body.Classify(contentType, b)
	return c.Label, c.Problem.String()
}

// mediaType is the lower-cased type/subtype of a Content-Type.
func mediaType(ct string) string { return body.MediaType(ct) }
