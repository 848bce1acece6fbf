package agent_test

import (
	"testing"

	"github.com/herald-relay/herald/agent"
)

// TestCatalogueCRM is the CRM, forms, mail and home-media family: every
// payload under testdata/senders/<id>/ of these entries, in en and ru.
// A new lead or booking says who, what and how much; a bounce, a drop or a
// spam complaint is high with a to-do, a delivery low (silent); a grab is
// low, a download normal.
//
// What the payloads cannot give is not asserted: amoCRM and Bitrix24 send
// no page URL (the deal's page would have to be built from the portal and
// the id) and amoCRM no currency; Bitrix24 sends only the object's id.
func TestCatalogueCRM(t *testing.T) {
	checkCatalogueGolden(t, []catalogueCase{
		{
			// PHP-style form keys read as a tree: leads[add][0][name] is the title.
			Sender: "amocrm", File: "leads.add.form", Header: "amoCRM · leads.add",
			Facts:      []string{"qaz", "24234", "Some text field: asdfdsf", "31926529", "test000002"},
			Derived:    []string{"New lead", "Budget: 24234", "Created: 2016-03-01 09:27 UTC"},
			DerivedRU:  []string{"Новая сделка", "Бюджет: 24234", "Воронка: 2116", "Создано: 01.03.2016 09:27 UTC"},
			Importance: agent.ImportanceNormal, Thread: "amocrm:test000002/leads/31926529",
		},
		{
			Sender: "amocrm", File: "leads.status.form", Header: "amoCRM · leads.status",
			Facts:      []string{"Some test lead", "10216995 → 10216994", "1000", "some text"},
			Derived:    []string{"Lead moved to another stage", "Stage: 10216995 → 10216994"},
			DerivedRU:  []string{"Сделка перешла на другой этап", "Этап: 10216995 → 10216994"},
			Importance: agent.ImportanceNormal, Thread: "amocrm:test000002/leads/31926520",
		},
		{
			// auth[access_token] and auth[application_token] are credentials
			// (checked: not shown); auth[domain] is not and is shown.
			Sender: "bitrix24", File: "ONCRMCONTACTADD.form", Header: "Bitrix24 · ONCRMCONTACTADD",
			Facts:      []string{"134806", "bitrix24-php-sdk-playground.bitrix24.com"},
			Derived:    []string{"New contact #134806", "2024-09-22 15:28 UTC"},
			DerivedRU:  []string{"Новый контакт №134806", "Портал: bitrix24-php-sdk-playground.bitrix24.com", "22.09.2024 15:28 UTC"},
			Importance: agent.ImportanceNormal, Thread: "bitrix24:bitrix24-php-sdk-playground.bitrix24.com/134806",
		},
		{
			Sender: "bitrix24", File: "ONCRMDEALADD.doc.json", Header: "Bitrix24 · ONCRMDEALADD",
			Facts:      []string{"6641", "some-domain.bitrix24.com"},
			Derived:    []string{"New deal #6641", "Sent: 2024-12-28 08:21 UTC"},
			DerivedRU:  []string{"Новая сделка №6641", "Отправлено: 28.12.2024 08:21 UTC"},
			Importance: agent.ImportanceNormal, Thread: "bitrix24:some-domain.bitrix24.com/6641",
		},
		{
			Sender: "calcom", File: "BOOKING_CREATED.json", Header: "Cal.com · BOOKING_CREATED",
			Facts:      []string{"Strategy Session between Organizer and Guest", "Guest User <guest@example.com>", "Additional Guest <additional-guest@example.com>", "Organizer Name <organizer@example.com>"},
			Derived:    []string{"New booking", "When: 2024-01-01 10:00 UTC", "15 min"},
			DerivedRU:  []string{"Новая встреча", "Когда: 01.01.2024 10:00 UTC", "15 мин", "Гости:"},
			Importance: agent.ImportanceNormal,
			Link:       "https://app.example.com/video/unique-booking-id", Thread: "calcom:unique-booking-id",
		},
		{
			Sender: "calcom", File: "BOOKING_CANCELLED.json", Header: "Cal.com · BOOKING_CANCELLED",
			Facts:      []string{"Strategy Session: Organizer & Guest", "I am no longer able to attend this session."},
			Derived:    []string{"Booking cancelled", "When: 2024-01-04 10:00 UTC"},
			DerivedRU:  []string{"Встреча отменена", "Причина: I am no longer able", "Статус: отменено"},
			Importance: agent.ImportanceNormal, Thread: "calcom:unique-booking-identifier",
		},
		{
			Sender: "sendgrid", File: "bounce.json", Header: "SendGrid · bounce",
			Facts:      []string{"example@test.com", "500 unknown recipient", "5.0.0"},
			Derived:    []string{"Message bounced", "Fix or remove the address example@test.com"},
			DerivedRU:  []string{"Письмо не доставлено", "Исправьте или удалите адрес example@test.com"},
			Importance: agent.ImportanceHigh, Action: true,
			Thread: "sendgrid:14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		{
			Sender: "sendgrid", File: "delivered.json", Header: "SendGrid · delivered",
			Facts:      []string{"example@test.com", "250 OK"},
			Derived:    []string{"Message delivered"},
			DerivedRU:  []string{"Письмо доставлено"},
			Importance: agent.ImportanceLow,
			Thread:     "sendgrid:14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		{
			// Eleven events in one POST; the sixth is a bounce, so the
			// batch is high (a condition on any element: *.event).
			Sender: "sendgrid", File: "events.json", Header: "SendGrid · batch",
			Facts:      []string{"processed example@test.com", "deferred example@test.com", "500 unknown recipient"},
			Derived:    []string{"11 events", "…and 8 more", "Look at the bounces, drops and spam reports"},
			DerivedRU:  []string{"Событий: 11", "…и ещё 8", "Разберитесь с отказами"},
			Importance: agent.ImportanceHigh, Action: true, Thread: "sendgrid:batch:sg_event_id",
		},
		{
			Sender: "postmark", File: "bounce.json", Header: "Postmark · Bounce",
			Facts:      []string{"Hard bounce", "john@example.com", "smtp;550 5.1.1 The email account that you tried to reach does not exist.", "Welcome to our service"},
			Derived:    []string{"Address deactivated: yes", "2025-04-05 16:33 UTC", "Postmark deactivated the address"},
			DerivedRU:  []string{"Адрес отключён: да", "05.04.2025 16:33 UTC", "Postmark отключил адрес"},
			Importance: agent.ImportanceHigh, Action: true, Thread: "postmark:883953f4-6105-42a2-a16a-77a8eac79483",
		},
		{
			Sender: "postmark", File: "delivery.json", Header: "Postmark · Delivery",
			Facts:      []string{"john@example.com", "welcome-email"},
			Derived:    []string{"Message delivered", "Delivered: 2025-04-05 16:33 UTC"},
			DerivedRU:  []string{"Письмо доставлено", "Доставлено: 05.04.2025 16:33 UTC"},
			Importance: agent.ImportanceLow, Thread: "postmark:883953f4-6105-42a2-a16a-77a8eac79483",
		},
		{
			Sender: "postmark", File: "spamcomplaint.json", Header: "Postmark · SpamComplaint",
			Facts:      []string{"john@example.com", "Welcome to our service"},
			Derived:    []string{"Marked as spam", "Stop mailing john@example.com"},
			DerivedRU:  []string{"Пожаловались на спам", "Больше не пишите на john@example.com"},
			Importance: agent.ImportanceHigh, Action: true, Thread: "postmark:883953f4-6105-42a2-a16a-77a8eac79483",
		},
		{
			Sender: "resend", File: "email.delivered.json", Header: "Resend · email.delivered",
			Facts:      []string{"Welcome to Acme", "delivered@resend.dev", "Acme <noreply@acme.com>"},
			Derived:    []string{"Email delivered"},
			DerivedRU:  []string{"Письмо доставлено"},
			Importance: agent.ImportanceLow, Thread: "resend:ae2014de-c168-4c61-8267-70d2662a1ce1",
		},
		{
			Sender: "sonarr", File: "grab.json", Header: "Sonarr · Grab",
			Facts:      []string{"Gravity Falls", "The Stanchurian Candidate", "HDTV-720p"},
			Derived:    []string{"Episode S2E14 of Gravity Falls sent to the download client", "Aired: 2015-08-25 01:30 UTC"},
			DerivedRU:  []string{"Серия S2E14 сериала Gravity Falls отправлена на загрузку", "Вышла: 25.08.2015 01:30 UTC"},
			Importance: agent.ImportanceLow, Thread: "sonarr:259972",
		},
		{
			Sender: "radarr", File: "grab.json", Header: "Radarr · Grab",
			Facts:      []string{"Finding Nemo (2003)", "Finding.Nemo.2003.iNTERNAL.DVDRip.x264-XME", "NZBgeek", "tt0266543"},
			Derived:    []string{"Finding Nemo sent to the download client"},
			DerivedRU:  []string{"Фильм Finding Nemo отправлен на загрузку"},
			Importance: agent.ImportanceLow, Thread: "radarr:12",
		},
		{
			Sender: "radarr", File: "download.json", Header: "Radarr · Download",
			Facts:      []string{"Finding Nemo (2003)", "Finding Nemo (2003) DVD.mkv", "REGRET"},
			Derived:    []string{"Finding Nemo downloaded"},
			DerivedRU:  []string{"Фильм Finding Nemo загружен"},
			Importance: agent.ImportanceNormal, Thread: "radarr:12",
		},
	})
}
