package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// snapshotter keeps the -snapshot file: it loads it at start, saves it
// every -snapshot-every and at stop, and says how each went in the log
// and the metrics.
type snapshotter struct {
	path string
	s    interface {
		LoadFile(string) error
		SaveFile(string) error
	}
	log *slog.Logger
	m   *metrics
	// changes marks the store's changes so far; nil, or false, when it
	// cannot tell. A periodic save whose mark is the one read before the
	// last save written has nothing new to write, and is skipped: an
	// idle store is not rewritten every -snapshot-every.
	changes func() (changeMark, bool)
	saved   changeMark // changes() before the last save written
	have    bool       // saved holds a mark
}

// load loads the file into the store; a missing file is a first run. A
// file that is there but cannot be loaded stops lastmodd, and since
// nothing is saved before the server has served, it is never overwritten.
func (sn *snapshotter) load() error {
	err := sn.s.LoadFile(sn.path)
	switch {
	case err == nil:
		sn.log.Info("snapshot loaded", "path", sn.path)
		return nil
	case errors.Is(err, fs.ErrNotExist):
		sn.log.Info("no snapshot yet: starting empty", "path", sn.path)
		return nil
	case errors.Is(err, store.ErrCorruptSnapshot):
		sn.log.Error("snapshot refused: it fails its checks; lastmodd leaves it as it is", "path", sn.path, "err", err)
		return fmt.Errorf("-snapshot %s is damaged, not starting on it (it is left untouched: move it away to start empty, or put a good copy in its place): %w", sn.path, err)
	}
	sn.log.Error("snapshot refused: it cannot be read", "path", sn.path, "err", err)
	return fmt.Errorf("-snapshot %s: %w", sn.path, err)
}

// save writes the snapshot now. SaveFile writes a new file and renames it
// over the old one, so a crash at any moment leaves the last whole
// snapshot in place.
func (sn *snapshotter) save(reason string) error {
	began := time.Now()
	var mark changeMark
	known := false
	if sn.changes != nil {
		mark, known = sn.changes()
	}
	if reason == "periodic" && known && sn.have && mark == sn.saved {
		// The file holds every write acknowledged until now.
		sn.m.snapshots.WithLabelValues("unchanged").Inc()
		sn.m.snapshotLast.Set(float64(began.UnixNano()) / 1e9)
		sn.log.Debug("snapshot skipped: nothing changed since the last", "path", sn.path)
		return nil
	}
	err := sn.s.SaveFile(sn.path)
	took := time.Since(began)
	if err != nil {
		sn.m.snapshots.WithLabelValues("failed").Inc()
		sn.log.Error("snapshot failed", "path", sn.path, "reason", reason, "began", began, "duration", took, "err", err)
		return fmt.Errorf("save %s: %w", sn.path, err)
	}
	var size int64
	if fi, err := os.Stat(sn.path); err == nil {
		size = fi.Size()
	}
	sn.saved, sn.have = mark, known
	sn.m.snapshots.WithLabelValues("written").Inc()
	sn.m.snapshotSeconds.Observe(took.Seconds())
	sn.m.snapshotBytes.Set(float64(size))
	sn.m.snapshotLast.Set(float64(began.UnixNano()) / 1e9)
	// began is what a reader of the log needs: every write acknowledged
	// before it is in the file.
	sn.log.Info("snapshot written", "path", sn.path, "reason", reason, "began", began, "duration", took, "bytes", size)
	return nil
}

// every saves every d until ctx ends, in its own goroutine, so no
// request waits for a save. A failed save is logged and counted, and the
// next tick tries again. A save that takes longer than d skips the ticks
// it overran rather than queueing them.
func (sn *snapshotter) every(ctx context.Context, d time.Duration) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = sn.save("periodic")
		}
	}
}
