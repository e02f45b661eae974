package responses

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/store"
)

type countingStore struct {
	puts     int
	prunedAt []time.Time
}

func (s *countingStore) PutResponse(context.Context, store.StoredResponse) error {
	s.puts++
	return nil
}
func (s *countingStore) GetResponse(context.Context, string, string, time.Time) (store.StoredResponse, error) {
	return store.StoredResponse{}, store.ErrNotFound
}
func (s *countingStore) DeleteResponse(context.Context, string, string) error {
	return store.ErrNotFound
}
func (s *countingStore) PruneResponses(_ context.Context, now time.Time) (int64, error) {
	s.prunedAt = append(s.prunedAt, now)
	return 1, nil
}

// Expired responses are deleted once every pruneEvery stored ones, as of
// the handler's clock; nothing is pruned when nothing is stored.
func TestStoringPrunesTheExpired(t *testing.T) {
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &countingStore{}
	h := New(nil, nil, st, nil, WithClock(func() time.Time { return at }))
	p := parsedFor(t, `{"model":"auto","input":"hi"}`)
	noStore := parsedFor(t, `{"model":"auto","input":"hi","store":false}`)
	for i := 0; i < 2*pruneEvery+10; i++ {
		h.keep(context.Background(), p, newObject(p, newID("resp_"), at.Unix()), p.items)
		h.keep(context.Background(), noStore, newObject(noStore, newID("resp_"), at.Unix()), noStore.items)
	}
	if st.puts != 2*pruneEvery+10 || len(st.prunedAt) != 2 || !st.prunedAt[0].Equal(at) {
		t.Fatalf("%d puts, prunes at %v", st.puts, st.prunedAt)
	}
}
