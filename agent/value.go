package agent

// Typed values of a payload — money, times, durations, links — read from the
// text a sender wrote and written the way a person reads them. The catalogue
// and the generic formatter share these, so an amount or a time reads the
// same whichever path formatted the event.
//
// Conventions, decided once:
//   - Money keeps the decimal point in both languages ("10.00 ₽"), because
//     the amounts a reader compares against a receipt or a dashboard are
//     written that way by the senders, and the shared golden corpus pins it
//     in Russian messages too. Thousands are grouped: "1,234.50" in English,
//     "1 234.50" (a no-break space) in Russian.
//   - English puts $ € £ ¥ ₹ before the number ("$652.15", "€1,234.50");
//     ₽ ₴ ₸ go after it ("10.00 ₽"); any other currency is its ISO code after
//     the number ("99.00 CHF"). Russian writes every amount number first,
//     with ₽ ₴ ₸ as signs and other currencies as codes ("99.00 USD"), as
//     Russian banks and shops print them.
//   - Times keep the sender's zone: "2024-03-05 14:07 UTC", "2024-03-05
//     14:07 +03:00"; Russian writes the date day first, "05.03.2024 14:07 UTC".
//     Epoch numbers are UTC.
//   - Durations: "45 s", "5 min 3 s", "2 h 5 min", "3 d 4 h" (ru "45 с",
//     "5 мин 3 с", "2 ч 5 мин", "3 д 4 ч").

