package store_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lastmodstore/lastmodstore/store"
)

func ExampleStore_Save() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("a", 1)
	_ = s.Set("b", 2)

	// One instant of the store, encoded in this goroutine while the store
	// goes on serving others.
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(buf.Len() > 0)
	// Output: true
}

func ExampleStore_Load() {
	from, _ := store.New[string, int](store.Config{})
	_ = from.Start(context.Background())
	defer from.Shutdown()
	_ = from.Set("a", 1)
	saved, _ := from.Get("a")
	var buf bytes.Buffer
	_ = from.Save(&buf)
	snap := buf.Bytes()

	into, _ := store.New[string, int](store.Config{})
	_ = into.Start(context.Background())
	defer into.Shutdown()
	_ = into.Set("replaced", 0)

	// A damaged snapshot is refused, and the store left as it was.
	damaged := bytes.Clone(snap)
	damaged[len(damaged)/2] ^= 1
	err := into.Load(bytes.NewReader(damaged))
	fmt.Println(errors.Is(err, store.ErrCorruptSnapshot))

	// A whole one replaces the content, every item as it was saved.
	if err := into.Load(bytes.NewReader(snap)); err != nil {
		fmt.Println(err)
		return
	}
	loaded, _ := into.Get("a")
	_, err = into.Get("replaced")
	fmt.Println(loaded.Value, loaded.Revision == saved.Revision, loaded.LastModified.Equal(saved.LastModified), err)
	// Output:
	// true
	// 1 true true lastmodstore: not found
}

func ExampleStore_SaveFile() {
	dir, _ := os.MkdirTemp("", "lastmodstore-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.snap")

	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("greeting", "hello")

	// path holds the old snapshot or the whole new one, never half of it.
	if err := s.SaveFile(path); err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(dir)
	fmt.Println(len(entries), entries[0].Name())

	// A path that cannot be written gives the file system's error.
	err := s.SaveFile(filepath.Join(dir, "no", "such", "dir", "store.snap"))
	fmt.Println(errors.Is(err, os.ErrNotExist))
	// Output:
	// 1 store.snap
	// true
}

func ExampleStore_LoadFile() {
	dir, _ := os.MkdirTemp("", "lastmodstore-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.snap")

	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	_ = s.Set("greeting", "hello")
	_ = s.SaveFile(path)
	_ = s.Shutdown()

	// A new process, say: a new store, loaded from the file.
	restarted, _ := store.New[string, string](store.Config{})
	_ = restarted.Start(context.Background())
	defer restarted.Shutdown()
	if err := restarted.LoadFile(path); err != nil {
		fmt.Println(err)
		return
	}
	item, _ := restarted.Get("greeting")
	fmt.Println(item.Value)
	// Output: hello
}

// Point is a value stored in an interface in ExampleGobCodec.
type Point struct{ X, Y int }

// Values stored in an interface type need their concrete types
// registered with gob, by the program that saves and the one that loads.
func ExampleGobCodec() {
	gob.Register(Point{})

	s, _ := store.NewLastModifiedStore(store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("origin", Point{})
	_ = s.Set("count", 3)
	var buf bytes.Buffer
	fmt.Println(s.Save(&buf))

	_ = s.Clear()
	fmt.Println(s.Load(&buf))
	item, _ := s.Get("origin")
	fmt.Printf("%#v\n", item.Value)
	// Output:
	// <nil>
	// <nil>
	// store_test.Point{X:0, Y:0}
}

func ExampleWithCodec() {
	s, _ := store.New[string, int](store.Config{}, store.WithCodec[string, int](store.JSONCodec{}))
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("a", 1)
	_ = s.Set("b", 2)
	var buf bytes.Buffer
	_ = s.Save(&buf)
	// The keys and values are JSON inside the binary framing.
	fmt.Println(bytes.Contains(buf.Bytes(), []byte(`["a","b"]`)), bytes.Contains(buf.Bytes(), []byte(`[1,2]`)))

	// A store with the default codec, gob, refuses the snapshot.
	gobbed, _ := store.New[string, int](store.Config{})
	_ = gobbed.Start(context.Background())
	defer gobbed.Shutdown()
	fmt.Println(gobbed.Load(&buf))
	// Output:
	// true true
	// lastmodstore: corrupt snapshot at byte 14: written with codec "json", not "gob"
}
