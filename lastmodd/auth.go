package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// minTokenLen is the shortest token a token file may hold: a short one
// could be guessed.
const minTokenLen = 16

// role is what a token lets its bearer do.
type role int

const (
	roleNone role = iota
	roleRead
	roleWrite
)

// tokens are the bearer tokens of a -token-file. Only their SHA-256 sums
// are kept and compared, so every comparison is of 32 bytes and its time
// tells nothing of a token's length or content.
type tokens struct {
	sums  [][sha256.Size]byte
	roles []role
}

// readTokens reads a token file: one "TOKEN ROLE" a line, ROLE read or
// write; blank lines and lines starting with # are skipped. Errors name
// the flag, the file and the line, never a token.
func readTokens(path string) (*tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-token-file: %w", err)
	}
	t := &tokens{}
	seen := make(map[[sha256.Size]byte]bool)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("-token-file %s: line %d: want \"TOKEN ROLE\", got %d fields", path, n, len(fields))
		}
		var r role
		switch fields[1] {
		case "read":
			r = roleRead
		case "write":
			r = roleWrite
		default:
			return nil, fmt.Errorf("-token-file %s: line %d: role %q: want read or write", path, n, fields[1])
		}
		if len(fields[0]) < minTokenLen {
			return nil, fmt.Errorf("-token-file %s: line %d: token shorter than %d characters", path, n, minTokenLen)
		}
		sum := sha256.Sum256([]byte(fields[0]))
		if seen[sum] {
			return nil, fmt.Errorf("-token-file %s: line %d: the same token again", path, n)
		}
		seen[sum] = true
		t.sums, t.roles = append(t.sums, sum), append(t.roles, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-token-file %s: %w", path, err)
	}
	if len(t.sums) == 0 {
		return nil, fmt.Errorf("-token-file %s: no token in it", path)
	}
	return t, nil
}

// count returns how many read and write tokens t holds; nil holds none.
func (t *tokens) count() (readers, writers int) {
	if t == nil {
		return 0, 0
	}
	for _, r := range t.roles {
		if r == roleWrite {
			writers++
		} else {
			readers++
		}
	}
	return readers, writers
}

// lookup returns the role of the token, roleNone when it is not one of
// t's. It compares with every token, whatever matches, so its time does
// not say which one did.
func (t *tokens) lookup(token string) role {
	sum := sha256.Sum256([]byte(token))
	found := roleNone
	for i := range t.sums {
		if subtle.ConstantTimeCompare(sum[:], t.sums[i][:]) == 1 {
			found = t.roles[i]
		}
	}
	return found
}

// requireToken lets through only requests with a token of t: a read
// with any, anything else with a write token (see isRead; maxBody bounds
// what it reads of a batch). It answers 401 without a valid token and
// 403 for a read token that writes.
func requireToken(t *tokens, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		got := roleNone
		if ok && strings.EqualFold(scheme, "Bearer") {
			got = t.lookup(strings.TrimSpace(token))
		}
		switch {
		case got == roleNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="lastmodd"`)
			http.Error(w, "lastmodd: a valid bearer token is required", http.StatusUnauthorized)
		case got == roleWrite:
			next.ServeHTTP(w, r)
		default:
			read, r := isRead(r, maxBody)
			if !read {
				http.Error(w, "lastmodd: this token may only read", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		}
	})
}

// isRead reports whether r changes nothing: GET, HEAD and OPTIONS, and
// the batch read POST /kv/ {"get": […]}. To tell that batch from a write
// it reads the body, up to maxBody, decoding it as the handler does;
// anything it cannot tell (a body too large, malformed, or with "set")
// counts as a write. It returns the request to hand on: for a batch, a
// copy whose body is what it read. The original keeps its own body, so
// the server still sees how much of it is unread, and closes a
// connection it could not read to the end rather than reading the rest
// as the next request.
func isRead(r *http.Request, maxBody int64) (bool, *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true, r
	case http.MethodPost:
	default:
		return false, r
	}
	if r.URL.Path != "/kv/" || r.Body == nil {
		return false, r
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || int64(len(body)) > maxBody {
		return false, r
	}
	var batch struct {
		Get *[]string       `json:"get"`
		Set json.RawMessage `json:"set"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&batch) != nil {
		return false, r
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false, r
	}
	if batch.Get == nil || batch.Set != nil {
		return false, r
	}
	read := r.Clone(r.Context())
	read.Body = io.NopCloser(bytes.NewReader(body))
	return true, read
}