import (
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// currency is an ISO 4217 currency.
type currency struct {
	code string // alphabetic code: "RUB"
	num  string // numeric code, three digits: "643"
	exp  int    // minor-unit exponent: 2 (kopecks, cents), 0 (JPY), 3 (KWD), 4 (CLF)
}

// iso4217 lists the active currencies: alphabetic code, numeric code and
// minor-unit exponent. Specs: https://www.iso.org/iso-4217-currency-codes.html
// (list one, the current currencies and funds).
const iso4217 = `AED 784 2 AFN 971 2 ALL 008 2 AMD 051 2 ANG 532 2 AOA 973 2 ARS 032 2
AUD 036 2 AWG 533 2 AZN 944 2 BAM 977 2 BBD 052 2 BDT 050 2 BGN 975 2 BHD 048 3
BIF 108 0 BMD 060 2 BND 096 2 BOB 068 2 BOV 984 2 BRL 986 2 BSD 044 2 BTN 064 2
BWP 072 2 BYN 933 2 BZD 084 2 CAD 124 2 CDF 976 2 CHE 947 2 CHF 756 2 CHW 948 2
CLF 990 4 CLP 152 0 CNY 156 2 COP 170 2 COU 970 2 CRC 188 2 CUC 931 2 CUP 192 2
CVE 132 2 CZK 203 2 DJF 262 0 DKK 208 2 DOP 214 2 DZD 012 2 EGP 818 2 ERN 232 2
ETB 230 2 EUR 978 2 FJD 242 2 FKP 238 2 GBP 826 2 GEL 981 2 GHS 936 2 GIP 292 2
GMD 270 2 GNF 324 0 GTQ 320 2 GYD 328 2 HKD 344 2 HNL 340 2 HTG 332 2 HUF 348 2
IDR 360 2 ILS 376 2 INR 356 2 IQD 368 3 IRR 364 2 ISK 352 0 JMD 388 2 JOD 400 3
JPY 392 0 KES 404 2 KGS 417 2 KHR 116 2 KMF 174 0 KPW 408 2 KRW 410 0 KWD 414 3
KYD 136 2 KZT 398 2 LAK 418 2 LBP 422 2 LKR 144 2 LRD 430 2 LSL 426 2 LYD 434 3
MAD 504 2 MDL 498 2 MGA 969 2 MKD 807 2 MMK 104 2 MNT 496 2 MOP 446 2 MRU 929 2
MUR 480 2 MVR 462 2 MWK 454 2 MXN 484 2 MXV 979 2 MYR 458 2 MZN 943 2 NAD 516 2
NGN 566 2 NIO 558 2 NOK 578 2 NPR 524 2 NZD 554 2 OMR 512 3 PAB 590 2 PEN 604 2
PGK 598 2 PHP 608 2 PKR 586 2 PLN 985 2 PYG 600 0 QAR 634 2 RON 946 2 RSD 941 2
RUB 643 2 RWF 646 0 SAR 682 2 SBD 090 2 SCR 690 2 SDG 938 2 SEK 752 2 SGD 702 2
SHP 654 2 SLE 925 2 SOS 706 2 SRD 968 2 SSP 728 2 STN 930 2 SVC 222 2 SYP 760 2
SZL 748 2 THB 764 2 TJS 972 2 TMT 934 2 TND 788 3 TOP 776 2 TRY 949 2 TTD 780 2
TWD 901 2 TZS 834 2 UAH 980 2 UGX 800 0 USD 840 2 USN 997 2 UYI 940 0 UYU 858 2
UYW 927 4 UZS 860 2 VED 926 2 VES 928 2 VND 704 0 VUV 548 0 WST 882 2 XAF 950 0
XCD 951 2 XOF 952 0 XPF 953 0 YER 886 2 ZAR 710 2 ZMW 967 2 ZWG 924 2`

// currencies indexes iso4217 by alphabetic and by numeric code.
var currencies = func() map[string]currency {
	f := strings.Fields(iso4217)
	m := make(map[string]currency, len(f)/3*2)
	for i := 0; i+2 < len(f); i += 3 {
		c := currency{code: f[i], num: f[i+1], exp: int(f[i+2][0] - '0')}
		m[c.code], m[c.num] = c, c
	}
	return m
}()

// currencySigns maps the signs and words senders write instead of a code.
var currencySigns = map[string]string{
	"₽": "RUB", "руб": "RUB", "руб.": "RUB", "р.": "RUB", "rur": "RUB", "810": "RUB",
	"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "₴": "UAH", "₸": "KZT", "₹": "INR",
}

// currencyOf recognizes a currency written as an ISO 4217 alphabetic code
// in any case ("rub", "RUB"), a numeric code ("643", also without leading
// zeros: "8" is ALL), or a common sign ("₽", "€", "руб."). RUR and 810, the
// ruble's pre-1998 codes that Russian banks still send, are RUB.
func currencyOf(s string) (currency, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 8 {
		return currency{}, false
	}
	if code, ok := currencySigns[strings.ToLower(s)]; ok {
		return currencies[code], true
	}
	if isDigits(s) {
		for len(s) < 3 {
			s = "0" + s
		}
		c, ok := currencies[s]
		return c, ok
	}
	c, ok := currencies[strings.ToUpper(s)]
	return c, ok && len(s) == 3
}

// Where the sign of a currency goes, by language.
var (
	signBefore = map[string]map[string]string{
		"en": {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"},
	}
	signAfter = map[string]map[string]string{
		"en": {"RUB": "₽", "UAH": "₴", "KZT": "₸"},
		"ru": {"RUB": "₽", "UAH": "₴", "KZT": "₸"},
	}
	thousandsSep = map[string]string{"en": ",", "ru": "\u00a0"}
)

// formatMoney writes an amount given in minor units of a currency: 9900
// "usd" is "$99.00" in English and "99.00 USD" in Russian; 1000 "RUB" is
// "10.00 ₽". An unknown currency is taken to have cents and shown by its
// code in upper case.
func formatMoney(minor int64, cur, lang string) string {
	c, ok := currencyOf(cur)
	if !ok {
		c = currencyStub(cur)
	}
	return formatMinor(minor, c, lang)
}

// formatMinor writes an amount in c's minor units, by c's exponent.
func formatMinor(minor int64, c currency, lang string) string {
	neg := minor < 0
	digits := strconv.FormatInt(minor, 10)
	if neg {
		digits = digits[1:]
	}
	whole, frac := shiftPoint(digits, c.exp)
	return writeMoney(neg, whole, frac, c, lang)
}

// formatAmount writes an amount as a sender wrote it — a JSON number or a
// string, "10", "10.5", "-3.20", "1000,50" — in currency (anything
// currencyOf reads). minor says the amount counts minor units (kopecks,
// cents) of the currency: 1000 RUB minor is "10.00 ₽". A major amount gets
// the currency's decimals ("10.5" USD is "$10.50") and keeps any further
// non-zero ones rather than round money. ok is false when the amount is not
// a plain decimal number or the currency is unknown; a currency that only
// looks like a code ("BTC", "USDT") is shown by its code when the amount
// is major.
func formatAmount(amount, cur string, minor bool, lang string) (string, bool) {
	neg, whole, frac, ok := parseDecimal(amount)
	if !ok {
		return "", false
	}
	c, known := currencyOf(cur)
	if !known {
		if minor || !looksLikeCode(cur) {
			return "", false
		}
		c = currency{code: strings.ToUpper(strings.TrimSpace(cur)), exp: len(frac)}
	}
	if minor {
		if strings.Trim(frac, "0") != "" {
			return "", false // a fraction of a kopeck: not minor units
		}
		whole, frac = shiftPoint(whole, c.exp)
	} else {
		for len(frac) < c.exp {
			frac += "0"
		}
		for len(frac) > c.exp && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
	}
	if strings.Trim(whole+frac, "0") == "" {
		neg = false
	}
	return writeMoney(neg, whole, frac, c, lang), true
}

// currencyStub is a currency outside ISO 4217, assumed to have cents.
func currencyStub(code string) currency {
	return currency{code: strings.ToUpper(strings.TrimSpace(code)), exp: 2}
}

// looksLikeCode reports a short upper- or lower-case word that reads as a
// currency code: "BTC", "usdt".
func looksLikeCode(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 3 || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

// shiftPoint splits a string of digits counting minor units into its whole
// and fractional digits: "1000", 2 is "10", "00"; "5", 2 is "0", "05".
func shiftPoint(digits string, exp int) (whole, frac string) {
	for len(digits) <= exp {
		digits = "0" + digits
	}
	return trimZeros(digits[:len(digits)-exp]), digits[len(digits)-exp:]
}

// trimZeros drops leading zeros of a whole number, keeping one.
func trimZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// parseDecimal reads a plain decimal number: an optional sign, digits, and
// an optional fraction after "." — or after a lone "," when the number has
// no "." ("1000,50", as Russian systems write it; "1,234" with its three
// digits is ambiguous and refused). Spaces between digit groups are allowed.
func parseDecimal(s string) (neg bool, whole, frac string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return false, "", "", false
	}
	switch s[0] {
	case '-', '+':
		neg = s[0] == '-'
		s = s[1:]
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	point := strings.IndexByte(s, '.')
	if point < 0 && strings.Count(s, ",") == 1 {
		if i := strings.IndexByte(s, ','); len(s)-i-1 != 3 {
			point = i
		}
	}
	whole, frac = s, ""
	if point >= 0 {
		whole, frac = s[:point], s[point+1:]
	}
	if whole == "" && frac == "" || whole != "" && !isDigits(whole) || frac != "" && !isDigits(frac) {
		return false, "", "", false
	}
	return neg, trimZeros(whole), frac, true
}

// isDigits reports a non-empty string of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// writeMoney lays out a parsed amount for lang.
func writeMoney(neg bool, whole, frac string, c currency, lang string) string {
	if lang != "ru" {
		lang = "en"
	}
	number := group(whole, thousandsSep[lang])
	if frac != "" {
		number += "." + frac
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if sym, ok := signBefore[lang][c.code]; ok {
		return sign + sym + number
	}
	if sym, ok := signAfter[lang][c.code]; ok {
		return sign + number + " " + sym
	}
	return sign + number + " " + c.code
}

// group inserts sep between thousands: "1234567" → "1,234,567".
func group(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Epoch numbers are taken as times only between 2000 and 2100, so that an
// id or a count is not shown as a date.
var (
	epochMin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	epochMax = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// timeLayouts are the written forms parseTime reads, tried in order. Go
// reads a fraction of a second after the seconds whatever the layout says.
var timeLayouts = []string{
	time.RFC3339,                // 2024-03-05T14:07:00.123456Z, +03:00
	"2006-01-02T15:04:05Z0700",  // +0300
	"2006-01-02T15:04:05Z07",    // +03
	"2006-01-02 15:04:05Z07:00", // space instead of T
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05 MST", // 2024-03-05 14:07:00 UTC
	"2006-01-02T15:04Z07:00",
	time.RFC1123Z, // Tue, 05 Mar 2024 14:07:00 +0000 (mail)
	time.RFC1123,  // Tue, 05 Mar 2024 14:07:00 GMT
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	time.UnixDate,
}

// localLayouts are written forms without a zone: shown without one.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"02.01.2006 15:04:05", // Russian systems: 05.03.2024 14:07:00
	"02.01.2006 15:04",
	// US style, read only with AM or PM, which says the month comes first
	// (.NET's en-US: AppVeyor's "9/9/2018 7:06 PM").
	"1/2/2006 3:04 PM",
	"1/2/2006 3:04:05 PM",
	"2006-01-02 3:04 PM",
	"2006-01-02 3:04:05 PM",
}

// when is a parsed time and how much of it the sender wrote.
type when struct {
	t      time.Time
	zone   bool // the sender gave a zone (an epoch number is UTC)
	noTime bool // a date alone: "2024-03-05"
}

// parseTime reads a timestamp: epoch seconds, milliseconds, microseconds
// or nanoseconds between 2000 and 2100 (a number, maybe with a fraction, or
// a string of one), ISO 8601 / RFC 3339 with any fraction of a second and
// zone ("Z", "+03:00", "+0300", or none), the same with a space for "T",
// RFC 1123 as mail carries it, US "9/9/2018 7:06 PM", or a date alone.
func parseTime(s string) (when, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return when{}, false
	}
	if t, ok := parseEpoch(s); ok {
		return when{t: t, zone: true}, true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return when{t: t, zone: true}, true
		}
	}
	if n := len(s); n > 3 && (s[n-2] == 'a' || s[n-2] == 'p') && s[n-1] == 'm' {
		s = s[:n-2] + strings.ToUpper(s[n-2:]) // "7:06 pm"
	}
	for _, layout := range localLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return when{t: t}, true
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return when{t: t, noTime: true}, true
	}
	return when{}, false
}

// parseEpoch reads an epoch number in seconds, milliseconds, microseconds
// or nanoseconds, whichever puts it between 2000 and 2100.
func parseEpoch(s string) (time.Time, bool) {
	neg, whole, frac, ok := parseDecimal(s)
	if !ok || neg || strings.ContainsAny(s, ", ") || len(whole) > 19 {
		return time.Time{}, false
	}
	for _, scale := range []int64{1, 1e3, 1e6, 1e9} {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		sec, rest := v/scale, v%scale
		if sec < epochMin || sec >= epochMax {
			continue
		}
		nanos := rest * (1e9 / scale)
		if frac != "" && scale < 1e9 {
			f := (frac + "000000000")[:9]
			fn, _ := strconv.ParseInt(f, 10, 64)
			nanos += fn / scale
		}
		return time.Unix(sec, nanos).UTC(), true
	}
	return time.Time{}, false
}

// formatTime writes a timestamp parseTime reads in the reader's form:
// "2024-03-05 14:07 UTC" in English, "05.03.2024 14:07 UTC" in Russian; a
// zone other than UTC is kept as its offset ("14:07 +03:00"), a time the
// sender gave without a zone is shown without one, a date alone as a date.
func formatTime(s, lang string) (string, bool) {
	w, ok := parseTime(s)
	if !ok {
		return "", false
	}
	return writeTime(w, lang), true
}

func writeTime(w when, lang string) string {
	date := "2006-01-02"
	if lang == "ru" {
		date = "02.01.2006"
	}
	if w.noTime {
		return w.t.Format(date)
	}
	out := w.t.Format(date + " 15:04")
	if !w.zone {
		return out
	}
	if _, off := w.t.Zone(); off == 0 {
		return out + " UTC"
	}
	return out + " " + w.t.Format("-07:00")
}

// durationUnits are the abbreviations of day, hour, minute, second and
// millisecond, by language.
var durationUnits = map[string][5]string{
	"en": {"d", "h", "min", "s", "ms"},
	"ru": {"д", "ч", "мин", "с", "мс"},
}

// formatDuration writes a length of time with its two largest units: "45 s",
// "1.5 s", "350 ms", "5 min 3 s", "2 h 5 min", "3 d 4 h"; Russian "45 с",
// "5 мин 3 с". A negative duration is shown as its length.
func formatDuration(d time.Duration, lang string) string {
	u, ok := durationUnits[lang]
	if !ok {
		u = durationUnits["en"]
	}
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " " + u[4]
	case d < 10*time.Second && d%time.Second != 0:
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " " + u[3]
	case d < time.Minute-time.Second/2:
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " " + u[3]
	}
	sec := int64(d.Round(time.Second) / time.Second)
	parts := []struct {
		n    int64
		unit string
	}{{sec / 86400, u[0]}, {sec % 86400 / 3600, u[1]}, {sec % 3600 / 60, u[2]}, {sec % 60, u[3]}}
	i := 0
	for parts[i].n == 0 {
		i++
	}
	out := strconv.FormatInt(parts[i].n, 10) + " " + parts[i].unit
	if i+1 < len(parts) && parts[i+1].n != 0 {
		out += " " + strconv.FormatInt(parts[i+1].n, 10) + " " + parts[i+1].unit
	}
	return out
}

// parseDuration reads a length of time: a number in unit ("s", "ms", "us",
// "ns", "min", "h"; "" is seconds), Go's "1h2m3.5s", ISO 8601's "PT1H2M3S"
// or "P1DT2H", or a clock "01:02:03" / "02:03".
func parseDuration(s, unit string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, false
	}
	if neg, whole, frac, ok := parseDecimal(s); ok && !neg {
		scale, ok := map[string]time.Duration{"": time.Second, "s": time.Second, "ms": time.Millisecond,
			"us": time.Microsecond, "ns": time.Nanosecond, "min": time.Minute, "h": time.Hour}[unit]
		if !ok {
			return 0, false
		}
		r, ok := new(big.Rat).SetString(whole + "." + frac + "0")
		if !ok {
			return 0, false
		}
		r.Mul(r, new(big.Rat).SetInt64(int64(scale)))
		f, _ := r.Float64()
		if f > math.MaxInt64/2 {
			return 0, false
		}
		return time.Duration(f), true
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, true
	}
	if d, ok := parseISODuration(s); ok {
		return d, true
	}
	return parseClock(s)
}

