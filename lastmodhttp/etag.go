package lastmodhttp

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errMalformed is what parseETags returns for a header that is neither "*"
// nor a comma-separated list of entity tags.
var errMalformed = errors.New("lastmodhttp: malformed entity-tag list")

// entityTag is one parsed entity-tag: its opaque part without the quotes.
type entityTag struct {
	opaque string
	weak   bool
}

// etagList is a parsed If-Match or If-None-Match: "*" or a list of tags.
type etagList struct {
	any  bool
	tags []entityTag
}

// formatETag is the strong entity-tag of a revision.
func formatETag(revision uint64) string {
	return `"` + strconv.FormatUint(revision, 10) + `"`
}

// parseETags parses the values of an If-Match or If-None-Match header
// (several header lines make one list, as RFC 9110 §5.3 says). It returns
// errMalformed for anything but "*" alone or a non-empty list of
// entity-tags separated by commas and optional whitespace; empty list
// elements are allowed, as #rule says, but not a list of nothing.
func parseETags(values []string) (etagList, error) {
	var list etagList
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t")
			if v == "" {
				break
			}
			if v[0] == ',' {
				v = v[1:]
				continue
			}
			if v[0] == '*' {
				list.any = true
				v = v[1:]
			} else {
				tag, rest, ok := scanETag(v)
				if !ok {
					return etagList{}, errMalformed
				}
				list.tags = append(list.tags, tag)
				v = rest
			}
			v = strings.TrimLeft(v, " \t")
			if v != "" && v[0] != ',' {
				return etagList{}, errMalformed
			}
		}
	}
	if list.any && len(list.tags) > 0 || !list.any && len(list.tags) == 0 {
		return etagList{}, errMalformed
	}
	return list, nil
}

// scanETag reads one entity-tag from the start of s (RFC 9110 §8.8.3:
// [W/] DQUOTE *etagc DQUOTE) and returns it with the rest of s.
func scanETag(s string) (entityTag, string, bool) {
	var tag entityTag
	if strings.HasPrefix(s, "W/") {
		tag.weak = true
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return entityTag{}, "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			tag.opaque = s[1:i]
			return tag, s[i+1:], true
		case c == 0x21 || c >= 0x23 && c != 0x7f:
			// etagc: %x21 / %x23-7E / obs-text
		default:
			return entityTag{}, "", false
		}
	}
	return entityTag{}, "", false
}

// matchStrong reports whether an item at revision (0: absent) matches the
// list under the strong comparison If-Match uses: "*" matches any item,
// a tag only a strong tag of that revision.
func (l etagList) matchStrong(revision uint64) bool { return l.match(revision, false) }

// matchWeak is matchStrong under the weak comparison If-None-Match uses:
// W/"5" matches revision 5 too.
func (l etagList) matchWeak(revision uint64) bool { return l.match(revision, true) }

func (l etagList) match(revision uint64, weak bool) bool {
	if revision == 0 {
		return false
	}
	if l.any {
		return true
	}
	want := strconv.FormatUint(revision, 10)
	for _, t := range l.tags {
		if (weak || !t.weak) && t.opaque == want {
			return true
		}
	}
	return false
}

// parseDate parses an HTTP-date header value. ok is false for an absent or
// malformed date, which RFC 9110 §13.1.3 and §13.1.4 say to ignore.
func parseDate(value string) (t time.Time, ok bool) {
	if value == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseSince parses the modified-since query parameter: RFC 3339 (with or
// without fractional seconds) or an HTTP-date.
func parseSince(value string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, value); err == nil {
		return t, true
	}
	return parseDate(value)
}

// modifiedAfter reports whether an item modified at lastModified was
// modified after the HTTP-date t, at the one-second precision HTTP dates
// have: an item written at 10:00:00.7 was not modified after 10:00:00.
func modifiedAfter(lastModified, t time.Time) bool {
	return lastModified.Truncate(time.Second).After(t)
}
