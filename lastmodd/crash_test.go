package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("lastmodd's snapshots across crashes", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("keeps, across a SIGKILL under a stream of writes, every write acknowledged before the last snapshot it wrote began", func(ctx SpecContext) {
		snap := filepath.Join(GinkgoT().TempDir(), "store.snap")
		logs := &logBuffer{}
		d := startDaemonLogging(bin, logs, "-addr", "127.0.0.1:0", "-snapshot", snap, "-snapshot-every", "50ms", "-log-format", "json")

		// One writer, each PUT after the last was acknowledged: what it
		// records is in the order lastmodd applied it.
		type ack struct {
			key, value string
			at         time.Time
		}
		var acked atomic.Int64
		stop, result := make(chan struct{}), make(chan []ack, 1)
		go func() {
			client := &http.Client{Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			var acks []ack
			defer func() { result <- acks }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key, value := "k"+strconv.Itoa(i), strconv.Itoa(i*7)
				req, err := http.NewRequest("PUT", d.url+"/kv/"+key, bytes.NewBufferString(value))
				if err != nil {
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					return // killed
				}
				_ = resp.Body.Close()
				if resp.StatusCode != 201 {
					return
				}
				acks = append(acks, ack{key, value, time.Now()})
				acked.Add(1)
			}
		}()
		Eventually(func() int { return len(logs.records("snapshot written")) }).WithTimeout(20*time.Second).
			Should(BeNumerically(">=", 3), "three periodic snapshots")
		Eventually(acked.Load).WithTimeout(20*time.Second).Should(BeNumerically(">=", 100), "a hundred acknowledged writes")

		Expect(d.cmd.Process.Kill()).To(Succeed())
		err := d.wait()
		var exit *exec.ExitError
		Expect(errors.As(err, &exit)).To(BeTrue(), "killed: %v", err)
		close(stop)
		var acks []ack
		Eventually(result).WithTimeout(20*time.Second).Should(Receive(&acks), "the writer to see the kill")

		// The log is whole now: the process has exited and Wait has
		// copied all it wrote.
		written := logs.records("snapshot written")
		began, err := time.Parse(time.RFC3339Nano, written[len(written)-1]["began"].(string))
		Expect(err).NotTo(HaveOccurred())
		var covered []ack
		for _, a := range acks {
			if a.at.Before(began) {
				covered = append(covered, a)
			}
		}
		Expect(covered).NotTo(BeEmpty(), "writes were acknowledged before the last snapshot began")
		GinkgoWriter.Printf("%d writes acknowledged, %d before the last snapshot began, %d snapshots written\n", len(acks), len(covered), len(written))

		d = startDaemon(bin, "-addr", "127.0.0.1:0", "-snapshot", snap)
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		status, _, body := do(client, "GET", d.url+"/kv/", "")
		Expect(status).To(Equal(200))
		var listing map[string]struct {
			Value json.RawMessage `json:"value"`
		}
		Expect(json.Unmarshal([]byte(body), &listing)).To(Succeed())
		for _, a := range covered {
			Expect(listing).To(HaveKey(a.key), "a write acknowledged before the last snapshot began")
			Expect(string(listing[a.key].Value)).To(Equal(a.value))
		}
		Expect(len(listing)).To(BeNumerically("<=", len(acks)+1), "nothing it was not sent (one write may have landed unacknowledged)")
		Expect(d.stop()).To(Succeed())
	}, SpecTimeout(2*time.Minute))

	It("refuses to start on a snapshot that fails its checks, and leaves the file as it was", func() {
		snap := filepath.Join(GinkgoT().TempDir(), "store.snap")
		p := startInProcess("-addr", "127.0.0.1:0", "-snapshot", snap)
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		status, _, _ := do(client, "PUT", p.url+"/kv/a", `{"some":"value"}`)
		Expect(status).To(Equal(201))
		Expect(p.stop()).To(Succeed())

		good, err := os.ReadFile(snap)
		Expect(err).NotTo(HaveOccurred())
		damaged := bytes.Clone(good)
		damaged[len(damaged)/2] ^= 0x40
		Expect(os.WriteFile(snap, damaged, 0o600)).To(Succeed())

		logs := &logBuffer{}
		err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-snapshot", snap, "-snapshot-every", "1ms", "-log-format", "json"}, GinkgoWriter, logs)
		Expect(err).To(MatchError(store.ErrCorruptSnapshot))
		Expect(err).To(MatchError(ContainSubstring("-snapshot " + snap + " is damaged, not starting on it")))
		Expect(logs.records("snapshot refused: it fails its checks; lastmodd leaves it as it is")).To(HaveLen(1))
		Expect(logs.records("lastmodd listening on")).To(BeEmpty(), "it never served")
		Expect(logs.records("snapshot written")).To(BeEmpty())
		Expect(os.ReadFile(snap)).To(Equal(damaged), "the damaged file is left as it was")

		By("the process exits 1 with the error")
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-snapshot", snap)
		out, err := cmd.CombinedOutput()
		Expect(err).To(MatchError(ContainSubstring("exit status 1")))
		Expect(string(out)).To(ContainSubstring("lastmodd: -snapshot " + snap + " is damaged"))
		Expect(os.ReadFile(snap)).To(Equal(damaged))
	})
})
