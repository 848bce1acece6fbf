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
}
