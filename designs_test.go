package lastmodstore_test

import (
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// The suite is a conformance suite: every spec and test of the behaviour
// both designs share runs once per design, against kv.Store, so a
// behaviour difference between them is a failing spec. What only the
// actor design has — Watch, ModifiedSince, the owner's mailbox and its
// supervisor — is tested in containers and tests of its own.
//
// Package-level names here are all lower case: seed_test.go dot-imports
// package store, and an exported name declared here could clash with it.

// design is one of lastmodstore's designs of the same API.
type design struct {
	name string
	// actor is the actor design (package store), the only one with Watch,
	// ModifiedSince and a supervisor that restarts its owner.
	actor bool
	// lockFree is the actor design with Config.LockFreeReads: Get reads
	// the index the owner publishes instead of sending it a message.
	lockFree bool
}

var (
	actorDesign    = design{name: "actor design", actor: true}
	lockFreeDesign = design{name: "actor design with lock-free reads", actor: true, lockFree: true}
	mutexDesign    = design{name: "mutex design"}

	designs = []design{actorDesign, lockFreeDesign, mutexDesign}
)

// openerFor returns the New of design d for keys K and values V.
func openerFor[K comparable, V any](d design) kv.Opener[K, V] {
	switch d {
	case actorDesign, lockFreeDesign:
		lockFree := d.lockFree
		return func(cfg store.Config, opts ...store.Option[K, V]) (kv.Store[K, V], error) {
			cfg.LockFreeReads = cfg.LockFreeReads || lockFree
			s, err := store.New(cfg, opts...)
			if s == nil {
				return nil, err // a nil interface, not an interface holding a nil *Store
			}
			return s, err
		}
	case mutexDesign:
		return func(cfg store.Config, opts ...store.Option[K, V]) (kv.Store[K, V], error) {
			s, err := mutexstore.New(cfg, opts...)
			if s == nil {
				return nil, err
			}
			return s, err
		}
	}
	panic("unknown design " + d.name)
}

// implementationOf describes design d to package storetest, whose
// conformance specs every design passes whole, but for the mutex design's
// Update, whose function runs on the caller's goroutine under the lock.
func implementationOf(d design) storetest.Implementation {
	open := openerFor[string, int](d)
	var lacks map[storetest.Feature]string
	if !d.actor {
		lacks = map[storetest.Feature]string{
			storetest.UpdateReentry: "Update's function runs under the write lock, which is not reentrant: " +
				"a call into the store from inside it waits for itself (see mutexstore.Store.Update)",
			storetest.UpdateGoexit: "Update's function runs on the caller's goroutine, which its runtime.Goexit ends",
		}
	}
	return storetest.Implementation{
		Lacks: lacks,
		New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
			s, err := open(cfg, opts...)
			if s == nil {
				return nil, err
			}
			return s, err
		},
		Nil: nilStoreOf[string, int](d),
	}
}

// kv.Store of string keys and storetest.Store are one method set: each
// is assignable to the other.
var (
	_ storetest.Store[int]  = kv.Store[string, int](nil)
	_ kv.Store[string, int] = storetest.Store[int](nil)
)

// nilStoreOf returns a nil *Store of design d, as a kv.Store.
func nilStoreOf[K comparable, V any](d design) kv.Store[K, V] {
	if d.actor {
		return (*store.Store[K, V])(nil)
	}
	return (*mutexstore.Store[K, V])(nil)
}

// asActor returns s as the actor design's store, for what only it has.
// It panics for a store of the other design: only actor specs call it.
func asActor[K comparable, V any](s kv.Store[K, V]) *store.Store[K, V] {
	return s.(*store.Store[K, V])
}

// forEachDesign runs test once per design, as a subtest named after it.
func forEachDesign(t *testing.T, test func(t *testing.T, d design)) {
	for _, d := range designs {
		t.Run(d.name, func(t *testing.T) { test(t, d) })
	}
}

// inBubblePerDesign runs test once per design, each in a synctest bubble
// of its own.
func inBubblePerDesign(t *testing.T, test func(t *testing.T, d design)) {
	forEachDesign(t, func(t *testing.T, d design) {
		synctest.Test(t, func(t *testing.T) { test(t, d) })
	})
}

// startInBubble returns a started store of design d whose Shutdown runs,
// and must succeed, when the bubble's test ends, even after a failed
// assertion. Called inside a synctest bubble, the store and everything it
// starts belong to the bubble.
func startInBubble[K comparable, V any](t *testing.T, d design, cfg store.Config, opts ...store.Option[K, V]) kv.Store[K, V] {
	t.Helper()
	s := openInBubble(t, d, cfg, opts...)
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// startInBubbleFailingShutdown is startInBubble for a test whose Shutdown
// is meant to fail: its cleanup Shutdown may return that failure again.
func startInBubbleFailingShutdown[K comparable, V any](t *testing.T, d design, cfg store.Config, opts ...store.Option[K, V]) kv.Store[K, V] {
	t.Helper()
	s := openInBubble(t, d, cfg, opts...)
	t.Cleanup(func() { _ = s.Shutdown() })
	return s
}

func openInBubble[K comparable, V any](t *testing.T, d design, cfg store.Config, opts ...store.Option[K, V]) kv.Store[K, V] {
	t.Helper()
	s, err := openerFor[K, V](d)(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// intStore is the store most specs and tests use, of either design.
type intStore = kv.Store[string, int]

// errOf drops a result and keeps the error, for operations that return two
// values.
func errOf[T any](_ T, err error) error { return err }

// operation is one of the store's operations, reduced to its error.
type operation struct {
	name string
	call func(intStore) error
}

// awaitGroup waits for wg, failing t with what it waited for and every
// goroutine's stack if that takes longer than within: the plain tests'
// bounded wait, as waitFor is the specs'.
func awaitGroup(t *testing.T, what string, wg *sync.WaitGroup, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
		t.Fatalf("%s: still waiting after %v — deadlock?\n%s", what, within, b.String())
	}
}
