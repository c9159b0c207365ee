package simserver

import (
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

func TestPageCacheIsBoundedByBytesAndAge(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	list := make([]org.Account, 100)
	for i := range list {
		list[i] = org.Account{ID: "123456789012", Name: "an account with a name", Email: "someone@example.com", Status: "ACTIVE"}
	}
	size := sizeOf(list)
	if size < 100*int64(len("an account with a name")+len("someone@example.com")) {
		t.Fatalf("sizeOf(100 accounts) = %d, less than their strings", size)
	}
	c := newCursors(func() time.Time { return now }, 10*size, time.Minute)

	t.Run("the oldest lists go first when the bytes would be exceeded", func(t *testing.T) {
		var ids []uint64
		for range 25 {
			ids = append(ids, c.put(list, size))
		}
		n, bytes := c.stats()
		if n != 10 || bytes != 10*size {
			t.Errorf("after 25 lists of %d bytes under a bound of %d: %d lists, %d bytes; want 10, %d", size, 10*size, n, bytes, 10*size)
		}
		if c.get(ids[0]) != nil || c.get(ids[24]) == nil {
			t.Error("the first list is still kept or the last one is not")
		}
	})
	t.Run("a list larger than the bound is not kept", func(t *testing.T) {
		if id := c.put(list, 11*size); id != 0 {
			t.Errorf("put of a list over the bound = cursor %d, want 0", id)
		}
	})
	t.Run("lists expire", func(t *testing.T) {
		id := c.put(list, size)
		now = now.Add(time.Minute + time.Second)
		if c.get(id) != nil {
			t.Error("a list older than the TTL is still served")
		}
		c.put(list[:1], sizeOf(list[:1]))
		if n, _ := c.stats(); n != 1 {
			t.Errorf("after the TTL and one new list, %d lists are kept, want 1", n)
		}
	})
}
