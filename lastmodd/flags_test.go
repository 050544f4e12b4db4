package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("lastmodd's flags", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("lists every flag in -h, each described in doc.go and the README", func() {
		var usage bytes.Buffer
		Expect(run(context.Background(), []string{"-h"}, io.Discard, &usage)).To(MatchError(flag.ErrHelp))
		names := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(usage.String(), -1)
		Expect(len(names)).To(BeNumerically(">=", 28), usage.String())
		doc, err := os.ReadFile("doc.go")
		Expect(err).NotTo(HaveOccurred())
		readme, err := os.ReadFile(filepath.Join("..", "README.md"))
		Expect(err).NotTo(HaveOccurred())
		own, err := os.ReadFile("README.md")
		Expect(err).NotTo(HaveOccurred())
		for _, n := range names {
			Expect(string(doc)).To(MatchRegexp(`-`+n[1]+`\b`), "doc.go describes -%s", n[1])
			Expect(string(readme)).To(MatchRegexp(`-`+n[1]+`\b`), "README.md names -%s", n[1])
			if strings.HasPrefix(n[1], "etcd") {
				Expect(string(own)).To(MatchRegexp(`-`+n[1]+`\b`), "lastmodd/README.md describes -%s", n[1])
			}
		}
	})

	It("refuses bad input with an error naming the flag, before it starts anything", func() {
		dir := GinkgoT().TempDir()
		file := writeFile("plain", "not a directory\n")
		notPEM := writeFile("not.pem", "hello\n")
		tokens := func(content string) string { return writeFile("tokens", content) }
		long := "0123456789abcdef"
		certs := makeCerts()
		withCert := func(args ...string) []string {
			return append([]string{"-tls-cert", certs.serverCert, "-tls-key", certs.serverKey}, args...)
		}
		for _, tt := range []struct {
			give []string
			want string
		}{
			{[]string{"-log-format", "xml"}, "-log-format"},
			{[]string{"-snapshot-every", "-1s", "-snapshot", "x"}, "-snapshot-every"},
			{[]string{"-snapshot-every", "1s"}, "-snapshot-every needs -snapshot"},
			{[]string{"-drain-delay", "-1s"}, "-drain-delay"},
			{[]string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key"},
			{[]string{"-tls-key", "k.pem"}, "-tls-cert and -tls-key"},
			{[]string{"-tls-client-ca", "ca.pem"}, "-tls-client-ca needs -tls-cert"},
			{[]string{"-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", filepath.Join(dir, "none-key.pem")}, "-tls-cert"},
			{[]string{"-tls-cert", notPEM, "-tls-key", notPEM}, "-tls-cert"},
			{[]string{"-tls-cert", certs.serverCert, "-tls-key", certs.clientKey}, "-tls-cert .*: private key does not match"},
			{withCert("-tls-client-ca", filepath.Join(dir, "none.pem")), "-tls-client-ca: .*no such file"},
			{withCert("-tls-client-ca", notPEM), "-tls-client-ca .*: no PEM certificate in it"},
			{[]string{"-metrics-addr", "nonsense"}, "-metrics-addr"},
			{[]string{"-debug-addr", "nonsense"}, "-debug-addr"},
			{[]string{"-addr", "nonsense"}, "-addr"},
			{[]string{"-addr", "0.0.0.0:0"}, "-addr 0.0.0.0:0 is not a loopback address"},
			{[]string{"-addr", ":0"}, "-addr :0 is not a loopback address"},
			{[]string{"-addr", "[::]:0"}, "is not a loopback address"},
			{[]string{"-addr", "example.com:80"}, "is not a loopback address"},
			{[]string{"-debug-addr", "0.0.0.0:0"}, "-debug-addr 0.0.0.0:0 is not a loopback address"},
			{[]string{"-token-file", filepath.Join(dir, "none")}, "-token-file"},
			{[]string{"-token-file", tokens("")}, "-token-file .*: no token in it"},
			{[]string{"-token-file", tokens("# only a comment\n\n")}, "no token in it"},
			{[]string{"-token-file", tokens(long + " admin\n")}, `line 1: role "admin": want read or write`},
			{[]string{"-token-file", tokens("# a comment\n" + long + "\n")}, `line 2: want "TOKEN ROLE", got 1 fields`},
			{[]string{"-token-file", tokens(long + " read extra\n")}, `line 1: want "TOKEN ROLE", got 3 fields`},
			{[]string{"-token-file", tokens("short write\n")}, "line 1: token shorter than 16 characters"},
			{[]string{"-token-file", tokens(long + " read\n" + long + " write\n")}, "line 2: the same token again"},
			{[]string{"-snapshot", filepath.Join(dir, "missing", "store.snap")}, "-snapshot .*: its directory: .*no such file"},
			{[]string{"-snapshot", filepath.Join(file, "store.snap")}, "-snapshot .*: .* is not a directory"},
			{[]string{"-snapshot", dir}, "-snapshot .* is a directory, not a file"},
		} {
			args := append([]string{"-addr", "127.0.0.1:0"}, tt.give...)
			var logs bytes.Buffer
			err := run(context.Background(), args, io.Discard, &logs)
			Expect(err).To(MatchError(MatchRegexp(tt.want)), strings.Join(tt.give, " "))
			Expect(logs.String()).NotTo(ContainSubstring("lastmodd starting"), "%s: refused before it starts", strings.Join(tt.give, " "))
			Expect(err.Error()).NotTo(ContainSubstring(long), "no token in an error")
		}
		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "the directory checks leave nothing behind")
	})

	It("refuses a directory it cannot write in at start", func() {
		dir := GinkgoT().TempDir()
		if os.Geteuid() == 0 {
			// Root writes in a directory whatever its mode; sysfs
			// refuses new files even to root.
			dir = "/sys"
			if f, err := os.CreateTemp(dir, ".lastmodd-test-*"); err == nil {
				_ = f.Close()
				_ = os.Remove(f.Name())
				Skip("running as root where /sys is writable: no directory here refuses a file to root")
			}
		} else {
			Expect(os.Chmod(dir, 0o500)).To(Succeed())
			DeferCleanup(os.Chmod, dir, os.FileMode(0o700))
		}
		var logs bytes.Buffer
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-snapshot", filepath.Join(dir, "store.snap")}, io.Discard, &logs)
		Expect(err).To(MatchError(ContainSubstring("-snapshot " + filepath.Join(dir, "store.snap") + ": its directory cannot be written")))
		Expect(errors.Is(err, os.ErrPermission)).To(BeTrue())
		Expect(logs.String()).NotTo(ContainSubstring("lastmodd starting"))
	})

	It("warns at start of what an address other than loopback lacks", func() {
		for _, tt := range []struct {
			give []string
			toks *tokens
			want []string
		}{
			{[]string{"-addr", "0.0.0.0:8080", "-insecure"}, nil, []string{"anyone who reaches this address can read and write"}},
			{[]string{"-addr", "0.0.0.0:8080", "-token-file", "t"}, &tokens{}, []string{"tokens travel in clear text"}},
			{[]string{"-addr", "0.0.0.0:8080", "-tls-cert", "c", "-tls-key", "k"}, nil, []string{"anyone who reaches this address"}},
			{[]string{"-addr", "0.0.0.0:8080", "-tls-cert", "c", "-tls-key", "k", "-tls-client-ca", "ca"}, nil, nil},
			{[]string{"-addr", "0.0.0.0:8080", "-tls-cert", "c", "-tls-key", "k", "-token-file", "t"}, &tokens{}, nil},
			{[]string{"-addr", "127.0.0.1:8080"}, nil, nil},
		} {
			c, err := parseFlags(tt.give, io.Discard)
			Expect(err).NotTo(HaveOccurred())
			var logs bytes.Buffer
			warnExposed(newLogger("text", &logs), c, tt.toks)
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(tt.want) == 0 {
				Expect(logs.String()).To(BeEmpty(), strings.Join(tt.give, " "))
				continue
			}
			Expect(lines).To(HaveLen(len(tt.want)), strings.Join(tt.give, " "))
			for i, w := range tt.want {
				Expect(lines[i]).To(And(ContainSubstring("level=WARN"), ContainSubstring(w)), strings.Join(tt.give, " "))
			}
		}
	})

	It("takes an address other than loopback with TLS, tokens or -insecure", func() {
		for _, args := range [][]string{
			{"-addr", "0.0.0.0:8080", "-insecure"},
			{"-addr", "0.0.0.0:8080", "-token-file", "tokens"},
			{"-addr", "0.0.0.0:8080", "-tls-cert", "c.pem", "-tls-key", "k.pem"},
			{"-addr", "localhost:8080"},
			{"-addr", "[::1]:8080"},
			{"-addr", "127.0.0.2:8080"},
			{"-debug-addr", "0.0.0.0:6060", "-insecure"},
			{"-metrics-addr", "0.0.0.0:9090"},
		} {
			_, err := parseFlags(args, io.Discard)
			Expect(err).NotTo(HaveOccurred(), strings.Join(args, " "))
		}
	})
})
