package etcdstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/internal/ports"
	"github.com/lastmodstore/lastmodstore/store"
)

// decimal is a codec of its own: ints as decimal text.
type decimal struct{}

func (decimal) Encode(v int) ([]byte, error) { return []byte(strconv.Itoa(v)), nil }
func (decimal) Decode(b []byte) (int, error) { return strconv.Atoi(string(b)) }

var _ = Describe("bad input", func() {
	var cli *clientv3.Client
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
	})

	It("refuses a negative TTL with ErrInvalidTTL", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		Expect(s.SetWithTTL("k", 1, -time.Nanosecond)).To(MatchError(store.ErrInvalidTTL))
		Expect(s.Get("k")).Error().To(MatchError(store.ErrNotFound))
	})

	It("refuses a value the codec cannot encode with ErrEncode wrapping the codec's error, and writes nothing", func() {
		s := running[float64](cli, etcdstore.Config{Prefix: prefix})
		var unsupported *json.UnsupportedValueError
		for _, err := range []error{
			s.Set("k", math.NaN()),
			s.SetWithTTL("k", math.Inf(1), time.Minute),
			errOf(s.CompareAndSet("k", math.NaN(), 0)),
			errOf(s.SetIfUnmodifiedSince("k", math.NaN(), time.Now())),
			s.SetMany(map[string]float64{"ok": 1, "k": math.NaN()}),
		} {
			Expect(err).To(MatchError(etcdstore.ErrEncode))
			Expect(errors.As(err, &unsupported)).To(BeTrue(), "%v", err)
			Expect(err).To(MatchError(ContainSubstring(`"k"`)))
		}
		Expect(s.Size()).To(BeZero())
	})

	Describe("a value under the prefix that the store did not write", func() {
		var s *intStore
		BeforeEach(func() {
			s = running[int](cli, etcdstore.Config{Prefix: prefix})
			Expect(s.Set("fine", 1)).To(Succeed())
			Expect(cli.Put(bg, prefix+"foreign", "hello")).Error().NotTo(HaveOccurred())
		})

		It("makes every read that meets it return ErrCorruptValue naming the key, never panic", func() {
			for _, err := range []error{
				errOf(s.Get("foreign")),
				errOf(s.GetMany([]string{"fine", "foreign"})),
				errOf(s.List()),
				errOf(s.Size()),
				errOf(s.ModifiedSince(time.Time{})),
				errOf(s.CompareAndSet("foreign", 1, 0)),
				errOf(s.SetIfUnmodifiedSince("foreign", 1, time.Now())),
				s.DeleteIfUnmodifiedSince("foreign", time.Now()),
			} {
				Expect(err).To(MatchError(etcdstore.ErrCorruptValue))
				Expect(err).To(MatchError(ContainSubstring(`"foreign"`)))
			}
			for range s.All() {
				Fail("All yielded despite a value it cannot decode")
			}
			Expect(must(s.Get("fine")).Value).To(Equal(1), "the store's own items still read")
		})

		It("is removed by Delete, and then the store reads whole again", func() {
			Expect(s.Delete("foreign")).To(Succeed())
			Expect(s.List()).To(HaveLen(1))
		})

		It("ends a watch that meets it with ErrCorruptValue", func() {
			w, _ := watch(s)
			Expect(cli.Put(bg, prefix+"foreign", "again")).Error().NotTo(HaveOccurred())
			expectEnd(w, etcdstore.ErrCorruptValue)
		})
	})

	It("reports a payload the codec refuses as ErrCorruptValue wrapping the codec's error", func() {
		text := running[string](cli, etcdstore.Config{Prefix: prefix})
		Expect(text.Set("k", "not a number")).To(Succeed())
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		err := errOf(s.Get("k"))
		Expect(err).To(MatchError(etcdstore.ErrCorruptValue))
		var typeErr *json.UnmarshalTypeError
		Expect(errors.As(err, &typeErr)).To(BeTrue(), "%v", err)
	})

	It("uses the codec given with WithCodec", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix}, etcdstore.WithCodec[int](decimal{}))
		Expect(s.Set("k", 42)).To(Succeed())
		resp := must(cli.Get(bg, prefix+"k"))
		Expect(string(resp.Kvs[0].Value)).To(HaveSuffix("lms142"), "the envelope's tag, then the codec's bytes")
		Expect(must(s.Get("k")).Value).To(Equal(42))
	})
})

var _ = Describe("an unreachable cluster", func() {
	It("gives every call an error matching ErrCluster and DeadlineExceeded within RequestTimeout, never a hang", func() {
		free := must(ports.Free(1))
		cli := must(newClient(fmt.Sprintf("http://127.0.0.1:%d", free[0])))
		atTeardown(func() { _ = cli.Close() })
		s := running[int](cli, etcdstore.Config{RequestTimeout: 200 * time.Millisecond})

		var wg sync.WaitGroup
		errs := make(chan error, len(operations))
		for _, op := range operations {
			if op.name == "GetMany of no keys" || op.name == "SetMany of no items" {
				continue
			}
			wg.Go(func() { errs <- fmt.Errorf("%s: %w", op.name, op.call(s)) })
		}
		// Not waitFor's minute: each call must end within its
		// RequestTimeout, so the suite's Eventually timeout is bound enough.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		Eventually(done).Should(BeClosed(), "every call to return though the cluster is unreachable")
		close(errs)
		for err := range errs {
			Expect(err).To(MatchError(etcdstore.ErrCluster))
			Expect(err).To(MatchError(store.ErrUnavailable), "what code for any store can tell from a bug")
			Expect(err).To(MatchError(context.DeadlineExceeded))
		}
		Expect(s.Shutdown()).To(Succeed())
	})
})
