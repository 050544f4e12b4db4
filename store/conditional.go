package store

import (
	"time"

	"github.com/lastmodstore/lastmodstore/internal/hashkey"
	"github.com/lastmodstore/lastmodstore/messages"
)

// CompareAndSet writes value under key only if the key's live item has the
// given revision, where revision 0 means the key must be absent (create
// only). It returns the new item.
//
// When the item has changed — another revision, a key that is absent or
// expired for a revision > 0, a key present for revision 0, or a revision
// from the future that no item has yet — it writes nothing and returns a
// *ConflictError carrying the current revision, which matches ErrConflict.
// It also returns ErrStoreFull when a create does not fit, ErrInvalidKey
// and ErrNotRunning like Set. The item gets the Config's TTL.
func (s *Store[K, V]) CompareAndSet(key K, value V, revision uint64) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	return s.conditional(&messages.Request[K, V]{
		Op: messages.OpCompareAndSet, Key: key, Value: value, TTL: s.cfg.TTL, Revision: revision,
	})
}

// SetIfUnmodifiedSince writes value under key only if the key has a live
// item that was not modified after t — HTTP's If-Unmodified-Since, for
// callers that kept an item's LastModified rather than its Revision. Pass
// the LastModified you read: an item still at it is written over. It
// returns the new item.
//
// When the key is absent or expired, or its item was modified after t, it
// writes nothing and returns a *ConflictError carrying the current revision
// and LastModified, which matches ErrConflict. It returns ErrInvalidKey and
// ErrNotRunning like Set. The item gets the Config's TTL.
func (s *Store[K, V]) SetIfUnmodifiedSince(key K, value V, t time.Time) (*Item[V], error) {
	if s == nil {
		return nil, ErrNotRunning
	}
	return s.conditional(&messages.Request[K, V]{
		Op: messages.OpSetIfUnmodifiedSince, Key: key, Value: value, TTL: s.cfg.TTL,
		Args: &messages.Args[K, V]{Since: t},
	})
}

// CompareAndDelete deletes key's item only if it is live and has the given
// revision — an HTTP DELETE with If-Match. When the item has another
// revision, or the key is absent or expired (there is nothing to delete at
// any revision), it deletes nothing and returns a *ConflictError carrying
// the current revision and LastModified (zero when absent), which matches
// ErrConflict. It returns ErrInvalidKey and ErrNotRunning like Delete.
func (s *Store[K, V]) CompareAndDelete(key K, revision uint64) error {
	if s == nil {
		return ErrNotRunning
	}
	_, err := s.conditional(&messages.Request[K, V]{Op: messages.OpCompareAndDelete, Key: key, Revision: revision})
	return err
}

// DeleteIfUnmodifiedSince deletes key's item only if it is live and was
// not modified after t — an HTTP DELETE with If-Unmodified-Since. When the
// key is absent or expired, or its item was modified after t, it deletes
// nothing and returns a *ConflictError carrying the current revision and
// LastModified, which matches ErrConflict. It returns ErrInvalidKey and
// ErrNotRunning like Delete.
func (s *Store[K, V]) DeleteIfUnmodifiedSince(key K, t time.Time) error {
	if s == nil {
		return ErrNotRunning
	}
	_, err := s.conditional(&messages.Request[K, V]{
		Op: messages.OpDeleteIfUnmodifiedSince, Key: key, Args: &messages.Args[K, V]{Since: t},
	})
	return err
}

func (s *Store[K, V]) conditional(req *messages.Request[K, V]) (*Item[V], error) {
	if s.checkKey && !hashkey.Valid(req.Key) {
		return nil, ErrInvalidKey
	}
	rep, err := s.call(req)
	if err != nil {
		return nil, err
	}
	switch rep.Status {
	case messages.StatusFull:
		return nil, ErrStoreFull
	case messages.StatusConflict:
		conflict := &ConflictError{}
		if rep.Item != nil {
			conflict.Revision, conflict.LastModified = rep.Item.Revision, rep.Item.LastModified
		}
		return nil, conflict
	}
	return rep.Item, nil
}