// parseISODuration reads ISO 8601's PnDTnHnMnS (weeks and days; no years
// or months, whose length depends on the calendar).
func parseISODuration(s string) (time.Duration, bool) {
	if len(s) < 3 || s[0] != 'P' {
		return 0, false
	}
	var total float64
	inTime, num := false, ""
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9' || r == '.' || r == ',':
			if r == ',' {
				r = '.'
			}
			num += string(r)
			continue
		case r == 'T' && !inTime && num == "":
			inTime = true
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		num = ""
		switch {
		case r == 'W' && !inTime:
			total += v * 7 * 86400
		case r == 'D' && !inTime:
			total += v * 86400
		case r == 'H' && inTime:
			total += v * 3600
		case r == 'M' && inTime:
			total += v * 60
		case r == 'S' && inTime:
			total += v
		default:
			return 0, false
		}
	}
	if num != "" || total*1e9 > math.MaxInt64/2 {
		return 0, false
	}
	return time.Duration(total * 1e9), true
}

// parseClock reads "hh:mm:ss" or "mm:ss", with an optional fraction, and
// .NET's TimeSpan "d.hh:mm:ss.fffffff" ("1.02:03:04.5").
func parseClock(s string) (time.Duration, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var total float64
	days := false
	if d, h, ok := strings.Cut(parts[0], "."); ok && len(parts) == 3 {
		days = true
		dn, err1 := strconv.Atoi(d)
		hn, err2 := strconv.Atoi(h)
		if !isDigits(d) || !isDigits(h) || len(d) > 6 || err1 != nil || err2 != nil || hn >= 24 {
			return 0, false
		}
		total = float64(dn*24 + hn)
		parts = parts[1:]
	}
	for i, p := range parts {
		digits := p
		if i == len(parts)-1 {
			digits = strings.Replace(p, ".", "", 1)
		}
		v, err := strconv.ParseFloat(p, 64)
		if !isDigits(digits) || len(p) > 12 || err != nil || (i > 0 || days) && v >= 60 {
			return 0, false
		}
		total = total*60 + v
	}
	return time.Duration(total * 1e9), true
}

