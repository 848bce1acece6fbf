package agent_test

import (
	"testing"

	"github.com/herald-relay/herald/agent"
)

// TestCatalogueGolden_Dev is the forges, CI/CD, container registries and
// code-quality tools of the catalogue, each on its real payloads
// (testdata/senders/<id>/index.json says where each comes from).
func TestCatalogueGolden_Dev(t *testing.T) {
	checkCatalogueGolden(t, devCases)
}

var devCases = []catalogueCase{
	// Forgejo sends Gitea's, Gogs' and GitHub's event headers too: it must
	// come out as Forgejo, not Gitea or GitHub.
	{
		Sender: "forgejo", File: "push.json", Header: "Forgejo · push",
		Facts:      []string{"forgejo/webhooks", "develop", "bffeb74", "Webhooks Yay!"},
		Derived:    []string{"forgejo pushed 1 commit to develop", "Repository: forgejo/webhooks", "Branch: develop"},
		DerivedRU:  []string{"forgejo: 1 коммит в develop", "Репозиторий: forgejo/webhooks", "Ветка: develop"},
		Importance: agent.ImportanceNormal,
		Link:       "http://localhost:3000/forgejo/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
		Thread:     "forgejo/webhooks@develop",
	},
	{
		Sender: "gogs", File: "push.json", Header: "Gogs · push",
		Facts:      []string{"alice/moonlanding", "main", "bffeb74", "Update README"},
		Derived:    []string{"alice pushed 1 commit to main", "Branch: main"},
		DerivedRU:  []string{"alice: 1 коммит в main", "Ветка: main"},
		Importance: agent.ImportanceNormal,
		Link:       "https://gogs.example.com/alice/moonlanding/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
		Thread:     "alice/moonlanding@main",
	},
	{
		Sender: "bitbucket-cloud", File: "repo_push.json", Header: "Bitbucket · repo:push",
		Facts:      []string{"cloudbeers/temp", "main", "e42fac2", "Jenkinsfile created online with Bitbucket"},
		Derived:    []string{"Stephen Connolly pushed 1 commit to main", "Branch: main"},
		DerivedRU:  []string{"Stephen Connolly: 1 коммит в main", "Ветка: main"},
		Importance: agent.ImportanceNormal,
		Link:       "https://bitbucket.org/cloudbeers/temp/branches/compare/e42fac24456e4a56f1b7f9358afc3070e3b7ddec..501bf5b99365d1d870882254b9360c17172bda0e",
		Thread:     "cloudbeers/temp@main",
	},
	{
		Sender: "bitbucket-cloud", File: "pullrequest_created.json", Header: "Bitbucket · pullrequest:created",
		Facts:      []string{"#735 BUILD test", "amuniz/test-repos", "feature/test → master", "Nikolas Falco"},
		Derived:    []string{"Nikolas Falco opened a pull request", "State: open"},
		DerivedRU:  []string{"Nikolas Falco открыл(а) запрос на слияние", "Состояние: открыто"},
		Importance: agent.ImportanceNormal,
		Link:       "https://bitbucket.org/amuniz/test-repos/pull-requests/735",
		Thread:     "amuniz/test-repos#735",
	},
	{
		Sender: "bitbucket-server", File: "repo_refs_changed.json", Header: "Bitbucket Data Center · repo:refs_changed",
		Facts:      []string{"AMUNIZ/test-repos", "main", "9fdd7b9", "source-2: Wed 13 Nov 2024 21:54:36 AEST"},
		Derived:    []string{"Antonio Muniz pushed 1 commit to main", "Branch: main"},
		DerivedRU:  []string{"Antonio Muniz: 1 коммит в main", "Ветка: main"},
		Importance: agent.ImportanceNormal,
		Link:       "http://localhost:7990/projects/AMUNIZ/repos/test-repos/browse",
		Thread:     "AMUNIZ/test-repos@main",
	},
	{
		Sender: "bitbucket-server", File: "pr_opened.json", Header: "Bitbucket Data Center · pr:opened",
		Facts:      []string{"#1 Feature/diffstat", "AMUNIZ/test-repos", "feature/diffstat → master", "Administrator"},
		Derived:    []string{"Administrator opened a pull request", "State: open"},
		DerivedRU:  []string{"Administrator открыл(а) запрос на слияние", "Состояние: открыто"},
		Importance: agent.ImportanceNormal,
		Link:       "http://localhost:7990/bitbucket/projects/AMUNIZ/repos/test-repos/pull-requests/1",
		Thread:     "AMUNIZ/test-repos#1",
	},
	{
		Sender: "azure-devops", File: "build.complete.doc.json", Header: "Azure DevOps · build.complete",
		Facts:      []string{"Build ConsumerAddressModule_20150407.2 succeeded", "ConsumerAddressModule", "Normal Paulk"},
		Derived:    []string{"Status: succeeded", "Started: 2015-04-07 18:04 UTC"},
		DerivedRU:  []string{"Статус: успешно", "Начало: 07.04.2015 18:04 UTC"},
		Importance: agent.ImportanceNormal,
		Thread:     "ConsumerAddressModule#ConsumerAddressModule_20150407.1",
	},
	{
		Sender: "azure-devops", File: "git.push.json", Header: "Azure DevOps · git.push",
		Facts:      []string{"Project", "main", "c8e823a", "A meaningful commit message."},
		Derived:    []string{"John Smith pushed 1 commit to main", "Branch: main"},
		DerivedRU:  []string{"John Smith: 1 коммит в main", "Ветка: main"},
		Importance: agent.ImportanceNormal,
		Link:       "https://good-company.some.ssl.host/tfs/GoodCompany/_git/Project",
		Thread:     "7aa31685-abcf-40be-8c18-aaa45067d7bb@main",
	},
	{
		Sender: "azure-devops", File: "git.pullrequest.created.json", Header: "Azure DevOps · git.pullrequest.created",
		Facts:      []string{"#1 my first pull request", "Jamal Hartnett created a new pull request", "mytopic → main", "Fabrikam"},
		Derived:    []string{"Author: Jamal Hartnett", "Status: active"},
		DerivedRU:  []string{"Автор: Jamal Hartnett"},
		Importance: agent.ImportanceNormal,
		Link:       "https://fabrikam.visualstudio.com/DefaultCollection/_git/Fabrikam",
		Thread:     "4bc14d40-c903-45e2-872e-0462c7748079#1",
	},
	{
		Sender: "jenkins", File: "completed.success.json", Header: "Jenkins · completed",
		Facts:      []string{"asgard #18", "origin/master", "c6d86dc"},
		Derived:    []string{"asgard #18: succeeded", "Build completed", "Branch: origin/master"},
		DerivedRU:  []string{"asgard #18: успешно", "Ветка: origin/master"},
		Importance: agent.ImportanceNormal,
		Link:       "http://localhost:8080/job/asgard/18/",
		Thread:     "asgard#18",
	},
	{
		Sender: "circleci", File: "workflow-completed.success.json", Header: "CircleCI · workflow-completed",
		Facts:      []string{"build-test-deploy", "webhook-service #130", "main", "1dc6aa6", "Description of change", "Author Name"},
		Derived:    []string{"build-test-deploy: succeeded", "Finished: 2021-09-01 22:49 UTC"},
		DerivedRU:  []string{"build-test-deploy: успешно", "Окончание: 01.09.2021 22:49 UTC"},
		Importance: agent.ImportanceNormal,
		Link:       "https://app.circleci.com/pipelines/github/circleci/webhook-service/130/workflows/fda08377-fe7e-46b1-8992-3a7aaecac9c3",
		Thread:     "github/circleci/webhook-service#130",
	},
	{
		Sender: "circleci", File: "job-completed.success.json", Header: "CircleCI · job-completed",
		Facts:      []string{"webhook-service #130", "welcome", "main", "1dc6aa6"},
		Derived:    []string{"test: succeeded", "Workflow: welcome"},
		DerivedRU:  []string{"test: успешно"},
		Importance: agent.ImportanceNormal,
		Link:       "https://app.circleci.com/pipelines/github/circleci/webhook-service/130/workflows/fda08377-fe7e-46b1-8992-3a7aaecac9c3",
		Thread:     "github/circleci/webhook-service#130",
	},
	// A GitLab-triggered pipeline: the branch and commit come from
	// trigger_parameters, not from vcs.
	{
		Sender: "circleci", File: "workflow-completed.failed.json", Header: "CircleCI · workflow-completed",
		Facts:      []string{"hello-world #1", "main", "850a151", "Update README.md", "Commit Author"},
		Derived:    []string{"build: failed", "Look at the failed workflow build of hello-world"},
		DerivedRU:  []string{"build: ошибка", "Посмотрите упавший процесс build в hello-world"},
		Importance: agent.ImportanceHigh,
		Link:       "https://app.circleci.com/pipelines/circleci/DdaVtNusHqi24D4YT3X4eu/6EkDPZoN4ZdMKKZtBkRodt/1/workflows/c2006ece-778d-49fc-9e6e-b9965f72bee9",
		Thread:     "circleci/DdaVtNusHqi24D4YT3X4eu/6EkDPZoN4ZdMKKZtBkRodt#1",
		Action:     true,
	},
	{
		Sender: "semaphore", File: "pipeline_done.stopped.json", Header: "Semaphore · pipeline.done",
		Facts:      []string{"Notificaitons", "renderedtext/notifications", "rw/webhook_impl", "2d9f5fc", "radwo"},
		Derived:    []string{"Notificaitons: stopped", "notifications on rw/webhook_impl", "Finished: 2019-12-10 13:10 UTC"},
		DerivedRU:  []string{"Notificaitons: остановлено", "notifications, ветка rw/webhook_impl", "Окончание: 10.12.2019 13:10 UTC"},
		Importance: agent.ImportanceNormal,
		Thread:     "notifications#acabe58e-4bcc-4d39-be06-e98d71917703",
	},
	{
		Sender: "appveyor", File: "build_success.json", Header: "AppVeyor · build_success",
		Facts:      []string{"Some changes to appveyor.yml", "JohnSmith/test-web", "master", "ad2366f", "John Smith", "#1"},
		Derived:    []string{"test-web 1.0.26: succeeded", "Duration: 1 min 30 s"},
		DerivedRU:  []string{"test-web 1.0.26: успешно", "Длительность: 1 мин 30 с"},
		Importance: agent.ImportanceNormal,
		Link:       "https://ci.appveyor.com/project/JohnSmith/test-web/build/1.0.26",
		Thread:     "JohnSmith/test-web#14636",
	},
	{
		Sender: "appveyor", File: "build_failure.json", Header: "AppVeyor · build_failure",
		Facts:      []string{"Increment version number.", "joebloggs/Hubot-DSC-Resource", "master", "c06e208", "Joe Bloggs"},
		Derived:    []string{"Hubot-DSC-Resource 2.0.59: failed", "Duration: 2 min 54 s", "Look at the failed build Hubot-DSC-Resource 2.0.59"},
		DerivedRU:  []string{"Hubot-DSC-Resource 2.0.59: ошибка", "Посмотрите упавшую сборку Hubot-DSC-Resource 2.0.59"},
		Importance: agent.ImportanceHigh,
		Link:       "https://ci.appveyor.com/project/joebloggs/hubot-dsc-resource/build/2.0.59",
		Thread:     "joebloggs/Hubot-DSC-Resource#18638796",
		Action:     true,
	},
	{
		Sender: "netlify", File: "deploy_created.json", Header: "Netlify · deploy_created",
		Facts:      []string{"objective-jepsen-35fbb2", "No new files created for this deploy", "master", "https://objective-jepsen-35fbb2.netlify.com"},
		Derived:    []string{"objective-jepsen-35fbb2: ready", "Environment: production", "Duration: 3 s"},
		DerivedRU:  []string{"objective-jepsen-35fbb2: готово", "Окружение: production", "Длительность: 3 с"},
		Importance: agent.ImportanceNormal,
		Link:       "https://5b78192ac9659217dbf7c9aa--objective-jepsen-35fbb2.netlify.com",
		Thread:     "573f11b2-f5f3-481f-a1f8-85feb457ff49#5b78192ac9659217dbf7c9aa",
	},
	// A failed deploy has no page of its own: the button opens the site's
	// admin page, where the log is.
	{
		Sender: "netlify", File: "deploy_failed.json", Header: "Netlify · deploy_failed",
		Facts:      []string{"failed during stage 'building site': Build script returned non-zero exit code: 127", "master"},
		Derived:    []string{"objective-jepsen-35fbb2: error", "Look at the failed deploy of objective-jepsen-35fbb2"},
		DerivedRU:  []string{"objective-jepsen-35fbb2: ошибка", "Посмотрите неудачное развёртывание objective-jepsen-35fbb2"},
		Importance: agent.ImportanceHigh,
		Link:       "https://app.netlify.com/sites/objective-jepsen-35fbb2",
		Thread:     "6f2ad239-fce7-4b54-81fe-873d4fcf5c78#5b64d77c02ed83730664c2f6",
		Action:     true,
	},
	{
		Sender: "harbor", File: "push_artifact.json", Header: "Harbor · push_artifact",
		Facts:      []string{"harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4"},
		Derived:    []string{"harbor-jobservice pushed harbor/alpine"},
		DerivedRU:  []string{"harbor-jobservice загрузил(а) harbor/alpine"},
		Importance: agent.ImportanceNormal,
		Thread:     "harbor/alpine",
	},
	{
		Sender: "harbor", File: "scanning_completed.json", Header: "Harbor · scanning_completed",
		Facts:      []string{"harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4"},
		Derived:    []string{"Vulnerability scan of harbor/alpine completed"},
		DerivedRU:  []string{"Проверка уязвимостей harbor/alpine завершена"},
		Importance: agent.ImportanceNormal,
		Thread:     "harbor/alpine",
	},
	{
		Sender: "harbor", File: "scanning_failed.json", Header: "Harbor · scanning_failed",
		Facts:      []string{"harbor/alpine", "sha256:dabea2944dcc2b86482b4f0b0fb62da80e0673e900c46c0e03b45919881a5d84"},
		Derived:    []string{"Vulnerability scan of harbor/alpine failed", "Find out why the scan of harbor/alpine failed"},
		DerivedRU:  []string{"Проверка уязвимостей harbor/alpine не удалась"},
		Importance: agent.ImportanceHigh,
		Thread:     "harbor/alpine",
		Action:     true,
	},
	{
		Sender: "quay", File: "repo_push.json", Header: "Quay · repo_push",
		Facts:      []string{"dgangaia/test", "quay.io/dgangaia/test", "latest"},
		Derived:    []string{"Pushed quay.io/dgangaia/test", "Tags: latest"},
		DerivedRU:  []string{"Загружен quay.io/dgangaia/test", "Теги: latest"},
		Importance: agent.ImportanceNormal,
		Link:       "https://quay.io/repository/dgangaia/repository",
		Thread:     "dgangaia/test",
	},
	{
		Sender: "quay", File: "vulnerability_found.json", Header: "Quay · vulnerability_found",
		Facts:      []string{"CVE-1234-5678", "This is a bad vulnerability", "Critical", "latest, othertag"},
		Derived:    []string{"CVE-1234-5678 in dgangaia/repository", "Fix available: yes", "Look at CVE-1234-5678 in dgangaia/repository"},
		DerivedRU:  []string{"CVE-1234-5678 в dgangaia/repository", "Есть исправление: да"},
		Importance: agent.ImportanceHigh,
		Link:       "https://quay.io/repository/dgangaia/repository",
		Thread:     "dgangaia/repository",
		Action:     true,
	},
	// An envelope of three events (the manifest and two layers): the
	// message is about the first and counts them all.
	{
		Sender: "docker-registry", File: "push.json", Header: "Docker Registry · push",
		Facts:      []string{"library/test", "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf", "registrycluster.local"},
		Derived:    []string{"test-actor pushed library/test", "Events: 3"},
		DerivedRU:  []string{"test-actor загрузил(а) library/test", "События: 3"},
		Importance: agent.ImportanceNormal,
		Thread:     "library/test",
	},
	{
		Sender: "sonarqube", File: "quality_gate_ok.json", Header: "SonarQube · analysis",
		Facts:      []string{"SonarQube way"},
		Derived:    []string{"Example: quality gate passed", "new security rating: OK", "Analysed: 2016-11-18 10:46 +01:00"},
		DerivedRU:  []string{"Example: порог качества пройден"},
		Importance: agent.ImportanceNormal,
		Link:       "http://localhost:9000",
		Thread:     "org.sonarqube:example",
	},
	{
		Sender: "sonarqube", File: "quality_gate_error.json", Header: "SonarQube · analysis",
		Facts:      []string{"Sonar way", "master"},
		Derived:    []string{"test-sonar: quality gate failed", "coverage: ERROR", "duplicated lines density: ERROR", "Fix what fails the quality gate Sonar way on test-sonar"},
		DerivedRU:  []string{"test-sonar: порог качества не пройден"},
		Importance: agent.ImportanceHigh,
		Link:       "http://localhost:9000/dashboard?id=test-sonar",
		Thread:     "test-sonar@master",
		Action:     true,
	},
}
