package harness

import (
	"errors"
	"fmt"
	"io"
)

// ErrMissing is what a Cache's Get returns for a key it does not hold.
// Every key is written before a workload starts and none expires, so a
// miss means the design lost a key, and the measurement stops.
var ErrMissing = errors.New("key missing")

// Cache is what every design offers, and all that the single-key workloads
// (read-only, read-heavy, balanced, write-only) need. Its methods are
// called from many goroutines at once.
type Cache interface {
	// Get returns the value of key, or an error: ErrMissing, or the
	// design's own, for a key it does not hold.
	Get(key string) (int, error)
	// Set writes value under key.
	Set(key string, value int) error
	// Close stops whatever the cache runs and waits for it; the harness
	// calls it once, after the last measurement.
	Close() error
}

// Batcher is a Cache with atomic multi-key calls, for the getmany-N and
// setmany-N workloads.
type Batcher interface {
	// GetMany reads keys in one step; one call counts as one operation.
	GetMany(keys []string) error
	// SetMany writes items in one step. The harness reuses items: SetMany
	// must not keep it.
	SetMany(items map[string]int) error
}

// Versioned is a Cache whose items carry a revision that a conditional
// write can be made on, for the conditional workload.
type Versioned interface {
	// GetRevision returns the value of key and its revision, or an error
	// as Get does.
	GetRevision(key string) (value int, revision uint64, err error)
	// CompareAndSet writes value under key if the item is still at
	// revision, and returns an error matching store.ErrConflict if not.
	CompareAndSet(key string, value int, revision uint64) error
}

// Incrementer is a Cache that adds one to a key's value in one atomic
// step, with the best primitive the design has (an Update, a Compute, a
// compare-and-swap loop), for the read-modify-write workload.
type Incrementer interface {
	// Increment adds one to the value of key, atomically with respect to
	// every other call: no increment made at the same time is lost. It
	// returns an error as Get does for a key the cache does not hold.
	Increment(key string) error
}

// Walker is a Cache whose whole content can be saved, listed and
// cleared, for the scale section: the operations whose cost grows with the
// store, and which should not hold up the callers beside them.
type Walker interface {
	// Save writes every item to w.
	Save(w io.Writer) error
	// List copies every item, and returns how many it copied.
	List() (int, error)
	// Clear removes every item.
	Clear() error
}

// Capability is a set of the optional interfaces a design's Cache
// implements, declared with the design so that the tables know, before
// anything runs, which workloads it takes part in.
type Capability uint8

const (
	// Batches says the Cache is a Batcher.
	Batches Capability = 1 << iota
	// Revisions says the Cache is Versioned.
	Revisions
	// Increments says the Cache is an Incrementer.
	Increments
	// Walks says the Cache is a Walker and a Batcher.
	Walks
)

// Design is a named way to build the cache the workloads run on: an entry
// of a program's registry.
type Design struct {
	// Name names the design on the command line (-designs) and in every
	// table, chart and JSON result.
	Name string
	// About says in one line what the design is, for the header and the
	// chart's legend.
	About string
	// Colour is the design's bars in the chart, as an SVG colour; empty
	// takes one from a palette by the design's place in the registry.
	Colour string
	// Offers is what Open's Cache implements beyond Cache. A workload that
	// needs more is shown as "—" for the design and not run.
	Offers Capability
	// Open returns a new, empty, running cache. The harness writes every
	// key of a workload into it before measuring, and closes it after.
	Open func() (Cache, error)
}

// supports reports whether d offers all that w needs.
func (d Design) supports(w workload) bool { return d.Offers&w.needs == w.needs }

// open opens a cache of d and checks that it implements what d offers, so
// that a registry entry that claims too much fails here, with its name,
// rather than as a panic in a worker.
func (d Design) open() (Cache, error) {
	c, err := d.Open()
	if err != nil {
		return nil, err
	}
	_, batches := c.(Batcher)
	_, revisions := c.(Versioned)
	_, increments := c.(Incrementer)
	_, walks := c.(Walker)
	switch {
	case d.Offers&Batches != 0 && !batches:
		err = errors.New("it offers Batches, but its Cache is no Batcher")
	case d.Offers&Revisions != 0 && !revisions:
		err = errors.New("it offers Revisions, but its Cache is not Versioned")
	case d.Offers&Increments != 0 && !increments:
		err = errors.New("it offers Increments, but its Cache is no Incrementer")
	case d.Offers&Walks != 0 && (!walks || !batches):
		err = errors.New("it offers Walks, but its Cache is no Walker and Batcher")
	}
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// palette colours the designs that name no colour of their own.
var palette = []string{"#3b6fb6", "#e0883a", "#2a9d8f", "#8e5ea2", "#c0392b", "#6d8f1f", "#d4a017", "#5d6d7e", "#e377c2", "#17becf"}

// colour returns the colour of the design at place i of a registry.
func (d Design) colour(i int) string {
	if d.Colour != "" {
		return d.Colour
	}
	return palette[i%len(palette)]
}

// checkDesigns reports what is wrong with a registry: a design without a
// name or an Open, or two designs of one name.
func checkDesigns(designs []Design) error {
	seen := map[string]bool{}
	for _, d := range designs {
		switch {
		case d.Name == "" || d.Open == nil:
			return fmt.Errorf("design %q has no name or no Open", d.Name)
		case seen[d.Name]:
			return fmt.Errorf("two designs are named %q", d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}
