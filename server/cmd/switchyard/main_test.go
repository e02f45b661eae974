package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the gateway binary gatewayBinary built: it is shared by
// every test of the run, so no single test can clean it up.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
