package main

import (
	"context"
	"crypto/sha256"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// configWatch notices when the config file's content changes. It compares
// content hashes rather than modification times because a Kubernetes
// ConfigMap volume swaps a symlinked directory: the file's own mtime and
// inode say nothing, and an unchanged re-sync must not trigger a reload.
type configWatch struct {
	path string
	sum  [32]byte
}

// newConfigWatch records the file's current content as the baseline.
func newConfigWatch(path string) (*configWatch, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &configWatch{path: path, sum: sha256.Sum256(b)}, nil
}

// changed reports whether the content differs from the last call's (or
// the baseline) and takes the new content as the baseline. A read error
// leaves the baseline alone, so a file missing for a moment mid-swap is
// compared again on the next poll.
func (w *configWatch) changed() (bool, error) {
	b, err := os.ReadFile(w.path)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(b)
	if sum == w.sum {
		return false, nil
	}
	w.sum = sum
	return true, nil
}

// watchConfig polls w on every tick and sends on changed when the content
// changed, until ctx ends. The reload itself stays in run's loop, where
// SIGHUP reloads too, so reloads never run concurrently.
func watchConfig(ctx context.Context, w *configWatch, tick <-chan time.Time, changed chan<- struct{}, log hclog.Logger) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		ok, err := w.changed()
		if err != nil {
			if !failing {
				log.Warn("config watch: cannot read the file; keeping the current config", "path", w.path, "error", err)
			}
			failing = true
			continue
		}
		failing = false
		if !ok {
			continue
		}
		select {
		case changed <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
}

// startConfigWatch polls path every interval; the returned channel receives
// once per content change. It stops when ctx ends.
func startConfigWatch(ctx context.Context, path string, interval time.Duration, log hclog.Logger) (<-chan struct{}, error) {
	w, err := newConfigWatch(path)
	if err != nil {
		return nil, err
	}
	changed := make(chan struct{})
	ticker := time.NewTicker(interval)
	go func() {
		defer ticker.Stop()
		watchConfig(ctx, w, ticker.C, changed, log)
	}()
	return changed, nil
}
