package mutexstore_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// Both designs write the same snapshots, so either loads the other's.
func ExampleStore_Save() {
	m, _ := mutexstore.New[string, int](store.Config{})
	_ = m.Start(context.Background())
	defer m.Shutdown()
	_ = m.Set("a", 1)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		fmt.Println(err)
		return
	}

	a, _ := store.New[string, int](store.Config{})
	_ = a.Start(context.Background())
	defer a.Shutdown()
	fmt.Println(a.Load(&buf))
	item, _ := a.Get("a")
	fmt.Println(item.Value, item.Revision)
	// Output:
	// <nil>
	// 1 1
}

func ExampleStore_Load() {
	a, _ := store.New[string, int](store.Config{})
	_ = a.Start(context.Background())
	defer a.Shutdown()
	_ = a.Set("a", 1)
	_ = a.Set("a", 2)
	var buf bytes.Buffer
	_ = a.Save(&buf)

	m, _ := mutexstore.New[string, int](store.Config{})
	_ = m.Start(context.Background())
	defer m.Shutdown()
	fmt.Println(m.Load(&buf))
	_ = m.Set("b", 3)
	item, _ := m.Get("b")
	// The counter goes on past the snapshot's (2), and past the load's
	// own changes: a clear and a write of "a".
	fmt.Println(item.Revision)
	// Output:
	// <nil>
	// 5
}
