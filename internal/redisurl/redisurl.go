// Package redisurl reads the Redis addresses storage.redis_url and
// cache.redis_url take into go-redis UniversalOptions, so one setting
// names a single node, a Sentinel-managed master or a Cluster:
//
//	host:port                                      one node
//	redis://[user[:pass]@]host:port[/db][?opt=v]   one node (rediss:// for TLS)
//	redis+sentinel://[user:pass@]s1:p1,s2:p2/master[/db][?opt=v]
//	redis://s1:p1?master_name=master&addr=s2:p2    Sentinel (the same, go-redis's spelling)
//	redis+cluster://[user:pass@]n1:p1,n2:p2[?opt=v]
//	redis://n1:p1?addr=n2:p2&addr=n3:p3            Cluster (several addresses, no master_name)
//	n1:p1,n2:p2                                    Cluster
//
// Every form also takes rediss (TLS). With Sentinel the userinfo
// authenticates to the sentinels, and ?username=&password= to the master
// (go-redis's convention). Options are go-redis's snake-case query
// parameters (dial_timeout=1s, pool_size=20, ...); an unknown one is an
// error. A Cluster has no database number.
package redisurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Mode is the deployment a URL names.
type Mode int

const (
	Single Mode = iota
	Sentinel
	Cluster
)

func (m Mode) String() string {
	switch m {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	default:
		return "single"
	}
}

// Forms is the one-line summary error messages and docs quote.
const Forms = "host:port, redis[s]://[user:pass@]host:port[/db], redis[s]+sentinel://host:port[,host:port]/master[/db], " +
	"redis[s]+cluster://host:port[,host:port] or host:port,host:port"

// Parse reads s. Its errors never repeat s: a URL may carry a password.
func Parse(s string) (*redis.UniversalOptions, Mode, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, Single, errors.New("redis address is empty")
	}
	if !strings.Contains(s, "://") {
		return parseBare(s)
	}
	scheme, rest, _ := strings.Cut(s, "://")
	base, variant, _ := strings.Cut(strings.ToLower(scheme), "+")
	if base != "redis" && base != "rediss" {
		return nil, Single, fmt.Errorf("redis URL scheme %q: want one of %s", scheme, Forms)
	}
	if variant != "" && variant != "sentinel" && variant != "cluster" {
		return nil, Single, fmt.Errorf("redis URL scheme %q: want redis, redis+sentinel or redis+cluster", scheme)
	}
	// The authority may list several hosts, which net/url refuses: the
	// first stays the URL's host, the others become addr parameters (the
	// form go-redis reads).
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	list := strings.Split(hosts, ",")
	for _, h := range list {
		if err := checkHost(h); err != nil {
			return nil, Single, err
		}
	}
	u, err := url.Parse(base + "://" + userinfo + list[0] + tail)
	if err != nil {
		return nil, Single, errors.New("redis URL does not parse (check its escaping)")
	}
	q := u.Query()
	for _, h := range list[1:] {
		q.Add("addr", h)
	}
	switch {
	case variant == "sentinel":
		segs := pathSegments(u.Path)
		if q.Get("master_name") == "" {
			if len(segs) == 0 {
				return nil, Single, errors.New("redis+sentinel URL names no master: want redis+sentinel://host:port/master[/db]")
			}
			q.Set("master_name", segs[0])
			segs = segs[1:]
		}
		if len(segs) > 1 {
			return nil, Single, errors.New("redis+sentinel URL path: want /master[/db]")
		}
		u.Path = ""
		if len(segs) == 1 {
			u.Path = "/" + segs[0]
		}
		u.RawQuery = q.Encode()
		return failover(u)
	case q.Get("master_name") != "":
		u.RawQuery = q.Encode()
		return failover(u)
	case variant == "cluster" || q.Has("addr"):
		if len(pathSegments(u.Path)) > 0 {
			return nil, Single, errors.New("a redis cluster has no database number: drop the URL's /db")
		}
		u.RawQuery = q.Encode()
		return cluster(u)
	default:
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, Single, scrub(err)
		}
		return fromSimple(o), Single, nil
	}
}

func parseBare(s string) (*redis.UniversalOptions, Mode, error) {
	list := strings.Split(s, ",")
	for _, h := range list {
		if _, _, err := net.SplitHostPort(h); err != nil || h == "" {
			return nil, Single, fmt.Errorf("redis address %q: want %s", h, Forms)
		}
	}
	if len(list) > 1 {
		return &redis.UniversalOptions{Addrs: list, IsClusterMode: true}, Cluster, nil
	}
	return &redis.UniversalOptions{Addrs: list}, Single, nil
}

