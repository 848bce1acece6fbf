package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// What Herald checks of a model's reply before it becomes a notification.
// The reply is untrusted input: the payload it was written from may have
// asked the model for anything.

// checkSchema reports how v breaks the JSON schema def (the subset Herald's
// schemas use: type, enum, properties, required, items), nil when it does
// not. Keys the schema does not list are ignored, not refused: a model in
// JSON mode adds one now and then, and Herald never reads them.
func checkSchema(v any, def map[string]any, path string) error {
	if enum, ok := def["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", path, v, enum)
	}
	typ, _ := def["type"].(string)
	switch typ {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", path)
		}
		required, _ := def["required"].([]any)
		for _, r := range required {
			if k, _ := r.(string); k != "" {
				if _, ok := obj[k]; !ok {
					return fmt.Errorf("%s: %q is missing", path, k)
				}
			}
		}
		props, _ := def["properties"].(map[string]any)
		for k, pd := range props {
			sub, _ := pd.(map[string]any)
			if w, ok := obj[k]; ok && sub != nil {
				if err := checkSchema(w, sub, path+"."+k); err != nil {
					return err
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", path)
		}
		if items, ok := def["items"].(map[string]any); ok {
			for i, w := range arr {
				if err := checkSchema(w, items, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: not a string", path)
		}
	case "number", "integer":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: not a number", path)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", path)
		}
	}
	return nil
}

// summaryDef is summarySchema decoded, for checking replies.
var summaryDef = sync.OnceValue(func() map[string]any {
	var def map[string]any
	if err := json.Unmarshal(summarySchema, &def); err != nil {
		panic("agent: summarySchema: " + err.Error())
	}
	return def
})

// compactSchema is summarySchema on one line, for the prompt of servers
// without structured outputs.
var compactSchema = sync.OnceValue(func() string {
	var b bytes.Buffer
	if err := json.Compact(&b, summarySchema); err != nil {
		panic("agent: summarySchema: " + err.Error())
	}
	return b.String()
})

// Limits of the names a model may give an unknown sender and its event.
const (
	llmMaxSource = 40
	llmMaxEvent  = maxEventName
)

// urlLike finds what a reader or Telegram would take for a link: a scheme,
// www., a host with a path, or a bare host in the domains phishing favours.
var urlLike = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/|\b[a-z0-9-]+\.(?:com|org|io|ru|me|su|xyz|info|top)\b|[\p{L}\d-]+\.рф`)

// hasURL reports text holding a URL or something Telegram would link.
func hasURL(s string) bool { return urlLike.MatchString(s) }

// modelName checks a name the model gave (a sender, an event): one line,
// at most max runes, printable, no URL. It returns "" for a name that
// fails, so that the formatter's stands.
func modelName(s string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) || hasURL(s) {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "" // a newline, a tab, a control or a direction override
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// Money in facts. A model that reports an amount must have read it in the
// payload: an amount not found there, in the unit written or converted
// between minor and major units (1000 kopecks, 10.00 ₽), is dropped.

// currencyMark finds a currency in a fact's value: a symbol, an ISO 4217
// code or a currency word.
var currencyMark = regexp.MustCompile(`[$€£¥₽₴₸₹₩₺₼₾₿¢]|(?i:\b(?:usd|eur|rub|rur|gbp|jpy|cny|rmb|kzt|uah|byn|inr|brl|cad|aud|nzd|chf|pln|try|sek|nok|dkk|czk|huf|ils|aed|sgd|hkd|mxn|zar|krw|uzs|amd|gel|azn|kgs|tjs|usdt|usdc|btc|eth|dollars?|euros?|cents?|pounds?)\b)|(?i:руб|коп|евро|долл|тенге|грн|гривн|юан)`)

// moneyWords start the words of a fact label about money.
var moneyWords = []string{
	"amount", "sum", "total", "subtotal", "price", "cost", "paid", "pay", "refund", "fee",
	"balance", "revenue", "charge", "tax", "tip", "discount", "net", "gross", "value",
	"сумм", "итог", "стоимост", "цен", "оплат", "плат", "возврат", "комисс", "баланс",
	"выручк", "доход", "списан", "начислен", "скидк", "налог", "чаев",
}

// numberToken finds a written number: digits grouped by spaces, apostrophes,
// points or commas.
var numberToken = regexp.MustCompile(`\d(?:[\d.,'’\x{00A0}\x{202F}\x{2009} ]*\d)?`)

// moneyFact reports a fact whose value states an amount: it names a
// currency, or its label is about money and its value has a number.
func moneyFact(fc Fact) bool {
	if !numberToken.MatchString(fc.Value) {
		return false
	}
	if currencyMark.MatchString(fc.Value) {
		return true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(fc.Label), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, m := range moneyWords {
			if strings.HasPrefix(w, m) {
				return true
			}
		}
	}
	return false
}

// readNumbers returns the values a written number may mean: "1,234.50" is
// 1234.5; "1.234" is 1.234 or 1234, both are returned.
func readNumbers(tok string) []*big.Rat {
	tok = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\'' || r == '’' || r == '\u00A0' || r == '\u202F' || r == '\u2009' {
			return -1 // group separators
		}
		return r
	}, tok)
	parse := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return nil
		}
		return r
	}
	var out []*big.Rat
	add := func(r *big.Rat) {
		if r != nil {
			out = append(out, r)
		}
	}
	dots, commas := strings.Count(tok, "."), strings.Count(tok, ",")
	switch {
	case dots == 0 && commas == 0:
		add(parse(tok))
	case dots > 0 && commas > 0:
		// The separator written last is the decimal one.
		dec, group := ".", ","
		if strings.LastIndex(tok, ",") > strings.LastIndex(tok, ".") {
			dec, group = ",", "."
		}
		if strings.Count(tok, dec) == 1 {
			add(parse(strings.Replace(strings.ReplaceAll(tok, group, ""), dec, ".", 1)))
		}
	default:
		sep := "."
		if commas > 0 {
			sep = ","
		}
		if strings.Count(tok, sep) > 1 {
			add(parse(strings.ReplaceAll(tok, sep, ""))) // only groups
			break
		}
		i := strings.Index(tok, sep)
		add(parse(strings.Replace(tok, sep, ".", 1)))
		if len(tok)-i-1 == 3 {
			add(parse(strings.Replace(tok, sep, "", 1))) // "1,000" may be a thousand
		}
	}
	return out
}

