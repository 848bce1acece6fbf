package agent_test

import (
	"testing"

	"github.com/herald-relay/herald/agent"
)

// TestCatalogueOps is the monitoring family: uptime checks, on-call and
// alerting tools, error trackers and status pages, every payload under
// testdata/senders/<id>/ of these entries, in en and ru. A check going
// down, an alert firing or a new error is high with a to-do; the way back
// (resolved, closed, up) is normal and says how long it lasted when the
// payload says so; acknowledgements are normal; firing and resolved
// payloads of one alert share a thread key where the payloads let them.
func TestCatalogueOps(t *testing.T) {
	const opsgenieAlert = "052652ac-5d1c-464a-812a-7dd18bbfba8c"
	const azureAlert = "/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"
	checkCatalogueGolden(t, []catalogueCase{
		// Opsgenie: the three actions of one alert, one thread.
		{
			Sender: "opsgenie", File: "create.json", Header: "Opsgenie · create",
			Facts:      []string{"test alert", "#23", "fili@ifountain.com", "tag1, tag2", "team1, team2"},
			Derived:    []string{"New alert from Integration1", "Created: 2015-01-05 10:03 UTC", "Acknowledge alert #23 in Opsgenie"},
			DerivedRU:  []string{"Новый алерт из Integration1", "Создано: 05.01.2015 10:03 UTC", "Подтвердите алерт #23 в Opsgenie"},
			Importance: agent.ImportanceHigh, Thread: opsgenieAlert, Action: true,
		},
		{
			Sender: "opsgenie", File: "acknowledge.json", Header: "Opsgenie · acknowledge",
			Facts:      []string{"test alert", "#23", "tag1, tag2"},
			Derived:    []string{"Acknowledged by fili@ifountain.com"},
			DerivedRU:  []string{"Принят: fili@ifountain.com"},
			Importance: agent.ImportanceNormal, Thread: opsgenieAlert,
		},
		{
			Sender: "opsgenie", File: "close.json", Header: "Opsgenie · close",
			Facts:      []string{"test alert", "#23"},
			Derived:    []string{"Closed by fili@ifountain.com"},
			DerivedRU:  []string{"Закрыт: fili@ifountain.com"},
			Importance: agent.ImportanceNormal, Thread: opsgenieAlert,
		},

		// Statuspage: one incident identified, then resolved; a component.
		{
			Sender: "statuspage", File: "incident.identified.json", Header: "Statuspage · incident.identified",
			Facts:      []string{"Database query delays", "We just encountered that database queries are timing out", "Management Portal (example)", "All Systems Operational"},
			Derived:    []string{"Status: identified", "Started: 2017-12-26 07:32 UTC"},
			DerivedRU:  []string{"Статус: identified", "Начало: 26.12.2017 07:32 UTC"},
			Importance: agent.ImportanceNormal, Link: "http://stspg.io/646947c1e", Thread: "jb7j80lkgqvb/z3lct0r596n4",
		},
		{
			Sender: "statuspage", File: "incident.resolved.json", Header: "Statuspage · incident.resolved",
			Facts:      []string{"Database query delays", "The database issue is resolved."},
			Derived:    []string{"Started: 2017-12-26 07:32 UTC", "Resolved: 2017-12-26 07:37 UTC", "Duration: 5 min 20 s"},
			DerivedRU:  []string{"Начало: 26.12.2017 07:32 UTC", "Решён: 26.12.2017 07:37 UTC", "Длительность: 5 мин 20 с"},
			Importance: agent.ImportanceNormal, Link: "http://stspg.io/646947c1e", Thread: "jb7j80lkgqvb/z3lct0r596n4",
		},
		{
			Sender: "statuspage", File: "component_update.json", Header: "Statuspage · component.under_maintenance",
			Facts:      []string{"Database component", "Service Under Maintenance"},
			Derived:    []string{"operational → under maintenance", "Updated: 2017-12-26 07:59 UTC"},
			DerivedRU:  []string{"operational → under maintenance", "Обновлено: 26.12.2017 07:59 UTC"},
			Importance: agent.ImportanceNormal, Thread: "jb7j80lkgqvb/sqm6pl84wzjc",
		},

		// Better Stack: a status page subscription that looks like
		// Statuspage's and must not be taken for it.
		{
			Sender: "better-stack", File: "status_incident.json", Header: "Better Stack · incident",
			Facts:      []string{"Database Connection Issues", "We've identified the issue and are working on a fix", "Some services are down"},
			Derived:    []string{"Started: 2024-01-15 10:30 UTC", "Follow Database Connection Issues on the status page"},
			DerivedRU:  []string{"Начало: 15.01.2024 10:30 UTC", "Следите за «Database Connection Issues»"},
			Importance: agent.ImportanceHigh, Link: "https://status.example.com/incidents/98765", Thread: "98765", Action: true,
		},

		// updown.io: an array of events; down, then up after 265 s.
		{
			Sender: "updown", File: "check.down.json", Header: "updown.io · check.down",
			Facts:      []string{"https://updown.io", "500", "100.0 %"},
			Derived:    []string{"https://updown.io is down", "Error 500 since 2016-02-07 13:11 UTC", "Look at https://updown.io: it answers 500"},
			DerivedRU:  []string{"https://updown.io недоступен", "Ошибка 500 с 07.02.2016 13:11 UTC", "Проверьте https://updown.io"},
			Importance: agent.ImportanceHigh, Thread: "https://updown.io", Action: true,
		},
		{
			Sender: "updown", File: "check.up.json", Header: "updown.io · check.up",
			Facts:      []string{"https://updown.io", "99.954 %"},
			Derived:    []string{"https://updown.io is up again", "Was down for 4 min 25 s (error 500)", "Finished: 2016-02-07 13:16 UTC"},
			DerivedRU:  []string{"https://updown.io снова доступен", "Был недоступен 4 мин 25 с (ошибка 500)", "Окончание: 07.02.2016 13:16 UTC"},
			Importance: agent.ImportanceNormal, Thread: "https://updown.io",
		},

		// Pingdom: an HTTP check down, an IMAP check up.
		{
			Sender: "pingdom", File: "http.up_to_down.json", Header: "Pingdom · down",
			Facts:      []string{"http://someurl.com/", "Non-recoverable failure in name resolution", "Amsterdam 5, Netherlands", "HTTP #2048467"},
			Derived:    []string{"Test check is down", "DNS error: Non-recoverable", "Changed: 2016-03-14 07:10 UTC", "Look at Test check (someurl.com): DNS error"},
			DerivedRU:  []string{"Test check недоступен", "Изменено: 14.03.2016 07:10 UTC", "Проверьте Test check (someurl.com)"},
			Importance: agent.ImportanceHigh, Thread: "2048467", Action: true,
		},
		{
			Sender: "pingdom", File: "imap.down_to_up.json", Header: "Pingdom · up",
			Facts:      []string{"imap.someurl.com:993", "St. Louis, MO", "IMAP #2051859"},
			Derived:    []string{"IMAP check is up again", "Changed: 2016-03-15 19:33 UTC"},
			DerivedRU:  []string{"IMAP check снова доступен", "Изменено: 15.03.2016 19:33 UTC"},
			Importance: agent.ImportanceNormal, Thread: "2051859",
		},

		// New Relic workflows, default payload: an issue created, one closed.
		{
			Sender: "newrelic", File: "issue.created.json", Header: "New Relic · created",
			Facts: []string{"MAIN-APP-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'", "MAIN-APP-UBUNTU", "DBA Team workflow"},
			Derived: []string{"Policy Golden Signals, condition High CPU", "Priority: critical", "Started: 2024-04-22 06:36 UTC",
				"Look at MAIN-APP-UBUNTU: High CPU"},
			DerivedRU:  []string{"Политика Golden Signals, условие High CPU", "Начало: 22.04.2024 06:36 UTC", "Проверьте MAIN-APP-UBUNTU"},
			Importance: agent.ImportanceHigh, Link: "https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK",
			Thread: "208c5e92-f250-40be-b7c2-50508c268c15", Action: true,
		},
		{
			Sender: "newrelic", File: "issue.closed.json", Header: "New Relic · closed",
			Facts:      []string{"main_app-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'", "main_app-UBUNTU"},
			Derived:    []string{"Started: 2024-04-22 06:16 UTC", "Updated: 2024-04-22 06:17 UTC", "Duration: 1 min 7 s"},
			DerivedRU:  []string{"Начало: 22.04.2024 06:16 UTC", "Обновлено: 22.04.2024 06:17 UTC", "Длительность: 1 мин 7 с"},
			Importance: agent.ImportanceNormal, Link: "https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK",
			Thread: "95a9344a-2590-48ce-8d83-07e28b6d22c6",
		},

		{
			// A person acted on the issue (trigger USER_ACTION): someone is on it.
			Sender: "newrelic", File: "issue.user_action.json", Header: "New Relic · activated",
			Facts:      []string{"Storage on Host Exceeded Threshold", "PIETER-UBUNTU", "issue workflow"},
			Derived:    []string{"Priority: high", "Updated: 2024-04-22 07:14 UTC"},
			DerivedRU:  []string{"Приоритет: high", "Обновлено: 22.04.2024 07:14 UTC"},
			Importance: agent.ImportanceNormal, Link: "https://radar-api.service.newrelic.com/accounts/4420147/issues/13bbcdca-f0b6-470d-b0be-b34583c58869?notifier=WEBHOOK",
			Thread: "13bbcdca-f0b6-470d-b0be-b34583c58869",
		},

		// Raygun: a new error (its message is empty), an error ignored.
		{
			Sender: "raygun", File: "new_error.json", Header: "Raygun · NewErrorOccurred",
			Facts:      []string{"application name", "test, error-page, v1.0.1, env:staging"},
			Derived:    []string{"New error in application name", "Users affected: 1", "First seen: 1970-01-28 01:49 UTC", "Look at the new error in application name"},
			DerivedRU:  []string{"Новая ошибка в application name", "Затронуто пользователей: 1", "Разберитесь с новой ошибкой"},
			Importance: agent.ImportanceHigh, Link: "http://app.raygun.io/error-url", Thread: "http://app.raygun.io/error-url", Action: true,
		},
		{
			Sender: "raygun", File: "error_status_changed.json", Header: "Raygun · StatusChanged",
			Facts:      []string{"Script Error", "Emma marked error Script Error as Ignored", "Best App", "Ignored", "Emma Cat"},
			Importance: agent.ImportanceNormal, Link: "https://app.raygun.com/error-url", Thread: "https://app.raygun.com/error-url",
		},

		// Honeybadger: an error occurred, another resolved.
		{
			Sender: "honeybadger", File: "occurred.json", Header: "Honeybadger · occurred",
			Facts:      []string{"RuntimeError: oops", "[Crywolf/test] RuntimeError - oops", "development"},
			Derived:    []string{"Occurrences: 9", "Last seen: 2014-01-08 19:02 UTC", "Look at RuntimeError in development"},
			DerivedRU:  []string{"Повторений: 9", "Разберитесь с RuntimeError в development"},
			Importance: agent.ImportanceHigh, Thread: "1717/3151009", Action: true,
		},
		{
			Sender: "honeybadger", File: "resolved.json", Header: "Honeybadger · resolved",
			Facts:      []string{"ActiveRecord::NoDatabaseError: We could not find your database", "production", "pages#home"},
			Derived:    []string{"Occurrences: 6", "Version: 0eaf61a"},
			DerivedRU:  []string{"Повторений: 6", "Версия: 0eaf61a"},
			Importance: agent.ImportanceNormal, Link: "https://app.honeybadger.io/projects/123321/faults/101337516", Thread: "123321/101337516",
		},

		// Rollbar: a new item; a deploy (silent).
		{
			Sender: "rollbar", File: "new_item.json", Header: "Rollbar · new_item",
			Facts:      []string{"#4 testing aobg98wrwe", "production", "error", "dev"},
			Derived:    []string{"First seen: 2013-10-24 22:57 UTC", "Look at #4 in production: testing aobg98wrwe"},
			DerivedRU:  []string{"Впервые: 24.10.2013 22:57 UTC", "Разберитесь с #4 в production"},
			Importance: agent.ImportanceHigh, Thread: "90/272716944", Action: true,
		},
		{
			Sender: "rollbar", File: "deploy.json", Header: "Rollbar · deploy",
			Facts:      []string{"deploying webs", "production", "e4b9b7d", "brian"},
			Derived:    []string{"Deploy to production", "Finished: 2013-10-24 23:07 UTC"},
			DerivedRU:  []string{"Деплой в production", "Окончание: 24.10.2013 23:07 UTC"},
			Importance: agent.ImportanceLow, Thread: "90/deploy/187585",
		},

		// Grafana OnCall: an alert group resolved (Forward All).
		{
			Sender: "grafana-oncall", File: "resolve.json", Header: "Grafana OnCall · resolve",
			Facts:      []string{"Incident", "This alert was sent by user for the demonstration purposes", "TestAlert", "Main Integration - Webhook", "Webhooks Demo", "admin"},
			Derived:    []string{"Started: 2023-04-19 21:53 UTC", "Resolved: 2023-04-19 21:59 UTC", "Duration: 5 min 33 s"},
			DerivedRU:  []string{"Начало: 19.04.2023 21:53 UTC", "Решено: 19.04.2023 21:59 UTC", "Длительность: 5 мин 33 с"},
			Importance: agent.ImportanceNormal, Link: "https://**********.grafana.net/a/grafana-oncall-app/alert-groups/I6HNZGUFG4K11",
			Thread: "I6HNZGUFG4K11",
		},

		// Azure Monitor: one metric alert fired, then resolved.
		{
			Sender: "azure-monitor", File: "metric_alert.fired.json", Header: "Azure Monitor · fired",
			Facts:      []string{"WCUS-R2-Gen2", "wcus-r2-gen2", "Sev3", "Percentage CPU", "31.1105"},
			Derived:    []string{"Average Percentage CPU is 31.1105 (GreaterThan 25)", "Window: 5 min", "Fired: 2019-03-22 13:58 UTC", "Look at wcus-r2-gen2: Percentage CPU is 31.1105, threshold 25"},
			DerivedRU:  []string{"Окно: 5 мин", "Сработал: 22.03.2019 13:58 UTC", "Проверьте wcus-r2-gen2"},
			Importance: agent.ImportanceHigh, Thread: azureAlert, Action: true,
		},
		{
			Sender: "azure-monitor", File: "metric_alert.resolved.json", Header: "Azure Monitor · resolved",
			Facts:      []string{"WCUS-R2-Gen2", "7.727"},
			Derived:    []string{"Fired: 2019-03-22 13:58 UTC", "Resolved: 2019-03-22 14:03 UTC", "Duration: 4 min 52 s"},
			DerivedRU:  []string{"Сработал: 22.03.2019 13:58 UTC", "Решён: 22.03.2019 14:03 UTC", "Длительность: 4 мин 52 с"},
			Importance: agent.ImportanceNormal, Thread: azureAlert,
		},

		// Splunk: a saved search's alert triggered.
		{
			Sender: "splunk", File: "search_alert.json", Header: "Splunk · alert",
			Facts:      []string{"sudo", "myserver", "/var/log/auth.log", "session closed for user root"},
			Derived:    []string{"sudo on myserver", "Time: 2017-01-04 19:14 UTC", "Look at the results of the alert sudo"},
			DerivedRU:  []string{"sudo: myserver", "Время: 04.01.2017 19:14 UTC", "Посмотрите результаты алерта sudo"},
			Importance: agent.ImportanceHigh,
			Link:       "http://example.com:8000/app/search/search?q=%7Cloadjob%20rt_scheduler__admin__search__sudo_at_1483557185_2.2%20%7C%20head%201%20%7C%20tail%201&earliest=0&latest=now",
			Thread:     "search/sudo", Action: true,
		},

		// Freshping: a check reporting an error, then available again.
		{
			Sender: "freshping", File: "check.unreachable.json", Header: "Freshping · reporting error",
			Facts:      []string{"Test Check", "https://example.com", "521", "Example Org"},
			Derived:    []string{"Response time: 635 ms", "Look at https://example.com: Reporting Error, HTTP 521"},
			DerivedRU:  []string{"Время ответа: 635 мс", "Проверьте https://example.com"},
			Importance: agent.ImportanceHigh, Thread: "585767", Action: true,
		},
		{
			Sender: "freshping", File: "check.reachable.json", Header: "Freshping · available",
			Facts:      []string{"Test Check: Available", "200"},
			Derived:    []string{"Response time: 140 ms"},
			DerivedRU:  []string{"Время ответа: 140 мс"},
			Importance: agent.ImportanceNormal, Thread: "585767",
		},

		// Airbrake: every delivery is an error.
		{
			Sender: "airbrake", File: "error.json", Header: "Airbrake · error",
			Facts:      []string{"ZeroDivisionError: Error message from logger", "file.py:2", "ZulipIntegrationTest", "dev"},
			Derived:    []string{"First seen: 2016-06-10 17:07 UTC", "Look at ZeroDivisionError in ZulipIntegrationTest (dev)"},
			DerivedRU:  []string{"Впервые: 10.06.2016 17:07 UTC", "Разберитесь с ZeroDivisionError"},
			Importance: agent.ImportanceHigh, Thread: "125209/1705190192091077626", Action: true,
		},
	})
}
