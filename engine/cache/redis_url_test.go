package cache

import (
	"strings"
	"testing"
)

// NewRedis takes every form storage.redis_url does (internal/redisurl)
// without dialling, and refuses a bad one without repeating its password.
func TestNewRedisTakesEachURLForm(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" accepts
	}{
		{"127.0.0.1:6379", ""},
		{"redis://127.0.0.1:6379/1", ""},
		{"redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster", ""},
		{"redis+cluster://127.0.0.1:7000,127.0.0.1:7001", ""},
		{"", "empty"},
		{"redis+sentinel://u:hunter22@127.0.0.1:26379", "names no master"},
		{"memcached://u:hunter22@h:1", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			r, err := NewRedis(tt.addr)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = r.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter22") {
				t.Fatalf("NewRedis(%q) = %v, want an error saying %q without the password", tt.addr, err, tt.want)
			}
		})
	}
}