// checkHost refuses an empty or malformed host before go-redis defaults
// it to localhost:6379, which would hide a typo.
func checkHost(h string) error {
	if h == "" {
		return errors.New("redis URL has an empty host")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return nil // go-redis defaults the port to 6379
		}
		return fmt.Errorf("redis URL host %q: %v", h, errors.Unwrap(err))
	}
	if host == "" {
		return fmt.Errorf("redis URL host %q has no name", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("redis URL host %q: bad port", h)
	}
	return nil
}

func pathSegments(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

// scrub drops what go-redis's errors may quote of the URL.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("redis URL does not parse")
	}
	return err
}

func failover(u *url.URL) (*redis.UniversalOptions, Mode, error) {
	f, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, Single, scrub(err)
	}
	o := &redis.UniversalOptions{
		Addrs: f.SentinelAddrs, MasterName: f.MasterName, DB: f.DB,
		SentinelUsername: f.SentinelUsername, SentinelPassword: f.SentinelPassword,
		Username: f.Username, Password: f.Password, TLSConfig: f.TLSConfig,
		ClientName: f.ClientName, Protocol: f.Protocol,
		RouteByLatency: f.RouteByLatency, RouteRandomly: f.RouteRandomly,
		MaxRetries: f.MaxRetries, MinRetryBackoff: f.MinRetryBackoff, MaxRetryBackoff: f.MaxRetryBackoff,
		DialTimeout: f.DialTimeout, ReadTimeout: f.ReadTimeout, WriteTimeout: f.WriteTimeout,
		PoolSize: f.PoolSize, PoolTimeout: f.PoolTimeout, MinIdleConns: f.MinIdleConns, MaxIdleConns: f.MaxIdleConns,
		MaxActiveConns: f.MaxActiveConns, ConnMaxIdleTime: f.ConnMaxIdleTime, ConnMaxLifetime: f.ConnMaxLifetime,
	}
	return o, Sentinel, nil
}

func cluster(u *url.URL) (*redis.UniversalOptions, Mode, error) {
	c, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, Single, scrub(err)
	}
	o := &redis.UniversalOptions{
		Addrs: c.Addrs, IsClusterMode: true,
		Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
		ClientName: c.ClientName, Protocol: c.Protocol, MaxRedirects: c.MaxRedirects, ReadOnly: c.ReadOnly,
		RouteByLatency: c.RouteByLatency, RouteRandomly: c.RouteRandomly,
		MaxRetries: c.MaxRetries, MinRetryBackoff: c.MinRetryBackoff, MaxRetryBackoff: c.MaxRetryBackoff,
		DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		PoolSize: c.PoolSize, PoolTimeout: c.PoolTimeout, MinIdleConns: c.MinIdleConns, MaxIdleConns: c.MaxIdleConns,
		MaxActiveConns: c.MaxActiveConns, ConnMaxIdleTime: c.ConnMaxIdleTime, ConnMaxLifetime: c.ConnMaxLifetime,
	}
	return o, Cluster, nil
}

func fromSimple(s *redis.Options) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs: []string{s.Addr}, DB: s.DB, Username: s.Username, Password: s.Password, TLSConfig: s.TLSConfig,
		ClientName: s.ClientName, Protocol: s.Protocol,
		MaxRetries: s.MaxRetries, MinRetryBackoff: s.MinRetryBackoff, MaxRetryBackoff: s.MaxRetryBackoff,
		DialTimeout: s.DialTimeout, ReadTimeout: s.ReadTimeout, WriteTimeout: s.WriteTimeout,
		PoolSize: s.PoolSize, PoolTimeout: s.PoolTimeout, MinIdleConns: s.MinIdleConns, MaxIdleConns: s.MaxIdleConns,
		MaxActiveConns: s.MaxActiveConns, ConnMaxIdleTime: s.ConnMaxIdleTime, ConnMaxLifetime: s.ConnMaxLifetime,
	}
}

// New parses s and connects lazily (no dial until the first command).
// tune, when not nil, adjusts the options first (timeouts, retries).
func New(s string, tune func(*redis.UniversalOptions)) (redis.UniversalClient, Mode, error) {
	o, m, err := Parse(s)
	if err != nil {
		return nil, m, err
	}
	if tune != nil {
		tune(o)
	}
	return redis.NewUniversalClient(o), m, nil
}