// isPageURL reports a link a person opens in a browser: an http(s) URL
// isWebURL accepts that is not an API endpoint (an "api." or "api-…" host;
// a path that starts /api, /rest, /v1-style or ends /graphql; Jenkins'
// …/api/json; Azure DevOps' …/_apis/…; a .json or .xml document), not an action that acts when
// opened (…/acknowledge, …/approve, …/unsubscribe/…, a last step such as
// /cancel or /resolve, ?action=approve) and not a git remote (".git"). A
// repository named "api" or a release tagged "v1.2" is still a page.
func isPageURL(s string) bool {
	if !isWebURL(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	first, _, _ := strings.Cut(host, ".")
	if first == "api" || strings.HasPrefix(first, "api-") {
		return false
	}
	path := strings.ToLower(strings.TrimRight(u.EscapedPath(), "/"))
	for _, ext := range []string{".git", ".json", ".xml"} {
		if strings.HasSuffix(path, ext) {
			return false
		}
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if apiRoots[segs[0]] || isVersionSegment(segs[0]) || segs[len(segs)-1] == "graphql" || lastActions[segs[len(segs)-1]] {
		return false
	}
	for i, seg := range segs {
		if actionWords[seg] || seg == "_apis" { // Azure DevOps' REST API: …/org/_apis/build/Builds/2
			return false
		}
		if seg == "api" && i+1 < len(segs) && (isVersionSegment(segs[i+1]) || segs[i+1] == "json" || segs[i+1] == "xml" || segs[i+1] == "python") {
			return false
		}
	}
	for key, vals := range u.Query() {
		if k := strings.ToLower(key); k == "action" || k == "do" || k == "cmd" {
			for _, v := range vals {
				if v = strings.ToLower(v); actionWords[v] || lastActions[v] {
					return false
				}
			}
		}
	}
	return true
}

// apiRoots are first path segments of API endpoints.
var apiRoots = map[string]bool{"api": true, "rest": true, "graphql": true}

// actionWords are path segments (or ?action= values) of URLs that change
// something when opened, wherever they stand: a chat's link button must
// never be one.
var actionWords = map[string]bool{
	"ack": true, "acknowledge": true, "unacknowledge": true, "approve": true, "reject": true,
	"decline": true, "unsubscribe": true, "snooze": true, "escalate": true,
}

// lastActions act when they are the last step of the path ("/orders/12/cancel").
var lastActions = map[string]bool{
	"resolve": true, "close": true, "cancel": true, "confirm": true, "delete": true, "mute": true, "unmute": true,
}

// isVersionSegment reports a REST version segment: "v1", "v2", "v1.1".
func isVersionSegment(seg string) bool {
	if len(seg) < 2 || len(seg) > 6 || seg[0] != 'v' {
		return false
	}
	major, minor, _ := strings.Cut(seg[1:], ".")
	return isDigits(major) && (minor == "" || isDigits(minor))
}
