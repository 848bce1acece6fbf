package bot

// ClosedHTML is closedHTML, for tests of the edited notification.
var ClosedHTML = closedHTML
