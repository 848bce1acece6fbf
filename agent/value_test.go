package agent

import (
	"testing"
	"time"
)

func TestCurrencyOf(t *testing.T) {
	tests := []struct {
		in       string
		code     string
		exp      int
		ok       bool
		testName string
	}{
		{"RUB", "RUB", 2, true, "Alpha"},
		{"rub", "RUB", 2, true, "AlphaLower"},
		{"643", "RUB", 2, true, "Numeric"},
		{"810", "RUB", 2, true, "OldRubleNumeric"},
		{"RUR", "RUB", 2, true, "OldRubleAlpha"},
		{"₽", "RUB", 2, true, "Sign"},
		{"руб.", "RUB", 2, true, "RussianWord"},
		{"840", "USD", 2, true, "NumericUSD"},
		{"978", "EUR", 2, true, "NumericEUR"},
		{"8", "ALL", 2, true, "NumericShort"},
		{"JPY", "JPY", 0, true, "ZeroDecimal"},
		{"392", "JPY", 0, true, "ZeroDecimalNumeric"},
		{"BHD", "BHD", 3, true, "ThreeDecimal"},
		{"kwd", "KWD", 3, true, "ThreeDecimalLower"},
		{"CLF", "CLF", 4, true, "FourDecimal"},
		{"BTC", "", 0, false, "NotISO"},
		{"999", "", 0, false, "UnknownNumeric"},
		{"RUBL", "", 0, false, "TooLong"},
		{"", "", 0, false, "Empty"},
	}
	for _, tt := range tests {
		t.Run(tt.testName, func(t *testing.T) {
			c, ok := currencyOf(tt.in)
			if ok != tt.ok || c.code != tt.code || c.exp != tt.exp {
				t.Errorf("currencyOf(%q) = %+v, %v; want %s exp %d, %v", tt.in, c, ok, tt.code, tt.exp, tt.ok)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		name        string
		amount, cur string
		minor       bool
		lang, want  string
		ok          bool
	}{
		{"MinorRUB", "1000", "RUB", true, "en", "10.00 ₽", true},
		{"MinorRUBRU", "1000", "643", true, "ru", "10.00 ₽", true},
		{"MajorUSD", "652.15", "USD", false, "en", "$652.15", true},
		{"MajorUSDRU", "652.15", "usd", false, "ru", "652.15 USD", true},
		{"GroupedEUR", "1234.5", "EUR", false, "en", "€1,234.50", true},
		{"GroupedEURRU", "1234.5", "978", false, "ru", "1\u00a0234.50 EUR", true},
		{"MajorInteger", "10", "RUB", false, "en", "10.00 ₽", true},
		{"MajorString", "10.00", "RUB", false, "ru", "10.00 ₽", true},
		{"CommaDecimal", "1000,50", "RUB", false, "en", "1,000.50 ₽", true},
		{"AmbiguousComma", "1,234", "RUB", false, "en", "", false},
		{"SpacedThousands", "1 000 000.00", "RUB", false, "en", "1,000,000.00 ₽", true},
		{"MinorJPY", "500", "JPY", true, "en", "¥500", true},
		{"MajorJPYTrailingZeros", "500.00", "JPY", false, "en", "¥500", true},
		{"MinorKWD", "1500", "KWD", true, "en", "1.500 KWD", true},
		{"MinorBHDNumeric", "12345", "048", true, "en", "12.345 BHD", true},
		{"MinorSmall", "5", "EUR", true, "en", "€0.05", true},
		{"Negative", "-2.5", "GBP", false, "en", "-£2.50", true},
		{"NegativeZero", "-0", "USD", false, "en", "$0.00", true},
		{"ExtraDigitsKept", "0.125", "USD", false, "en", "$0.125", true},
		{"UnknownCodeMajor", "0.00123", "BTC", false, "en", "0.00123 BTC", true},
		{"UnknownCodeMinor", "123", "BTC", true, "en", "", false},
		{"MinorWithFraction", "10.5", "RUB", true, "en", "", false},
		{"MinorWithZeroFraction", "1000.0", "RUB", true, "en", "10.00 ₽", true},
		{"NotANumber", "ten", "USD", false, "en", "", false},
		{"Exponent", "1e3", "USD", false, "en", "", false},
		{"NoCurrency", "10", "", false, "en", "", false},
		{"UnknownNumericCurrency", "10", "999", false, "en", "", false},
		{"OtherCurrencyCode", "99", "CHF", false, "en", "99.00 CHF", true},
		{"Hryvnia", "99", "UAH", false, "ru", "99.00 ₴", true},
		{"UnknownLangIsEnglish", "99", "USD", false, "de", "$99.00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := formatAmount(tt.amount, tt.cur, tt.minor, tt.lang)
			if got != tt.want || ok != tt.ok {
				t.Errorf("formatAmount(%q, %q, %v, %q) = %q, %v; want %q, %v", tt.amount, tt.cur, tt.minor, tt.lang, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormatMoney_ISOExponents(t *testing.T) {
	tests := []struct {
		minor     int64
		cur, lang string
		want      string
	}{
		{1000, "RUB", "en", "10.00 ₽"},
		{1000, "643", "ru", "10.00 ₽"},
		{123456, "EUR", "ru", "1\u00a0234.56 EUR"},
		{1, "CLF", "en", "0.0001 CLF"},
		{100, "ISK", "en", "100 ISK"},
		{100, "xyz", "en", "1.00 XYZ"},
	}
	for _, tt := range tests {
		if got := formatMoney(tt.minor, tt.cur, tt.lang); got != tt.want {
			t.Errorf("formatMoney(%d, %q, %q) = %q, want %q", tt.minor, tt.cur, tt.lang, got, tt.want)
		}
	}
}

func TestStripeAmount(t *testing.T) {
	tests := []struct {
		minor int64
		cur   string
		want  string
	}{
		{9900, "usd", "$99.00"},
		{500, "mga", "500 MGA"},
		{10000, "isk", "100.00 ISK"},
		{100, "xyz", "1.00 XYZ"},
	}
	for _, tt := range tests {
		if got := stripeAmount(tt.minor, tt.cur, "en"); got != tt.want {
			t.Errorf("stripeAmount(%d, %q) = %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		name, in, lang, want string
		ok                   bool
	}{
		{"EpochSeconds", "1709647620", "en", "2024-03-05 14:07 UTC", true},
		{"EpochSecondsRU", "1709647620", "ru", "05.03.2024 14:07 UTC", true},
		{"EpochSecondsFraction", "1709647620.987", "en", "2024-03-05 14:07 UTC", true},
		{"EpochMillis", "1709647620123", "en", "2024-03-05 14:07 UTC", true},
		{"EpochMicros", "1709647620123456", "en", "2024-03-05 14:07 UTC", true},
		{"EpochNanos", "1709647620123456789", "en", "2024-03-05 14:07 UTC", true},
		{"ISOZulu", "2024-03-05T14:07:00Z", "en", "2024-03-05 14:07 UTC", true},
		{"ISOMicros", "2024-03-05T14:07:00.123456Z", "en", "2024-03-05 14:07 UTC", true},
		{"ISOOffset", "2024-03-05T17:07:00.1+03:00", "en", "2024-03-05 17:07 +03:00", true},
		{"ISOOffsetNoColon", "2024-03-05T17:07:00.000+0300", "ru", "05.03.2024 17:07 +03:00", true},
		{"ISOOffsetHours", "2024-03-05T17:07:00+03", "en", "2024-03-05 17:07 +03:00", true},
		{"ISOZeroOffset", "2024-03-05T14:07:00+00:00", "en", "2024-03-05 14:07 UTC", true},
		{"SpaceOffset", "2024-03-05 14:07:00 +0000", "en", "2024-03-05 14:07 UTC", true},
		{"SpaceUTC", "2024-03-05 14:07:00 UTC", "en", "2024-03-05 14:07 UTC", true},
		{"NoZone", "2024-03-05T14:07:00", "en", "2024-03-05 14:07", true},
		{"NoZoneSpace", "2024-03-05 14:07:00.000000", "en", "2024-03-05 14:07", true},
		{"RussianDate", "05.03.2024 14:07:00", "en", "2024-03-05 14:07", true},
		{"RFC1123", "Tue, 05 Mar 2024 14:07:00 GMT", "en", "2024-03-05 14:07 UTC", true},
		{"RFC1123Z", "Tue, 05 Mar 2024 17:07:00 +0300", "en", "2024-03-05 17:07 +03:00", true},
		{"DateOnly", "2024-03-05", "ru", "05.03.2024", true},
		{"USStyle", "9/9/2018 7:06 PM", "en", "2018-09-09 19:06", true}, // AppVeyor
		{"USStyleRU", "12/1/2018 12:15:30 AM", "ru", "01.12.2018 00:15", true},
		{"USStyleISODate", "2014-04-14 7:58 PM", "en", "2014-04-14 19:58", true},
		{"USStyleLowerCase", "2014-04-14 7:58 pm", "en", "2014-04-14 19:58", true},
		{"SlashesWithoutAMPM", "9/9/2018 19:06", "en", "", false}, // month or day first? not said
		{"USStyleNoMonth13", "13/9/2018 7:06 PM", "en", "", false},
		{"SmallNumberIsNotATime", "12345", "en", "", false},
		{"FarFuture", "9999999999", "en", "", false},
		{"Text", "yesterday", "en", "", false},
		{"Negative", "-1709647620", "en", "", false},
		{"Empty", "", "en", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := formatTime(tt.in, tt.lang)
			if got != tt.want || ok != tt.ok {
				t.Errorf("formatTime(%q, %q) = %q, %v; want %q, %v", tt.in, tt.lang, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d          time.Duration
		lang, want string
	}{
		{350 * time.Millisecond, "en", "350 ms"},
		{1500 * time.Millisecond, "en", "1.5 s"},
		{45 * time.Second, "en", "45 s"},
		{45 * time.Second, "ru", "45 с"},
		{13896 * time.Millisecond, "en", "14 s"}, // rounded, as minutes are
		{59700 * time.Millisecond, "en", "1 min"},
		{63 * time.Second, "en", "1 min 3 s"},
		{5*time.Minute + 3*time.Second, "ru", "5 мин 3 с"},
		{2*time.Hour + 5*time.Minute + 9*time.Second, "en", "2 h 5 min"},
		{2 * time.Hour, "en", "2 h"},
		{2*time.Hour + 9*time.Second, "en", "2 h"},
		{76*time.Hour + 10*time.Minute, "ru", "3 д 4 ч"},
		{-45 * time.Second, "en", "45 s"},
		{0, "en", "0 ms"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d, tt.lang); got != tt.want {
			t.Errorf("formatDuration(%v, %q) = %q, want %q", tt.d, tt.lang, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in, unit string
		want     time.Duration
		ok       bool
	}{
		{"63", "", 63 * time.Second, true},
		{"63", "s", 63 * time.Second, true},
		{"1.5", "s", 1500 * time.Millisecond, true},
		{"1500", "ms", 1500 * time.Millisecond, true},
		{"2", "min", 2 * time.Minute, true},
		{"1h2m3s", "", time.Hour + 2*time.Minute + 3*time.Second, true},
		{"PT1H2M3.5S", "", time.Hour + 2*time.Minute + 3500*time.Millisecond, true},
		{"P1DT2H", "", 26 * time.Hour, true},
		{"P1M", "", 0, false},
		{"01:02:03", "", time.Hour + 2*time.Minute + 3*time.Second, true},
		{"02:03.5", "", 2*time.Minute + 3500*time.Millisecond, true},
		{"01:99", "", 0, false},
		{"00:01:30.374", "", time.Minute + 30374*time.Millisecond, true}, // .NET TimeSpan
		{"00:01:30.3740000", "", time.Minute + 30374*time.Millisecond, true},
		{"1.02:03:04.5", "", 26*time.Hour + 3*time.Minute + 4500*time.Millisecond, true},
		{"1.24:00:00", "", 0, false},
		{"1.02:60:00", "", 0, false},
		{"1.2.3:00:00", "", 0, false},
		{"1.02:03", "", 0, false},
		{"-5", "s", 0, false},
		{"5", "weeks", 0, false},
		{"soon", "", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDuration(tt.in, tt.unit)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseDuration(%q, %q) = %v, %v; want %v, %v", tt.in, tt.unit, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsPageURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://github.com/Codertocat/Hello-World/pull/2", true},
		{"https://gitea.example.com/org/repo/compare/abc...def", true},
		{"http://localhost:3000/gitea/webhooks", true},
		{"https://yookassa.ru/my/payments?search=22e12f66", true},
		{"https://api.github.com/repos/Codertocat/Hello-World", false},
		{"https://dev.azure.com/fabrikam/_apis/build/Builds/2", false}, // Azure DevOps' REST API
		{"https://fabrikam.visualstudio.com/DefaultCollection/_apis/wit/workItems/5", false},
		{"https://dev.azure.com/fabrikam/Fabrikam-Fiber/_build/results?buildId=2", true},
		{"https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T", false},
		{"https://example.com/api/v4/projects/1", false},
		{"https://example.com/api", false},
		{"https://sentry.io/rest/projects/1", false},
		{"https://app.example.com/v1/payments/123", false},
		{"https://app.example.com/graphql", false},
		{"https://example.com/status.json", false},
		{"https://github.com/Codertocat/Hello-World.git", false},
		{"https://events.pagerduty.com/incidents/PXYZ/acknowledge", false},
		{"https://app.example.com/approvals/12/approve", false},
		{"https://list.example.com/unsubscribe/abc", false},
		{"https://jenkins.example.com/job/build?action=approve", false},
		{"git://github.com/Codertocat/Hello-World.git", false},
		{"ssh://git@github.com/Codertocat/Hello-World", false},
		{"ftp://example.com/file", false},
		{"https://user:pass@example.com/page", false},
		{"/relative/path", false},
		{"", false},
		{"https://example.com/docs/video1/", true},
		{"https://github.com/acme/api/pull/5", true},
		{"https://github.com/acme/app/releases/tag/v1.2", true},
		{"https://example.com/help/close-account", true},
		{"https://example.com/v2/repositories/acme/app", false},
		{"https://ci.example.com/job/app/12/api/json", false},
		{"https://ci.example.com/job/app/12/api/json?pretty=true", false},
		{"https://acme.atlassian.net/rest/api/3/issue/10000", false},
		{"https://gitlab.example.com/acme/app/api/v4/x", false},
		{"https://shop.example/orders/12/cancel", false},
		{"https://status.example.com/incidents/42/resolve/", false},
		{"https://app.example.com/alerts?id=4&action=resolve", false},
	}
	for _, tt := range tests {
		if got := isPageURL(tt.url); got != tt.want {
			t.Errorf("isPageURL(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}
