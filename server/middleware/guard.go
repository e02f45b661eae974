package middleware

import (
	"context"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// Origins are the browser origins allowed ("*" for any); a request
	// with any other Origin is refused.
	Origins []string
	// AllowedHosts are Host names served besides loopback. Empty means
	// any Host while keys exist, loopback only while none do.
	AllowedHosts []string
	// Keyless reports whether no client key exists; nil means never.
	Keyless func() bool
}

// Guard refuses what a web page could make a browser send without a
// preflight (form and text/plain bodies), requests from origins not
// listed, and, in keyless mode, Host names that are not loopback or listed,
// so that DNS rebinding cannot reach a gateway bound to 127.0.0.1.
func Guard(opts GuardOptions, next http.Handler) http.Handler {
	origins := make(map[string]bool, len(opts.Origins))
	for _, o := range opts.Origins {
		origins[strings.TrimSuffix(o, "/")] = true
	}
	hosts := make(map[string]bool, len(opts.AllowedHosts))
	for _, h := range opts.AllowedHosts {
		hosts[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A page the gateway serves itself (the console at /console) is
		// same-origin: its Origin names the Host it was sent to. That is
		// never cross-site, and the Host check below still guards keyless
		// mode against DNS rebinding.
		if o := r.Header.Get("Origin"); o != "" && !origins["*"] && !origins[o] && !sameOrigin(o, r.Host) {
			refuse(w, http.StatusForbidden, "origin_not_allowed", "origin "+o+" is not in server.cors_origins")
			return
		}
		if (len(hosts) > 0 || (opts.Keyless != nil && opts.Keyless())) && !hostAllowed(r.Host, hosts) {
			refuse(w, http.StatusForbidden, "host_not_allowed", "host is not loopback or in server.allowed_hosts")
			return
		}
		if !contentTypeAllowed(r) {
			refuse(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := []byte(`{"error":{"message":`)
	b = jsonw.AppendString(b, msg, false)
	b = append(b, `,"type":"invalid_request_error","param":null,"code":"`+code+`"}}`+"\n"...)
	_, _ = w.Write(b)
}

// sameOrigin reports whether origin is http(s)://host, the request's own.
func sameOrigin(origin, host string) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && host != "" && strings.EqualFold(rest, host)
}

// hostAllowed accepts loopback names and listed hosts, with any port.
func hostAllowed(hostport string, hosts map[string]bool) bool {
	h := strings.ToLower(hostport)
	if hosts[h] {
		return true
	}
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || hosts[h] {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// rpcPath reports whether p is a Connect, gRPC or gRPC-Web procedure
// (/package.Service/Method) rather than a REST route.
func rpcPath(p string) bool {
	return strings.HasPrefix(p, "/switchyard.") || strings.HasPrefix(p, "/grpc.")
}

// contentTypeAllowed refuses the CORS-safelisted body types on every
// write and anything but JSON on REST writes. A DELETE without a body
// needs no type: browsers preflight DELETE anyway.
func contentTypeAllowed(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.Method == http.MethodDelete && r.ContentLength == 0 {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if rpcPath(r.URL.Path) {
		switch mt {
		case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
			return false
		}
		return true
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Timeouts bound the request body read and, for unary calls, the whole
// request.
type Timeouts struct {
	// Body bounds reading the request body (not gRPC or Connect streams,
	// whose body is the client's half of a stream).
	Body time.Duration
	// Request bounds a unary call through its context: Connect unary
	// (application/json or application/proto) and every REST route but
	// chat completions, the only one that may stream (stream:true), which
	// cannot be told without reading the body.
	Request time.Duration
}

// streamingType reports whether ct may carry a stream: gRPC, gRPC-Web and
// Connect streaming all use these prefixes.
func streamingType(ct string) bool {
	return strings.HasPrefix(ct, "application/grpc") || strings.HasPrefix(ct, "application/connect+")
}

// Deadlines applies t to each request.
func Deadlines(t Timeouts, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if streamingType(ct) {
			next.ServeHTTP(w, r)
			return
		}
		if t.Body > 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(t.Body)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		if t.Request > 0 && !(r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions") {
			ctx, cancel := context.WithTimeout(r.Context(), t.Request)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
