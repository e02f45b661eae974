package redisurl

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseAcceptsEachForm(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		mode       Mode
		addrs      []string
		db         int
		master     string
		user, pass string
		sentPass   string
		tls        bool
		dial       time.Duration
	}{
		{name: "bare host:port", in: "127.0.0.1:6379", mode: Single, addrs: []string{"127.0.0.1:6379"}},
		{name: "redis URL with db", in: "redis://cache.internal:6380/2", mode: Single, addrs: []string{"cache.internal:6380"}, db: 2},
		{name: "redis URL default port", in: "redis://cache.internal", mode: Single, addrs: []string{"cache.internal:6379"}},
		{name: "rediss with credentials", in: "rediss://app:s3cret@cache.internal:6380/0", mode: Single, addrs: []string{"cache.internal:6380"}, user: "app", pass: "s3cret", tls: true},
		{name: "options as query parameters", in: "redis://h:1/0?dial_timeout=250ms&pool_size=7", mode: Single, addrs: []string{"h:1"}, dial: 250 * time.Millisecond},
		{name: "redis+sentinel with master in the path", in: "redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster/3", mode: Sentinel,
			addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, master: "mymaster", db: 3},
		{name: "rediss+sentinel, master password in the query", in: "rediss+sentinel://:sentpw@s1:26379/mymaster?password=masterpw", mode: Sentinel,
			addrs: []string{"s1:26379"}, master: "mymaster", pass: "masterpw", sentPass: "sentpw", tls: true},
		{name: "go-redis master_name spelling", in: "redis://s1:26379?master_name=mymaster&addr=s2:26379", mode: Sentinel,
			addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster"},
		{name: "redis+cluster with a host list", in: "redis+cluster://app:pw@n1:7000,n2:7001,n3:7002", mode: Cluster,
			addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, user: "app", pass: "pw"},
		{name: "redis+cluster with one seed", in: "redis+cluster://n1:7000", mode: Cluster, addrs: []string{"n1:7000"}},
		{name: "several addr parameters make a cluster", in: "redis://n1:7000?addr=n2:7001&addr=n3:7002", mode: Cluster,
			addrs: []string{"n1:7000", "n2:7001", "n3:7002"}},
		{name: "bare host list makes a cluster", in: "n1:7000,n2:7001", mode: Cluster, addrs: []string{"n1:7000", "n2:7001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, mode, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if mode != tt.mode {
				t.Errorf("mode %v, want %v", mode, tt.mode)
			}
			if !slices.Equal(o.Addrs, tt.addrs) {
				t.Errorf("addrs %v, want %v", o.Addrs, tt.addrs)
			}
			if o.DB != tt.db || o.MasterName != tt.master || o.Username != tt.user || o.Password != tt.pass || o.SentinelPassword != tt.sentPass {
				t.Errorf("db %d master %q user %q pass %q sentinel pass %q; want %d %q %q %q %q",
					o.DB, o.MasterName, o.Username, o.Password, o.SentinelPassword, tt.db, tt.master, tt.user, tt.pass, tt.sentPass)
			}
			if (o.TLSConfig != nil) != tt.tls {
				t.Errorf("TLS %v, want %v", o.TLSConfig != nil, tt.tls)
			}
			if o.DialTimeout != tt.dial {
				t.Errorf("dial timeout %v, want %v", o.DialTimeout, tt.dial)
			}
			if (tt.mode == Cluster) != o.IsClusterMode {
				t.Errorf("IsClusterMode %v for %v", o.IsClusterMode, tt.mode)
			}
		})
	}
}

func TestParseRefusesWithoutEchoingSecrets(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", " ", "empty"},
		{"foreign scheme", "http://u:hunter22@h:1", "scheme"},
		{"unknown variant", "redis+ring://h:1", "redis+sentinel"},
		{"sentinel without master", "redis+sentinel://u:hunter22@s1:26379", "names no master"},
		{"sentinel with a deep path", "redis+sentinel://s1:26379/m/1/2", "/master[/db]"},
		{"cluster with a db", "redis+cluster://u:hunter22@n1:7000/3", "no database number"},
		{"empty host in a list", "redis+cluster://n1:7000,,n2:7001", "empty host"},
		{"bad port", "redis://u:hunter22@h:99999", "bad port"},
		{"bare without a port", "localhost", "want host:port"},
		{"unknown option", "redis://u:hunter22@h:1?no_such_option=1", "no_such_option"},
		{"bad escaping", "redis://u:hunter22%zz@h:1", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) accepted", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestNewPicksTheClientTypeOfTheMode(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"127.0.0.1:1", "*redis.Client"},
		{"redis+sentinel://127.0.0.1:1/m", "*redis.Client"}, // a failover client is a *redis.Client
		{"redis+cluster://127.0.0.1:1", "*redis.ClusterClient"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, _, err := New(tt.in, func(o *redis.UniversalOptions) { o.MaxRetries = -1 })
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := fmt.Sprintf("%T", c); got != tt.want {
				t.Errorf("client %s, want %s", got, tt.want)
			}
		})
	}
}
