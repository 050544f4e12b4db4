package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The parts of the format on their own: the edges a whole snapshot
// reaches only by chance.
var _ = Describe("the format's parts", func() {
	Describe("a time", func() {
		// absolute is the encoding of t as seconds and nanoseconds since 1970.
		absolute := func(t time.Time) []byte {
			b := binary.AppendVarint([]byte{tagAbsolute}, t.Unix())
			return binary.AppendUvarint(b, uint64(t.Nanosecond()))
		}
		base := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		edge := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
		DescribeTable("is written relative to its base when the difference fits, absolutely otherwise, and reads back",
			func(t, base time.Time, want []byte) {
				b := appendTime(nil, t, base)
				Expect(b).To(Equal(want))
				c := cursor{buf: b}
				got, ok := c.time(base)
				Expect(ok).To(BeTrue())
				Expect(got).To(Equal(t))
				Expect(c.done()).To(BeTrue())
			},
			Entry("the zero time", time.Time{}, base, []byte{tagZero}),
			Entry("the base itself: a delta of 0", base, base, rel(0)),
			Entry("a nanosecond after the base", base.Add(1), base, rel(1)),
			Entry("a nanosecond before the base", base.Add(-1), base, absolute(base.Add(-1))),
			Entry("maxDeltaSec seconds after the base, the largest delta in whole seconds",
				base.Add(time.Duration(maxDeltaSec)*time.Second), base, rel(time.Duration(maxDeltaSec)*time.Second)),
			Entry("a second more", base.Add(time.Duration(maxDeltaSec)*time.Second).Add(time.Second), base,
				absolute(base.Add(time.Duration(maxDeltaSec)*time.Second).Add(time.Second))),
			Entry("the last second before 2^62, from the one before it", edge(1<<62-1), edge(1<<62-2), rel(time.Second)),
			Entry("second 2^62, out of the range in which seconds are subtracted", edge(1<<62), edge(1<<62-1), absolute(edge(1<<62))),
			Entry("the first second after -2^62, from the one before it", edge(-1<<62+2), edge(-1<<62+1), rel(time.Second)),
			Entry("a time based on second -2^62, out of that range", edge(-1<<62+1), edge(-1<<62), absolute(edge(-1<<62+1))),
		)
	})

	Describe("a cursor", func() {
		It("finds no field at the end of its buffer, and never reads past it", func() {
			for name, read := range map[string]func(c *cursor) bool{
				"uvarint": func(c *cursor) bool { _, ok := c.uvarint(); return ok },
				"varint":  func(c *cursor) bool { _, ok := c.varint(); return ok },
				"string":  func(c *cursor) bool { _, ok := c.string(); return ok },
				"column":  func(c *cursor) bool { _, ok := c.column(); return ok },
				"time":    func(c *cursor) bool { _, ok := c.time(time.Time{}); return ok },
				"ttl":     func(c *cursor) bool { _, ok := c.ttl(time.Time{}, time.Time{}.Add(time.Hour)); return ok },
			} {
				// Half of a buffer, as the payload's is: what lies beyond
				// its length, within its capacity, is not the field's.
				buf := []byte{0, 0, 0, 0, 0, 0}
				c := cursor{buf: buf[:2], pos: 2}
				Expect(read(&c)).To(BeFalse(), name)
				Expect(c.pos).To(Equal(2), name)
			}
		})

		It("reads a length-prefixed field that ends with the buffer, and none that runs past it", func() {
			c := cursor{buf: []byte{9, 3, 'a', 'b', 'c'}, pos: 1}
			b, ok := c.string()
			Expect(ok).To(BeTrue())
			Expect(string(b)).To(Equal("abc"))
			Expect(c.done()).To(BeTrue())

			// 3 bytes claimed, 2 there: refused even though the bytes
			// before the cursor would make up the difference.
			buf := []byte{9, 9, 9, 3, 'a', 'b', 0, 0}
			c = cursor{buf: buf[:6], pos: 3}
			_, ok = c.string()
			Expect(ok).To(BeFalse())
		})

		It("reads a column of no bytes at all, its length the last four bytes, and no length of fewer", func() {
			c := cursor{buf: []byte{9, 0, 0, 0, 0}, pos: 1}
			b, ok := c.column()
			Expect(ok).To(BeTrue())
			Expect(b).To(BeEmpty())
			Expect(c.done()).To(BeTrue())

			buf := []byte{9, 9, 9, 9, 0, 0, 0, 0}
			c = cursor{buf: buf[:7], pos: 4}
			_, ok = c.column()
			Expect(ok).To(BeFalse())
		})
	})

	Describe("the records of a decode", func() {
		// With a header counting 10 items, the count is believed once the
		// bytes checked could hold 5 at 3 bytes each: at 15 bytes.
		It("are allocated, for the whole count, once the bytes checked could hold half of it", func() {
			var rs recordSet[string, int]
			first := rs.next(2, 10, 14)
			Expect(rs.whole).To(BeNil(), "14 bytes hold 4 items")
			first[0].Key, first[1].Key = "a", "b"
			second := rs.next(3, 10, 15)
			Expect(second).To(HaveLen(3))
			second[2].Key = "e"
			Expect(rs.whole).To(HaveCap(10), "15 bytes hold 5 items")
			Expect(rs.blocks).To(BeNil())
			Expect(rs.all()).To(HaveLen(5))
			Expect(rs.all()[0].Key).To(Equal("a"), "the first block's records are taken over")
			Expect(rs.all()[4].Key).To(Equal("e"))
			Expect(&rs.all()[2]).To(BeIdenticalTo(&second[0]), "the second block's are the whole slice's")
		})

		It("come block by block while the count is not believed, and in one slice at the end", func() {
			var rs recordSet[string, int]
			for range 3 {
				rs.next(1, 1000, 30)
			}
			Expect(rs.whole).To(BeNil())
			Expect(rs.blocks).To(HaveLen(3))
			Expect(rs.all()).To(HaveLen(3))
		})
	})

	Describe("a payload", func() {
		// A buffer that has grown by chunks keeps growing by what is
		// needed, not by another chunk.
		for _, n := range []int{100, 64 << 10, 64<<10 + 1, 200_000, 1<<20 + 1} {
			It(fmt.Sprintf("of %d bytes is read into a buffer of its size, plus append's headroom", n), func() {
				src := make([]byte, n+10)
				for i := range src {
					src[i] = byte(i * 7)
				}
				r := bytes.NewReader(src)
				d := decoder{r: r}
				p, err := d.payload(n)
				Expect(err).NotTo(HaveOccurred())
				Expect(p).To(Equal(src[:n]))
				Expect(r.Len()).To(Equal(10), "read no further")
				Expect(cap(d.buf)).To(BeNumerically("<=", n+n/2))
			})
		}
	})

	Describe("a column", func() {
		It("is decoded into the scratch slice when its capacity is exactly enough", func() {
			enc, dec := Gob{}.NewEncoder(), Gob{}.NewDecoder()
			col, err := enc.Encode([]byte{0, 0, 0, 0}, &[]int{1, 2, 3})
			Expect(err).NotTo(HaveOccurred())
			binary.LittleEndian.PutUint32(col, uint32(len(col)-4))
			scratch := make([]int, 3)
			got, err := decodeColumn(&cursor{buf: col}, Gob{}, dec, scratch, 3, 0, "values")
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal([]int{1, 2, 3}))
			Expect(&got[0]).To(BeIdenticalTo(&scratch[0]))
		})
	})

	Describe("the gob codec", func() {
		It("refuses bytes left over after a column's value", func() {
			col, err := Gob{}.NewEncoder().Encode(nil, &[]int{1})
			Expect(err).NotTo(HaveOccurred())
			var v []int
			Expect(Gob{}.NewDecoder().Decode(append(col, 0), &v)).To(MatchError("gob: 1 bytes left over after the value"))
		})

		It("passes on gob's error for a column it read whole", func() {
			col, err := Gob{}.NewEncoder().Encode(nil, &[]string{"a"})
			Expect(err).NotTo(HaveOccurred())
			var v []int
			Expect(Gob{}.NewDecoder().Decode(col, &v)).To(MatchError("gob: decoding into local type *[]int, received remote type []string"))
		})

		It("reads a column byte by byte, then io.EOF", func() {
			c := column{b: []byte{1, 2}}
			var got []byte
			for {
				b, err := c.ReadByte()
				if err != nil {
					Expect(err).To(Equal(io.EOF))
					break
				}
				got = append(got, b)
				Expect(len(got)).To(BeNumerically("<=", 2))
			}
			Expect(got).To(Equal([]byte{1, 2}))
		})
	})
})
