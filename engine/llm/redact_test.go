package llm

import (
	"strings"
	"testing"
)

func TestUpstreamErrorNeverEchoesKeys(t *testing.T) {
	cases := []struct {
		name   string
		err    *UpstreamError
		secret string
		auth   bool
	}{
		{"openai invalid key", &UpstreamError{Provider: "openai", Status: 401, Code: "invalid_api_key",
			Message: "Incorrect API key provided: sk-proj-****...abcd. You can find your API key at https://platform.openai.com/account/api-keys."}, "abcd", true},
		{"anthropic invalid x-api-key", &UpstreamError{Provider: "anthropic", Status: 401, Type: "authentication_error",
			Message: "invalid x-api-key"}, "x-api-key", true},
		{"gemini API_KEY_INVALID", &UpstreamError{Provider: "gemini", Status: 400, Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID",
			Message: "API key not valid. Please pass a valid API key."}, "API key not valid", true},
		{"masked key in 400", &UpstreamError{Provider: "openai", Status: 400, Message: "bad key sk-****…cccc here"}, "cccc", false},
		{"raw keys in 500", &UpstreamError{Provider: "x", Status: 500, Message: "sk-ant-api03-AAAABBBB and AIzaSyA1234567890abcdefg and Bearer tok.en123 and https://h/v1?key=SECRETVALUE"}, "SECRETVALUE", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.err.Error()
			for _, frag := range []string{tc.secret, "sk-", "AIza", "tok.en123"} {
				if strings.Contains(got, frag) {
					t.Fatalf("%q leaks %q", got, frag)
				}
			}
			if tc.err.AuthFailed() != tc.auth {
				t.Fatalf("AuthFailed = %v, want %v", !tc.auth, tc.auth)
			}
			if tc.auth && (!tc.err.Retryable() || KindOf(tc.err) != KindUnavailable || !strings.Contains(got, "authentication failed")) {
				t.Fatalf("auth failure not a retryable unavailable error: %q", got)
			}
		})
	}
}
