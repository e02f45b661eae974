package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// hookReceiver counts alert webhooks by alert id.
type hookReceiver struct {
	url   string
	srv   *http.Server
	mu    sync.Mutex
	fired map[string]int
	types map[string]string
}

func newHookReceiver() (*hookReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String() + "/hook", fired: map[string]int{}, types: map[string]string{}}
	h.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p struct {
			Alert struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"alert"`
		}
		if json.Unmarshal(b, &p) == nil && p.Alert.ID != "" {
			h.mu.Lock()
			h.fired[p.Alert.ID]++
			h.types[p.Alert.ID] = p.Alert.Type
			h.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hookReceiver) count(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fired[id]
}

func (h *hookReceiver) close() { _ = h.srv.Close() }
