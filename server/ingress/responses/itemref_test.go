package responses

import (
	"strings"
	"testing"
)

// Item ids name the response that holds them; anything else names none.
func TestOwnedIDNamesItsResponse(t *testing.T) {
	resp := newID("resp_")
	for _, prefix := range []string{"msg_", "fc_", "ctc_", "rs_", "fco_", "item_"} {
		id := ownedID(prefix, resp)
		if !strings.HasPrefix(id, prefix) || id == ownedID(prefix, resp) {
			t.Fatalf("%s: %q", prefix, id)
		}
		if got, ok := responseOf(id); !ok || got != resp {
			t.Fatalf("responseOf(%q) = %q, %v; want %q", id, got, ok, resp)
		}
	}
	for _, id := range []string{"", "msg_nope", newID("msg_"), "msg" + strings.Repeat("a", 56), "msg_" + strings.Repeat("z", 56)} {
		if got, ok := responseOf(id); ok {
			t.Errorf("responseOf(%q) = %q, want none", id, got)
		}
	}
}