// maxPayloadNumbers bounds the numbers collected of one payload.
const maxPayloadNumbers = 20000

// payloadNumbers is the set of numbers written in a payload: its JSON
// numbers exactly, and every number written inside its text.
type payloadNumbers map[string]bool

func (pn payloadNumbers) addText(s string) {
	for _, tok := range numberToken.FindAllString(s, -1) {
		for _, r := range readNumbers(tok) {
			if len(pn) < maxPayloadNumbers {
				pn[r.RatString()] = true
			}
		}
	}
}

// collectNumbers reads the payload's numbers. JSON is decoded here with
// encoding/json, whose numbers keep their exact text.
func collectNumbers(p payload) payloadNumbers {
	pn := payloadNumbers{}
	body := p.ev.Body
	switch {
	case p.form != nil:
		for _, f := range p.form {
			pn.addText(f.value)
		}
		return pn
	case p.root == nil:
		pn.addText(p.text)
		return pn
	}
	if len(p.ev.Body) > 0 && !json.Valid(body) {
		// A form whose one field holds the JSON.
		if fields := parseForm(string(body)); len(fields) == 1 {
			body = []byte(fields[0].value)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		for _, s := range p.root.allStrings(nil) {
			pn.addText(s)
		}
		return pn
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case json.Number:
			if r, ok := new(big.Rat).SetString(x.String()); ok && len(pn) < maxPayloadNumbers {
				pn[r.RatString()] = true
			}
		case string:
			pn.addText(x)
		case []any:
			for _, w := range x {
				walk(w)
			}
		case map[string]any:
			for _, w := range x {
				walk(w)
			}
		}
	}
	walk(v)
	return pn
}

var unitScales = []*big.Rat{big.NewRat(1, 1), big.NewRat(100, 1), big.NewRat(1, 100), big.NewRat(1000, 1), big.NewRat(1, 1000)}

// has reports whether r, or r converted between minor and major units
// (a hundredth, a thousandth), is a number of the payload.
func (pn payloadNumbers) has(r *big.Rat) bool {
	for _, s := range unitScales {
		if pn[new(big.Rat).Mul(r, s).RatString()] {
			return true
		}
	}
	return false
}

// amountsFound reports whether every number of a money fact's value is in
// the payload.
func (pn payloadNumbers) amountsFound(value string) bool {
	for _, tok := range numberToken.FindAllString(value, -1) {
		found := false
		for _, r := range readNumbers(tok) {
			if pn.has(r) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
