package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the gateway binary built for the tests (gatewayBinary),
// so test runs leave nothing in the temp directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
