package tgemu

import "errors"

// CheckHTML runs a sendMessage text with parse_mode HTML through the same
// strict parser and checks as the fake's sendMessage, without a server: it
// returns the visible text a reader would see (trimmed, as Telegram trims
// it), or the error Telegram would answer ("Bad Request: can't parse
// entities: …", "Bad Request: message is too long", "Bad Request: text must
// be non-empty"). Packages that render messages use it in their tests.
func CheckHTML(text string) (string, error) {
	plain, ents, err := parseHTML(text, true)
	if err != nil {
		return "", errors.New("Bad Request: can't parse entities: " + err.Error())
	}
	plain, _ = trimText(plain, ents)
	if aerr := checkTextLength(plain, "message is too long"); aerr != nil {
		return "", errors.New(aerr.desc)
	}
	return plain, nil
}
