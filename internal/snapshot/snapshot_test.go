package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("a snapshot", func() {
	Describe("round trip", func() {
		It("keeps every field of every item, and the header", func() {
			base := time.Date(2026, 11, 26, 12, 0, 0, 1, time.UTC)
			far := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
			es := []messages.Entry[string, int]{
				{Key: "never", Item: &messages.Item[int]{Value: 1, LastModified: base, Revision: 3}, TTL: time.Minute},
				{Key: "hour", Item: &messages.Item[int]{Value: -2, LastModified: base.Add(1), Revision: 4, ExpiresAt: base.Add(time.Hour)}},
				{Key: "touched", Item: &messages.Item[int]{Value: 5, LastModified: base.Add(2), Revision: 5, ExpiresAt: base.Add(time.Hour)}, TTL: time.Minute},
				{Key: "far", Item: &messages.Item[int]{Value: math.MaxInt, LastModified: base.Add(2 * time.Second), Revision: 1 << 40, ExpiresAt: far}, TTL: math.MaxInt64 - 1},
				{Key: "", Item: &messages.Item[int]{Value: 0, LastModified: far, Revision: math.MaxUint64 - 1, ExpiresAt: far.Add(1)}, TTL: 1},
			}
			// Zero stands for the TTL an item's times imply, as for "hour"
			// and "" (1ns), whether given or not.
			ttls := []time.Duration{0, 0, time.Minute, math.MaxInt64 - 1, 0}
			var b bytes.Buffer
			Expect(Encode(&b, Gob{}, math.MaxUint64, far.Add(time.Hour), es)).To(Succeed())

			h, rs, err := Decode[string, int](&b, Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(Equal(Header{Version: 2, Codec: "gob", KeyType: "string", ValueType: "int",
				Count: len(es), Revision: math.MaxUint64, LastModified: far.Add(time.Hour)}))
			Expect(rs).To(HaveLen(len(es)))
			for i, r := range rs {
				Expect(r.Key).To(Equal(es[i].Key))
				Expect(r.Item).To(Equal(*es[i].Item))
				Expect(r.TTL).To(Equal(ttls[i]), "TTL of %q", r.Key)
			}
			Expect(rs[0].Item.ExpiresAt.IsZero()).To(BeTrue(), "zero stays never")
		})

		It("records a TTL in one byte when the times imply it, in its nanoseconds otherwise", func() {
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
			item := &messages.Item[int]{Value: 1, LastModified: t0, Revision: 1, ExpiresAt: t0.Add(time.Hour)}
			// metadata returns what precedes the two columns, which run to
			// the end of the payload.
			metadata := func(ttl time.Duration) []byte {
				GinkgoHelper()
				var b bytes.Buffer
				Expect(Encode(&b, Gob{}, 1, t0, []messages.Entry[string, int]{{Key: "k", Item: item, TTL: ttl}})).To(Succeed())
				payload := blocks(b.Bytes())[0]
				for m := 0; m+8 <= len(payload); m++ {
					k := int(binary.LittleEndian.Uint32(payload[m:]))
					if m+8+k <= len(payload) && m+8+k+int(binary.LittleEndian.Uint32(payload[m+4+k:])) == len(payload) {
						return payload[:m]
					}
				}
				Fail("no columns in the payload")
				return nil
			}
			head := append(append([]byte{streamNew, 1, 1}, abs(t0)...), rel(time.Hour)...)
			for _, ttl := range []time.Duration{0, -time.Second, time.Hour} {
				Expect(metadata(ttl)).To(Equal(append(slices.Clone(head), 0)), "TTL %v: the one implied", ttl)
			}
			Expect(metadata(time.Minute)).To(Equal(binary.AppendUvarint(slices.Clone(head), uint64(time.Minute))))
		})

		It("keeps times beyond the int64 nanosecond range and before 1970", func() {
			times := []time.Time{
				time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
				time.Date(1066, 10, 14, 9, 0, 0, 0, time.UTC),
				time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
				time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC),
				time.Date(292277026, 1, 1, 0, 0, 0, 5, time.UTC),
			}
			es := make([]messages.Entry[int, int], len(times))
			for i, t := range times {
				es[i] = messages.Entry[int, int]{Key: i, Item: &messages.Item[int]{
					LastModified: t, Revision: uint64(i + 1), ExpiresAt: t.Add(-time.Nanosecond)}}
			}
			_, rs, err := Decode[int, int](bytes.NewReader(encode(Gob{}, es)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			for i, r := range rs {
				Expect(r.Item).To(Equal(*es[i].Item))
			}
		})

		It("writes wall times in UTC, to the nanosecond, without their monotonic reading", func() {
			now := time.Now() // carries a monotonic reading and the local zone
			loc := time.FixedZone("east", 5*3600)
			es := []messages.Entry[string, int]{
				{Key: "a", Item: &messages.Item[int]{LastModified: now, Revision: 1, ExpiresAt: now.In(loc).Add(time.Minute)}},
			}
			var b bytes.Buffer
			Expect(Encode(&b, Gob{}, 1, now, es)).To(Succeed())
			h, rs, err := Decode[string, int](&b, Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs[0].Item.LastModified).To(Equal(now.Round(0).UTC()))
			Expect(rs[0].Item.ExpiresAt).To(Equal(now.Round(0).Add(time.Minute).UTC()))
			Expect(h.LastModified).To(Equal(now.Round(0).UTC()))
		})

		It("keeps int keys and struct values", func() {
			es := entries(50, func(i int) int { return -i }, func(i int) point {
				return point{X: i, Y: -i, Label: strconv.Itoa(i), Tags: []string{"t", strconv.Itoa(i)}}
			})
			es[7].Item.Value = point{} // all fields zero: gob sends none of them
			h, rs, err := Decode[int, point](bytes.NewReader(encode(Gob{}, es)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.KeyType).To(Equal("int"))
			Expect(h.ValueType).To(Equal("snapshot.point"))
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("keeps interface values, nil ones included", func() {
			gob.Register(point{})
			vals := []any{nil, 1, "two", point{X: 3}, nil, []byte("five"), 6.5}
			es := entries(len(vals), func(i int) string { return strconv.Itoa(i) }, func(i int) any { return vals[i] })
			h, rs, err := Decode[string, any](bytes.NewReader(encode(Gob{}, es)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.ValueType).To(Equal("interface {}"))
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("spans many blocks, each checked against the last", func() {
			es := entries(100_000, strconv.Itoa, func(i int) int { return i * 7 })
			b := encode(Gob{}, es)
			_, rs, err := Decode[string, int](bytes.NewReader(b), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(asEntries(rs)).To(Equal(es))
			Expect(len(b)).To(BeNumerically("<", 20*len(es)), "metadata costs a few bytes per item")
		})

		It("allocates nothing per item beyond what the codec makes", func() {
			const n = 10_000
			es := entries(n, strconv.Itoa, func(i int) int { return i })
			rev, lm := last(es)
			encodeAllocs := testing.AllocsPerRun(5, func() {
				if err := Encode(io.Discard, Gob{}, rev, lm, es); err != nil {
					panic(err)
				}
			})
			Expect(encodeAllocs).To(BeNumerically("<", 200), "a few per block, none per item")

			// gob allocates each key's string; the records come in one
			// slice; setting up gob's decoder costs a few hundred.
			snap := encode(Gob{}, es)
			decodeAllocs := testing.AllocsPerRun(5, func() {
				if _, _, err := Decode[string, int](bytes.NewReader(snap), Gob{}); err != nil {
					panic(err)
				}
			})
			Expect(decodeAllocs).To(BeNumerically("<", n+400))
		})

		It("holds an empty store", func() {
			var b bytes.Buffer
			Expect(Encode[string, int](&b, Gob{}, 0, time.Time{}, nil)).To(Succeed())
			h, rs, err := Decode[string, int](&b, Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs).To(BeEmpty())
			Expect(h.Count).To(BeZero())
			Expect(h.LastModified.IsZero()).To(BeTrue())
		})

		It("keeps a first item last modified at the zero time, which no item before it bounds", func() {
			es := []messages.Entry[string, int]{
				{Key: "zero", Item: &messages.Item[int]{Value: 1, Revision: 1}},
				{Key: "next", Item: &messages.Item[int]{Value: 2, Revision: 3, LastModified: time.Unix(0, 1).UTC()}},
			}
			_, rs, err := Decode[string, int](bytes.NewReader(encode(Gob{}, es)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("keeps as many items as the store's revision counts, every revision an item's", func() {
			es := entries(3, strconv.Itoa, strconv.Itoa)
			for i := range es {
				es[i].Item.Revision = uint64(i + 1)
			}
			h, rs, err := Decode[string, string](bytes.NewReader(encode(Gob{}, es)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Count).To(Equal(3))
			Expect(h.Revision).To(Equal(uint64(3)))
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("writes and reads a header body of exactly 64 KiB, and refuses to write a longer one", func() {
			// The key and value types' names take most of it, the codec's
			// name the rest.
			body := func(codec string) int {
				h := Header{Codec: codec, KeyType: typeName[longKey](), ValueType: typeName[longValue]()}
				return len(appendHeader(nil, &h)) - prefixSize - 4
			}
			name := ""
			for n := 1; n <= maxName && name == ""; n++ {
				if body(strings.Repeat("c", n)) == maxHeaderBody {
					name = strings.Repeat("c", n)
				}
			}
			Expect(name).NotTo(BeEmpty(), "no codec name makes the body %d bytes; with a name of one it is %d", maxHeaderBody, body("c"))

			var b bytes.Buffer
			Expect(Encode[longKey, longValue](&b, failingCodec{name: name}, 0, time.Time{}, nil)).To(Succeed())
			Expect(binary.LittleEndian.Uint32(b.Bytes()[prefixSize-4:])).To(BeNumerically("==", maxHeaderBody))
			h, rs, err := Decode[longKey, longValue](&b, failingCodec{name: name})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Codec).To(Equal(name))
			Expect(rs).To(BeEmpty())

			err = Encode[longKey, longValue](io.Discard, failingCodec{name: name + "c"}, 0, time.Time{}, nil)
			Expect(err).To(MatchError(ErrInvalid))
			Expect(err).To(MatchError(ContainSubstring("type names too long for the 65536-byte header")))
		})

		It("keeps a store revision and LastModified beyond those of its items", func() {
			es := entries(3, strconv.Itoa, strconv.Itoa)
			later := es[2].Item.LastModified.Add(time.Second)
			var b bytes.Buffer
			Expect(Encode(&b, Gob{}, 99, later, es)).To(Succeed())
			h, _, err := Decode[string, string](&b, Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Revision).To(Equal(uint64(99)))
			Expect(h.LastModified).To(Equal(later))
		})

		It("works with the JSON codec", func() {
			es := entries(20, strconv.Itoa, func(i int) point { return point{X: i, Label: "p"} })
			b := encode(JSON{}, es)
			Expect(string(b)).To(ContainSubstring(`"Label":"p"`))
			h, rs, err := Decode[string, point](bytes.NewReader(b), JSON{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Codec).To(Equal("json"))
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("works with a codec that encodes a column to no bytes at all", func() {
			es := entries(20, strconv.Itoa, func(int) struct{} { return struct{}{} })
			snap := encode(setCodec{}, es)
			Expect(blocks(snap)[0]).To(HaveSuffix(string([]byte{0, 0, 0, 0})), "a values column of no bytes ends the block")
			_, rs, err := Decode[string, struct{}](bytes.NewReader(snap), setCodec{})
			Expect(err).NotTo(HaveOccurred())
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("reads no further than the end of the snapshot", func() {
			b := encode(Gob{}, entries(10, strconv.Itoa, strconv.Itoa))
			r := bytes.NewReader(append(b, "next"...))
			_, rs, err := Decode[string, string](r, Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs).To(HaveLen(10))
			rest, _ := io.ReadAll(r)
			Expect(string(rest)).To(Equal("next"))
		})

		It("reads a reader that returns one byte at a time", func() {
			es := entries(100, strconv.Itoa, strconv.Itoa)
			_, rs, err := Decode[string, string](iotest.OneByteReader(bytes.NewReader(encode(Gob{}, es))), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(asEntries(rs)).To(Equal(es))
		})

		It("still reads the version 1 snapshot kept in testdata, each item with the TTL its times imply", func() {
			// The file was written by this package's first version and must
			// stay readable; never regenerate it.
			b, err := os.ReadFile(filepath.Join("testdata", "v1-string-point.snap"))
			Expect(err).NotTo(HaveOccurred())
			h, rs, err := Decode[string, point](bytes.NewReader(b), Gob{})
			Expect(err).NotTo(HaveOccurred())
			want := header[string, point](len(goldenEntries()), 13, goldenEntries()[5].Item.LastModified)
			want.Version = 1
			Expect(h).To(Equal(want))
			Expect(asEntries(rs)).To(Equal(goldenEntries()), "every TTL zero: the one the item's times imply")
		})

		It("still reads the version 2 snapshot kept in testdata, TTLs included", func() {
			// Written by the first version 2 of this package; must stay
			// readable, like version 1's; never regenerate it.
			b, err := os.ReadFile(filepath.Join("testdata", "v2-string-point.snap"))
			Expect(err).NotTo(HaveOccurred())
			h, rs, err := Decode[string, point](bytes.NewReader(b), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(Equal(header[string, point](len(goldenEntries()), 13, goldenEntries()[5].Item.LastModified)))
			Expect(asEntries(rs)).To(Equal(goldenEntriesV2()))
			Expect(rs[3].TTL).To(Equal(90*time.Minute), "recorded, not implied")
		})
	})

	Describe("damaged input", func() {
		var snap []byte
		BeforeEach(func() {
			// 17 items make two blocks, so every part of the format is in
			// these few hundred bytes.
			snap = encode(Gob{}, entries(firstBlockItems+1, strconv.Itoa, func(i int) point { return point{X: i, Tags: []string{"a"}} }))
		})

		It("is refused as truncated when cut at any byte", func() {
			for n := range len(snap) {
				_, rs, err := Decode[string, point](bytes.NewReader(snap[:n]), Gob{})
				Expect(err).To(MatchError(ErrCorrupt), "cut at %d", n)
				Expect(err).To(MatchError(io.ErrUnexpectedEOF), "cut at %d", n)
				Expect(rs).To(BeNil())
			}
		})

		It("is refused as corrupt with any one bit flipped", func() {
			for i := range len(snap) {
				for bit := range 8 {
					damaged := bytes.Clone(snap)
					damaged[i] ^= 1 << bit
					_, rs, err := Decode[string, point](bytes.NewReader(damaged), Gob{})
					Expect(err).To(MatchError(ErrCorrupt), "byte %d bit %d", i, bit)
					Expect(rs).To(BeNil())
				}
			}
		})

		It("names a checksum mismatch and where it is", func() {
			snap[len(snap)-20] ^= 0xff
			_, _, err := Decode[string, point](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ContainSubstring("block checksum mismatch")))
			Expect(err).To(MatchError(MatchRegexp(`at byte \d+`)))
		})

		It("is refused when it is of a future or zero version", func() {
			for _, v := range []uint16{Version + 1, math.MaxUint16, 0} {
				binary.LittleEndian.PutUint16(snap[8:], v)
				_, _, err := Decode[string, point](bytes.NewReader(snap), Gob{})
				Expect(err).To(MatchError(ErrCorrupt))
				Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("format version %d; this build reads 1 to %d", v, Version))))
			}
		})

		It("is refused when it is not a snapshot at all", func() {
			for _, foreign := range [][]byte{
				[]byte("hello, world: not a snapshot but long enough"),
				{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, // gzip
				[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
			} {
				_, _, err := Decode[string, point](bytes.NewReader(foreign), Gob{})
				Expect(err).To(MatchError(ErrCorrupt))
				Expect(err).To(MatchError(ContainSubstring("wrong magic")))
			}
		})

		It("is refused, header returned, when written for another key type, value type or codec", func() {
			h, _, err := Decode[int, point](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ErrCorrupt))
			Expect(err).To(MatchError(ContainSubstring("holds keys of type string, not int")))
			Expect(h.KeyType).To(Equal("string"))

			_, _, err = Decode[string, string](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ContainSubstring("holds values of type snapshot.point, not string")))

			_, _, err = Decode[string, point](bytes.NewReader(snap), JSON{})
			Expect(err).To(MatchError(ContainSubstring(`written with codec "gob", not "json"`)))
		})

		It("passes on, wrapped, an error of a codec that cannot decode checked bytes", func() {
			boom := errors.New("boom")
			_, _, err := Decode[string, point](bytes.NewReader(snap), failingCodec{name: "gob", err: boom})
			Expect(err).To(MatchError(boom))
			Expect(err).NotTo(MatchError(ErrCorrupt))
			blocksAt := prefixSize + int(binary.LittleEndian.Uint32(snap[prefixSize-4:])) + 4
			Expect(err).To(MatchError(ContainSubstring(`snapshot block at byte %d: decoding 16 keys with codec "gob"`, blocksAt)))
		})

		It("turns a panic of the codec into ErrCorrupt", func() {
			_, _, err := Decode[string, point](bytes.NewReader(snap), failingCodec{name: "gob", panics: true})
			Expect(err).To(MatchError(ErrCorrupt))
			Expect(err).To(MatchError(ContainSubstring("panicked")))
		})

		It("passes on, wrapped, an error of the reader", func() {
			boom := errors.New("disk on fire")
			r := io.MultiReader(bytes.NewReader(snap[:30]), iotest.ErrReader(boom))
			_, _, err := Decode[string, point](r, Gob{})
			Expect(err).To(MatchError(boom))
			Expect(err).NotTo(MatchError(ErrCorrupt))
		})

		It("costs no more memory than the bytes that arrive, whatever the lengths claim", func() {
			// A header claiming 2^40 items, then a block claiming MaxBlock
			// bytes that never come.
			h := header[string, point](1<<40, 1<<41, time.Now())
			b := appendHeader(nil, &h)
			b = binary.LittleEndian.AppendUint32(b, MaxBlock)
			b = append(b, make([]byte, 100)...)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := Decode[string, point](bytes.NewReader(b), Gob{})
			runtime.ReadMemStats(&after)
			Expect(err).To(MatchError(io.ErrUnexpectedEOF))
			Expect(after.TotalAlloc - before.TotalAlloc).To(BeNumerically("<", 1<<20))
		})

		// The input of issue 16: a header, checksum correct, claiming 2^40
		// items, then 32 MiB of zeros, which end the snapshot at once and
		// fail the end marker's checksum. Whether the reader can tell its
		// size or not, Decode must refuse it having allocated about what
		// it read, not what the size could hold.
		Describe("a header claiming 2^40 items, then 32 MiB of zeros", func() {
			var crafted []byte
			BeforeEach(func() {
				h := header[string, int](1<<40, 1<<40, time.Now())
				crafted = append(appendHeader(nil, &h), make([]byte, 32<<20)...)
			})
			decodeCounting := func(r io.Reader) (alloc uint64, err error) {
				GinkgoHelper()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, rs, err := Decode[string, int](r, Gob{})
				runtime.ReadMemStats(&after)
				Expect(rs).To(BeNil())
				return after.TotalAlloc - before.TotalAlloc, err
			}
			readers := map[string]func() io.Reader{
				"a bytes.Reader, which tells its size": func() io.Reader { return bytes.NewReader(crafted) },
				"a regular *os.File, which tells its size": func() io.Reader {
					path := filepath.Join(GinkgoT().TempDir(), "crafted.snap")
					Expect(os.WriteFile(path, crafted, 0o600)).To(Succeed())
					f, err := os.Open(path)
					Expect(err).NotTo(HaveOccurred())
					DeferCleanup(f.Close)
					return f
				},
				"a reader that cannot tell its size": func() io.Reader { return io.MultiReader(bytes.NewReader(crafted)) },
			}
			for name, reader := range readers {
				It("is refused after a few bytes, having allocated no more than a few KiB, from "+name, func() {
					r := reader()
					alloc, err := decodeCounting(r)
					Expect(err).To(MatchError(ErrCorrupt))
					Expect(err).To(MatchError(ContainSubstring("end checksum mismatch")))
					Expect(alloc).To(BeNumerically("<", 64<<10), "allocated for an input refused at its first block")
				})
			}
		})

		It("allocates records as checked bytes bring them, not as the header's count claims", func() {
			// An honest snapshot, and the same whose header claims 2^40
			// items and which ends after its blocks, as if cut: the lie
			// may cost a record for every byte checked, no more.
			es := entries(50_000, strconv.Itoa, func(i int) int { return i })
			honest := encode(Gob{}, es)
			_, lm := last(es)
			h := header[string, int](1<<40, 1<<41, lm)
			blocksAt := prefixSize + int(binary.LittleEndian.Uint32(honest[prefixSize-4:])) + 4
			lying := reseal(append(appendHeader(nil, &h), honest[blocksAt:len(honest)-8]...))
			measure := func(snap []byte) (uint64, error) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, _, err := Decode[string, int](bytes.NewReader(snap), Gob{})
				runtime.ReadMemStats(&after)
				return after.TotalAlloc - before.TotalAlloc, err
			}
			want, err := measure(honest)
			Expect(err).NotTo(HaveOccurred())
			got, err := measure(lying)
			Expect(err).To(MatchError(io.ErrUnexpectedEOF))
			recordSize := uint64(unsafe.Sizeof(Record[string, int]{}))
			Expect(got).To(BeNumerically("<", want+uint64(len(lying))*recordSize), "decoding the honest snapshot took %d bytes", want)
		})
	})

	Describe("checked content, under valid checksums", func() {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		one := func(rev uint64) []meta { return []meta{{revDelta: rev, lm: abs(t0), exp: []byte{0}}} }

		It("is accepted when valid, so the refusals below are for what they name", func() {
			snap := forge(header[string, int](2, 7, t0.Add(1)), block(one(5), []string{"a"}, []int{1}),
				block([]meta{{7, abs(t0.Add(1)), []byte{0}}}, []string{"b"}, []int{2}))
			_, rs, err := Decode[string, int](bytes.NewReader(snap), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs).To(Equal([]Record[string, int]{
				{Key: "a", Item: messages.Item[int]{Value: 1, LastModified: t0, Revision: 5}},
				{Key: "b", Item: messages.Item[int]{Value: 2, LastModified: t0.Add(1), Revision: 7}},
			}))
		})

		It("reads an item's TTL as recorded, or as zero for the one its times imply, whatever the field or the version", func() {
			exps := [][]byte{rel(time.Hour), rel(time.Hour), rel(time.Hour), abs(t0), abs(t0)}
			fields := []uint64{0, uint64(time.Minute), uint64(time.Hour), 0, math.MaxInt64} // an implied TTL may be recorded too
			metas := []meta{{1, abs(t0), nil}, {1, rel(1), nil}, {1, rel(1), nil}, {1, rel(1), nil}, {1, rel(1), nil}}
			for i := range metas {
				metas[i].exp = withTTL(exps[i], fields[i])
			}
			keys, vals := []string{"a", "b", "c", "d", "e"}, []int{1, 2, 3, 4, 5}
			_, rs, err := Decode[string, int](bytes.NewReader(forge(header[string, int](5, 5, t0.Add(4)), block(metas, keys, vals))), Gob{})
			Expect(err).NotTo(HaveOccurred())
			var ttls []time.Duration
			for _, r := range rs {
				ttls = append(ttls, r.TTL)
			}
			Expect(ttls).To(Equal([]time.Duration{0, time.Minute, 0, 0, math.MaxInt64}))

			// Version 1 has no TTL field.
			for i := range metas {
				metas[i].exp = exps[i]
			}
			v1 := forge(header[string, int](5, 5, t0.Add(4)), block(metas, keys, vals))
			binary.LittleEndian.PutUint16(v1[len(magic):], 1)
			h, rs, err := Decode[string, int](bytes.NewReader(reseal(v1)), Gob{})
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Version).To(Equal(1))
			ttls = nil
			for _, r := range rs {
				ttls = append(ttls, r.TTL)
			}
			Expect(ttls).To(Equal([]time.Duration{0, 0, 0, 0, 0}))
		})

		DescribeTable("is refused as corrupt",
			func(snap []byte, want string) {
				_, rs, err := Decode[string, int](bytes.NewReader(snap), Gob{})
				Expect(err).To(MatchError(ErrCorrupt))
				Expect(err).To(MatchError(ContainSubstring(want)))
				Expect(rs).To(BeNil())
			},
			Entry("a revision delta of zero",
				forge(header[string, int](2, 5, t0.Add(1)), block([]meta{{1, abs(t0), []byte{0}}, {0, rel(1), []byte{0}}}, []string{"a", "b"}, []int{1, 2})),
				"bad revision delta"),
			Entry("a revision delta that overflows",
				forge(header[string, int](2, math.MaxUint64, t0.Add(1)), block([]meta{{2, abs(t0), []byte{0}}, {math.MaxUint64, rel(1), []byte{0}}}, []string{"a", "b"}, []int{1, 2})),
				"bad revision delta"),
			Entry("a revision not after the previous block's",
				forge(header[string, int](2, 5, t0.Add(1)), block(one(5), []string{"a"}, []int{1}),
					block([]meta{{4, abs(t0.Add(1)), []byte{0}}}, []string{"b"}, []int{2})),
				"revision 4 is not after the previous item's 5"),
			Entry("a revision equal to the previous block's",
				forge(header[string, int](2, 5, t0.Add(1)), block(one(5), []string{"a"}, []int{1}),
					block([]meta{{5, abs(t0.Add(1)), []byte{0}}}, []string{"b"}, []int{2})),
				"revision 5 is not after the previous item's 5"),
			Entry("a LastModified equal to the previous one",
				forge(header[string, int](2, 5, t0), block([]meta{{1, abs(t0), []byte{0}}, {1, rel(0), []byte{0}}}, []string{"a", "b"}, []int{1, 2})),
				"is not after the previous item's"),
			Entry("a LastModified before the previous block's",
				forge(header[string, int](2, 5, t0), block(one(1), []string{"a"}, []int{1}),
					block([]meta{{2, abs(t0.Add(-1)), []byte{0}}}, []string{"b"}, []int{2})),
				"is not after the previous item's"),
			Entry("a revision after the header's",
				forge(header[string, int](1, 4, t0), block(one(5), []string{"a"}, []int{1})),
				"revision 5 is after the header's 4"),
			Entry("a LastModified after the header's",
				forge(header[string, int](1, 5, t0.Add(-1)), block(one(5), []string{"a"}, []int{1})),
				"is after the header's"),
			Entry("fewer items than the header counts",
				forge(header[string, int](2, 5, t0), block(one(5), []string{"a"}, []int{1})),
				"ends after 1 of 2 items"),
			Entry("more items than the header counts",
				forge(header[string, int](1, 5, t0.Add(1)), block([]meta{{1, abs(t0), []byte{0}}, {1, rel(1), []byte{0}}}, []string{"a", "b"}, []int{1, 2})),
				"bad item count 2"),
			Entry("a block of more items than the header has left",
				forge(header[string, int](2, 5, t0.Add(2)), block(one(1), []string{"a"}, []int{1}),
					block([]meta{{2, abs(t0.Add(1)), []byte{0}}, {1, rel(1), []byte{0}}}, []string{"b", "c"}, []int{2, 3})),
				"bad item count 2 in block"),
			Entry("a block of more items than 3 bytes each",
				forge(header[string, int](2, 5, t0), []byte{streamNew, 2, 1}),
				"bad item count 2 in block"),
			Entry("a block of no items",
				forge(header[string, int](0, 5, t0), []byte{streamNew, 0}),
				"bad item count 0"),
			Entry("a header counting more items than revisions",
				forge(header[string, int](6, 5, t0)),
				"header claims 6 items under revision 5"),
			Entry("an unknown time tag",
				forge(header[string, int](1, 5, t0), block([]meta{{5, []byte{4}, []byte{0}}}, []string{"a"}, []int{1})),
				"bad LastModified"),
			Entry("a TTL beyond 2^63-1 nanoseconds",
				forge(header[string, int](1, 5, t0), block([]meta{{5, abs(t0), withTTL(rel(time.Hour), 1<<63)}}, []string{"a"}, []int{1})),
				"bad TTL"),
			Entry("a TTL that is no uvarint",
				forge(header[string, int](1, 5, t0), block([]meta{{5, abs(t0), append(rel(time.Hour), bytes.Repeat([]byte{0xff}, 10)...)}}, []string{"a"}, []int{1})),
				"bad TTL"),
			Entry("nanoseconds beyond a second",
				forge(header[string, int](1, 5, t0), block([]meta{{5, abs(t0), []byte{2, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03}}}, []string{"a"}, []int{1})),
				"bad ExpiresAt"),
			Entry("more keys than items",
				forge(header[string, int](1, 5, t0), block(one(5), []string{"a", "b"}, []int{1})),
				"block holds 1 items but 2 keys"),
			Entry("fewer values than items",
				forge(header[string, int](1, 5, t0), block(one(5), []string{"a"}, []int{})),
				"block holds 1 items but 0 values"),
			Entry("bytes after the values",
				forge(header[string, int](1, 5, t0), append(block(one(5), []string{"a"}, []int{1}), 0)),
				"1 unread bytes in block"),
			Entry("a first block that continues a codec stream",
				forge(header[string, int](1, 5, t0), append([]byte{streamContinue}, block(one(5), []string{"a"}, []int{1})[1:]...)),
				"first block continues a codec stream"),
			Entry("an unknown codec stream flag",
				forge(header[string, int](1, 5, t0), append([]byte{2}, block(one(5), []string{"a"}, []int{1})[1:]...)),
				"bad codec stream flag 2"),
			Entry("a block longer than MaxBlock",
				reseal(append(appendHeader(nil, &Header{Codec: "gob", KeyType: "string", ValueType: "int", Count: 1, Revision: 1}),
					0, 0, 0, 0x40+1, 0, 0, 0, 0)),
				"over the limit"),
		)

		// at says where, in a snapshot forged with header h, the byte off
		// into its first block's payload is.
		at := func(h Header, off int) string { return fmt.Sprintf("at byte %d: ", len(appendHeader(nil, &h))+4+off) }
		h1, h2 := header[string, int](1, 5, t0), header[string, int](2, 5, t0.Add(1))
		DescribeTable("is refused as corrupt, naming the byte where it went wrong",
			func(snap []byte, want string) {
				_, _, err := Decode[string, int](bytes.NewReader(snap), Gob{})
				Expect(err).To(MatchError(ErrCorrupt))
				Expect(err).To(MatchError(ContainSubstring(want)))
			},
			Entry("a block's stream flag: its first byte",
				forge(h1, append([]byte{streamContinue}, block(one(5), []string{"a"}, []int{1})[1:]...)),
				at(h1, 0)+"first block continues a codec stream"),
			Entry("an item's metadata: where it starts",
				forge(h2, block([]meta{{1, abs(t0), []byte{0}}, {0, rel(1), []byte{0}}}, []string{"a", "b"}, []int{1, 2})),
				at(h2, 2+1+len(abs(t0))+1)+"bad revision delta"),
			Entry("an item whose TTL the block's end cuts off",
				forge(h1, slices.Concat([]byte{streamNew, 1, 5}, abs(t0), rel(time.Hour))),
				at(h1, 2)+"bad TTL"),
			Entry("an item in a block of the 3 bytes 1 item takes at least",
				forge(h1, []byte{streamNew, 1, 5}),
				at(h1, 2)+"bad LastModified"),
			Entry("a column's length cut off by the block's end",
				forge(h1, slices.Concat([]byte{streamNew, 1, 5}, abs(t0), []byte{0}, []byte{1, 0, 0})),
				at(h1, 3+len(abs(t0))+1)+"bad length of keys"),
			Entry("bytes after the values: where they start",
				forge(h1, append(block(one(5), []string{"a"}, []int{1}), 7, 7)),
				at(h1, len(block(one(5), []string{"a"}, []int{1})))+"2 unread bytes in block"),
		)

		// names is a header body's names: codec gob, keys string, values int.
		names := []byte("\x03gob\x06string\x03int")
		DescribeTable("is refused as corrupt when its header's body, under a valid checksum, does not parse, naming the byte",
			func(body []byte, want string) {
				h, rs, err := Decode[string, int](bytes.NewReader(withBody(body)), Gob{})
				Expect(err).To(MatchError(ErrCorrupt))
				Expect(err).To(MatchError(ContainSubstring(want)))
				Expect(h).To(BeZero())
				Expect(rs).To(BeNil())
			},
			Entry("a name longer than the body", []byte("\x03gob\x08abcde"), "at byte 19: bad name in header"),
			Entry("no item count", names, "at byte 29: bad item count in header"),
			Entry("a revision that is no uvarint", append(slices.Clone(names), 0, 0x80), "at byte 30: bad revision in header"),
			Entry("a last-modified time of an unknown tag", append(slices.Clone(names), 0, 0, 4), "at byte 32: bad last-modified time in header"),
			Entry("bytes after the last-modified time", append(slices.Clone(names), 0, 0, 0, 7, 7), "at byte 32: 2 unread bytes in header"),
			Entry("a length beyond maxHeaderBody", make([]byte, maxHeaderBody+1), "at byte 10: header length 65537 out of range"),
		)

		It("reads a header counting as many items as an int holds, and refuses one counting more", func() {
			h := header[string, int](int(maxInt), math.MaxUint64, t0)
			got, _, err := Decode[string, int](bytes.NewReader(forge(h)), Gob{})
			Expect(err).To(MatchError(ContainSubstring("ends after 0 of %d items", maxInt)))
			Expect(got).To(Equal(h), "the header, read whole, is returned")

			body := binary.AppendUvarint(slices.Clone(names), maxInt+1)
			body = binary.AppendUvarint(body, math.MaxUint64)
			got, _, err = Decode[string, int](bytes.NewReader(withBody(append(body, tagZero))), Gob{})
			Expect(err).To(MatchError(ContainSubstring("header claims %d items under revision %d", maxInt+1, uint64(math.MaxUint64))))
			Expect(got).To(BeZero())
		})

		It("names the item whose key no map can hold", func() {
			snap := forge(header[any, int](2, 5, t0.Add(1)),
				block([]meta{{1, abs(t0), []byte{0}}, {1, rel(1), []byte{0}}}, []any{"ok", []byte("slice")}, []int{1, 2}))
			_, _, err := Decode[any, int](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ErrCorrupt))
			Expect(err).To(MatchError(ContainSubstring("key of item 1 ([]uint8) is no valid key")))
		})

		It("refuses a key no map can hold", func() {
			snap := forge(header[any, int](1, 5, t0), block(one(5), []any{[]byte("slice")}, []int{1}))
			_, _, err := Decode[any, int](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ErrCorrupt))
			Expect(err).To(MatchError(ContainSubstring("([]uint8) is no valid key")))
		})

		It("refuses a key holding a NaN, which no map can find again", func() {
			snap := forge(header[any, int](1, 5, t0), block(one(5), []any{math.NaN()}, []int{1}))
			_, _, err := Decode[any, int](bytes.NewReader(snap), Gob{})
			Expect(err).To(MatchError(ErrCorrupt))
			Expect(err).To(MatchError(ContainSubstring("(float64) is no valid key")))
		})
	})

	Describe("Encode", func() {
		var es []messages.Entry[string, int]
		BeforeEach(func() { es = entries(5, strconv.Itoa, func(i int) int { return i }) })

		DescribeTable("refuses, writing nothing, what it could not write as a valid snapshot",
			func(change func(), want string) {
				change()
				var b bytes.Buffer
				rev, lm := last(es)
				err := Encode(&b, Gob{}, rev, lm, es)
				Expect(err).To(MatchError(ErrInvalid))
				Expect(err).To(MatchError(ContainSubstring(want)))
				Expect(b.Len()).To(BeZero())
			},
			Entry("a nil item", func() { es[2].Item = nil }, "item 2 is nil"),
			Entry("a revision of zero", func() { es[0].Item.Revision = 0 }, "item 0: revision 0 is not after"),
			Entry("revisions out of order", func() { es[3].Item.Revision = es[2].Item.Revision }, "item 3: revision"),
			Entry("LastModified out of order", func() { es[3].Item.LastModified = es[2].Item.LastModified }, "item 3: LastModified"),
		)

		It("refuses a header that does not cover its items", func() {
			rev, lm := last(es)
			Expect(Encode(io.Discard, Gob{}, rev-1, lm, es)).To(MatchError(ContainSubstring("is after the store's")))
			Expect(Encode(io.Discard, Gob{}, rev, lm.Add(-1), es)).To(MatchError(ErrInvalid))
		})

		It("refuses nil arguments and a bad codec name", func() {
			Expect(Encode(nil, Gob{}, 0, time.Time{}, es)).To(MatchError(ErrInvalid))
			Expect(Encode(io.Discard, nil, 0, time.Time{}, es)).To(MatchError(ErrInvalid))
			Expect(Encode(io.Discard, failingCodec{name: "-"}, 9, time.Now(), es[:0])).To(Succeed())
			Expect(Encode(io.Discard, failingCodec{name: ""}, 9, time.Now(), es[:0])).To(MatchError(ErrInvalid))
			longest := strings.Repeat("x", maxName)
			Expect(Encode(io.Discard, failingCodec{name: longest}, 9, time.Now(), es[:0])).To(Succeed())
			Expect(Encode(io.Discard, failingCodec{name: longest + "x"}, 9, time.Now(), es[:0])).To(MatchError(ErrInvalid))
			_, _, err := Decode[string, int](nil, Gob{})
			Expect(err).To(MatchError(ErrInvalid))
			_, _, err = Decode[string, int](bytes.NewReader(nil), nil)
			Expect(err).To(MatchError(ErrInvalid))
		})

		It("passes on, wrapped, what the codec cannot encode", func() {
			type unregistered struct{ A int }
			es := entries(2, strconv.Itoa, func(int) any { return unregistered{1} })
			rev, lm := last(es)
			err := Encode(io.Discard, Gob{}, rev, lm, es)
			Expect(err).To(MatchError(ContainSubstring("type not registered")))
			Expect(err).To(MatchError(ContainSubstring(`encoding values with codec "gob"`)))
		})

		It("names the items of the block whose values the codec cannot encode", func() {
			type unregistered struct{ A int }
			es := entries(20, strconv.Itoa, func(i int) any {
				if i == 18 {
					return unregistered{1}
				}
				return i
			})
			rev, lm := last(es)
			// The first block holds 16 items, the second the other 4.
			Expect(Encode(io.Discard, Gob{}, rev, lm, es)).To(MatchError(ContainSubstring(`snapshot items 16 to 19: encoding values with codec "gob"`)))
		})

		It("makes blocks of about 256 KiB, however large the values", func() {
			es := entries(200, strconv.Itoa, func(int) string { return strings.Repeat("v", 10<<10) })
			for _, p := range blocks(encode(Gob{}, es)) {
				Expect(len(p)).To(BeNumerically("<=", targetBlock+targetBlock/4))
			}
		})

		It("turns a panic of the codec into ErrInvalid", func() {
			rev, lm := last(es)
			err := Encode(io.Discard, failingCodec{name: "gob", panics: true}, rev, lm, es)
			Expect(err).To(MatchError(ErrInvalid))
			Expect(err).To(MatchError(ContainSubstring("panicked")))
		})

		It("passes on, wrapped, an error of the writer", func() {
			boom := errors.New("disk full")
			rev, lm := last(es)
			Expect(Encode(failingWriter{err: boom}, Gob{}, rev, lm, es)).To(MatchError(boom))
		})

		Describe("with blocks limited to 4 KiB", func() {
			BeforeEach(func() {
				blockLimit = 4 << 10
				DeferCleanup(func() { blockLimit = MaxBlock })
			})

			It("splits a block that outgrows the limit, starting a new codec stream", func() {
				// 16 small items set the pace; the next 64 are too big to
				// fit 64 to a block.
				es := entries(80, strconv.Itoa, func(i int) string {
					if i < firstBlockItems {
						return "small"
					}
					return strings.Repeat("x", 500)
				})
				snap := encode(Gob{}, es)
				var flags []byte
				for _, p := range blocks(snap) {
					Expect(len(p)).To(BeNumerically("<=", blockLimit))
					flags = append(flags, p[0])
				}
				Expect(flags[0]).To(Equal(byte(streamNew)))
				Expect(bytes.Count(flags[1:], []byte{streamNew})).To(BeNumerically(">", 0), "a split block starts a new stream")
				Expect(bytes.Count(flags[1:], []byte{streamContinue})).To(BeNumerically(">", 0), "other blocks continue one")
				_, rs, err := Decode[string, string](bytes.NewReader(snap), Gob{})
				Expect(err).NotTo(HaveOccurred())
				Expect(asEntries(rs)).To(Equal(es))
			})

			It("writes a block of exactly the limit, and refuses one a byte longer", func() {
				es := entries(1, strconv.Itoa, func(int) string { return strings.Repeat("x", 1000) })
				want := encode(Gob{}, es)
				blockLimit = len(blocks(want)[0])
				Expect(encode(Gob{}, es)).To(Equal(want))
				blockLimit--
				rev, lm := last(es)
				Expect(Encode(io.Discard, Gob{}, rev, lm, es)).To(MatchError(ContainSubstring("item 0 encodes to more than MaxBlock")))
			})

			It("goes on past a column of exactly the limit, to report what the codec cannot encode", func() {
				type unregistered struct{ A int }
				es := entries(1, strconv.Itoa, func(int) any { return unregistered{1} })
				keys, err := Gob{}.NewEncoder().Encode(nil, &[]string{es[0].Key})
				Expect(err).NotTo(HaveOccurred())
				blockLimit = len(keys)
				rev, lm := last(es)
				Expect(Encode(io.Discard, Gob{}, rev, lm, es)).To(MatchError(ContainSubstring("type not registered")))
			})

			It("refuses an item bigger than a block", func() {
				es := entries(3, strconv.Itoa, func(i int) string { return strings.Repeat("x", i*3000) })
				rev, lm := last(es)
				err := Encode(io.Discard, Gob{}, rev, lm, es)
				Expect(err).To(MatchError(ErrInvalid))
				Expect(err).To(MatchError(ContainSubstring("item 2 encodes to more than MaxBlock")))
			})
		})

		It("leaves the items as they were", func() {
			want := entries(5, strconv.Itoa, func(i int) int { return i })
			encode(Gob{}, es)
			Expect(es).To(Equal(want))
		})
	})
})

// failingCodec is the gob codec under another name, whose decoder fails
// with err, or whose encoder and decoder panic.
type failingCodec struct {
	name   string
	err    error
	panics bool
}

func (c failingCodec) Name() string        { return c.name }
func (c failingCodec) NewEncoder() Encoder { return failingStream{c, Gob{}.NewEncoder()} }
func (c failingCodec) NewDecoder() Decoder { return failingStream{c, nil} }

type failingStream struct {
	failingCodec
	enc Encoder
}

func (s failingStream) Encode(dst []byte, v any) ([]byte, error) {
	if s.panics {
		panic("encode")
	}
	return s.enc.Encode(dst, v)
}

func (s failingStream) Decode([]byte, any) error {
	if s.panics {
		panic("decode")
	}
	return s.err
}

// failingWriter fails every write.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// goldenEntriesV2 are the content of testdata/v2-string-point.snap: those
// of version 1, with item 3, which expires 3 hours after it was written,
// given a TTL of 90 minutes, as if touched 90 minutes after it was written.
func goldenEntriesV2() []messages.Entry[string, point] {
	es := goldenEntries()
	es[3].TTL = 90 * time.Minute
	return es
}

// goldenEntries are the content of testdata/v1-string-point.snap.
func goldenEntries() []messages.Entry[string, point] {
	t := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	vals := []point{{}, {X: 1}, {Y: -2, Label: "two"}, {Tags: []string{"a", "b"}}, {X: math.MaxInt, Y: math.MinInt}, {Label: "é✓"}}
	es := make([]messages.Entry[string, point], len(vals))
	for i, v := range vals {
		lm := t.Add(time.Duration(i*i) * time.Millisecond)
		var exp time.Time
		if i%2 == 1 {
			exp = lm.Add(time.Duration(i) * time.Hour)
		}
		es[i] = messages.Entry[string, point]{Key: fmt.Sprintf("key-%d", i), Item: &messages.Item[point]{
			Value: v, LastModified: lm, Revision: uint64(2*i + 1), ExpiresAt: exp,
		}}
	}
	return es
}
