package tgemu

// Unexported names the external tests (server_test.go, package tgemu_test)
// use: they live outside the package because telegramtest, whose Start they
// use, imports it.
const ErrNotModified = errNotModified

var UTF16Count = utf16Count
