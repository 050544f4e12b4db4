package lastmodhttp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lastmodstore/lastmodstore/store"
)

// sseEvent is one Server-Sent Event as the Client reads it.
type sseEvent struct {
	id, name, data string
}

// sseReader reads the events of a text/event-stream: the fields the
// handler writes (id, event, data), several data lines joined with
// newlines, comments and unknown fields skipped, lines ended by LF or
// CR LF. No event may be larger than max bytes, so a stream without
// line ends cannot exhaust memory.
type sseReader struct {
	r   *bufio.Reader
	max int64
}

func newSSEReader(r io.Reader, max int64) *sseReader {
	return &sseReader{r: bufio.NewReader(r), max: max}
}

// errEventTooLarge is the error of an event over the reader's limit.
var errEventTooLarge = fmt.Errorf("%w: change event too large", ErrBadResponse)

// next returns the next event that has data; its error is the reader's
// (io.EOF at the end of the stream), or one matching ErrBadResponse.
func (s *sseReader) next() (sseEvent, error) {
	var (
		ev      sseEvent
		data    []byte
		hasData bool
		size    int64
	)
	for {
		line, err := s.line(s.max - size)
		if err != nil {
			return sseEvent{}, err
		}
		size += int64(len(line)) + 1
		if len(line) == 0 {
			if hasData {
				ev.data = string(data)
				return ev, nil
			}
			ev = sseEvent{} // an event without data is none
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			value = nil
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "": // a comment
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.id = string(value)
			}
		case "event":
			ev.name = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
}

// line reads one line without its end, of at most room bytes.
func (s *sseReader) line(room int64) ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if int64(len(line)+len(chunk)) > room+1 {
			return nil, errEventTooLarge
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// eventKinds are the store's event kinds by their SSE names.
var eventKinds = map[string]store.EventKind{
	"put":    store.EventPut,
	"delete": store.EventDelete,
	"expire": store.EventExpire,
	"evict":  store.EventEvict,
	"clear":  store.EventClear,
}

// decodeChange is the store.Event of a change event: its id is the
// change's revision, its data the item (none for a clear). ok is false
// for an event that is no change (end, reset, or a name the Client does
// not know).
func decodeChange[V any](c Codec, ev sseEvent) (out store.Event[string, V], ok bool, err error) {
	kind, ok := eventKinds[ev.name]
	if !ok {
		return out, false, nil
	}
	rev, err := strconv.ParseUint(ev.id, 10, 64)
	if err != nil || rev == 0 {
		return out, true, fmt.Errorf("%w: %s event with id %q", ErrBadResponse, ev.name, ev.id)
	}
	var w wireItem
	if err := json.Unmarshal([]byte(ev.data), &w); err != nil {
		return out, true, fmt.Errorf("%w: %s event %d: %w", ErrBadResponse, ev.name, rev, err)
	}
	out = store.Event[string, V]{Kind: kind, Key: w.Key, Revision: rev}
	if kind == store.EventClear {
		return out, true, nil
	}
	if out.Item, err = decodeItem[V](c, w); err != nil {
		return out, true, fmt.Errorf("%w (%s event %d)", err, ev.name, rev)
	}
	return out, true, nil
}

// endData is the data of an end or reset event.
type endData struct {
	Reason string  `json:"reason"`
	Oldest *uint64 `json:"oldest"`
}
