package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStoredResponses(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			// A fixed clock far from today: expiry must follow the clock handed in.
			t0 := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			a := StoredResponse{ID: "resp_a", Owner: "key1", Response: []byte(`{"id":"resp_a"}`), Input: []byte(`[]`), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			forever := StoredResponse{ID: "resp_b", Owner: "", Response: []byte(`{"id":"resp_b"}`), Input: []byte(`[{"role":"user","content":"hi"}]`), CreatedAt: t0}
			for _, r := range []StoredResponse{a, forever} {
				if err := s.PutResponse(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			tests := []struct {
				name, owner, id string
				at              time.Time
				want            string // response JSON; "" = not found
			}{
				{"owner reads it back", "key1", "resp_a", t0, `{"id":"resp_a"}`},
				{"another key gets not found", "key2", "resp_a", t0, ""},
				{"keyless cannot read a key's response", "", "resp_a", t0, ""},
				{"expired at its expiry", "key1", "resp_a", t0.Add(time.Hour), ""},
				{"no expiry is kept", "", "resp_b", t0.Add(1000 * time.Hour), `{"id":"resp_b"}`},
				{"unknown id", "key1", "resp_zz", t0, ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, err := s.GetResponse(ctx, tc.owner, tc.id, tc.at)
					if tc.want == "" {
						if !errors.Is(err, ErrNotFound) {
							t.Fatalf("err = %v, want ErrNotFound", err)
						}
						return
					}
					if err != nil || string(got.Response) != tc.want || !got.CreatedAt.Equal(t0) {
						t.Fatalf("got %+v, %v", got, err)
					}
				})
			}
			// Replacing keeps one row; a clash with another owner's id is refused.
			a.Response = []byte(`{"id":"resp_a","v":2}`)
			if err := s.PutResponse(ctx, a); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.GetResponse(ctx, "key1", "resp_a", t0); string(got.Response) != `{"id":"resp_a","v":2}` {
				t.Fatalf("after replace: %s", got.Response)
			}
			if err := s.PutResponse(ctx, StoredResponse{ID: "resp_a", Owner: "key2", Response: []byte(`{}`), Input: []byte(`[]`), CreatedAt: t0}); !errors.Is(err, ErrConflict) {
				t.Fatalf("clash: %v, want ErrConflict", err)
			}
			if err := s.DeleteResponse(ctx, "key2", "resp_a"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("delete by another key: %v", err)
			}
			if n, err := s.PruneResponses(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
				t.Fatalf("prune: %d, %v", n, err)
			}
			if err := s.DeleteResponse(ctx, "", "resp_b"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteResponse(ctx, "", "resp_b"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
		})
	}
}
