package web

import (
	"bytes"
	"crypto/sha1"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// The Atom feed of the status page (RFC 4287): one entry per published
// update of every incident in the history window, newest first, in the
// request's language (?lang=, the cookie, Accept-Language), with the
// other language's text where an update has none in it.

// atomFeed is an Atom feed document.
type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"xml:lang,attr"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomPerson  `xml:"author"`
	Gen      atomGen     `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr,omitempty"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	Hreflang string `xml:"hreflang,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomGen struct {
	URI  string `xml:"uri,attr,omitempty"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	Lang      string         `xml:"xml:lang,attr,omitempty"`
	ID        string         `xml:"id"`
	Title     string         `xml:"title"`
	Updated   string         `xml:"updated"`
	Published string         `xml:"published"`
	Links     []atomLink     `xml:"link"`
	Category  []atomCategory `xml:"category"`
	Content   atomText       `xml:"content"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// atomTime writes t as an RFC 3339 date-time in UTC.
func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// uuidURN makes a stable urn:uuid (version 5 layout, SHA-1 of the parts)
// for an Atom id: ids must never change, and the page may move.
func uuidURN(parts ...string) string {
	sum := sha1.Sum([]byte("orgguard/atom\x00" + strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// absolute prefixes path with the page's public URL when there is one
// (server.publicURL); else the path stays relative to the feed's URL.
func absolute(p app.PublicPage, path string) string {
	return strings.TrimRight(p.URL, "/") + path
}

// feed builds the Atom feed of p in lang.
func (s *Server) feed(p app.PublicPage, lang string) ([]byte, error) {
	l := s.statusLocalizer(p, lang)
	f := atomFeed{
		Lang: lang, ID: uuidURN("feed", p.ID, lang), Title: l.T("feed.title", p.Name),
		Subtitle: l.T("api.indicator." + indicatorKey(p)),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: absolute(p, "/history.atom?lang="+lang)},
			{Rel: "alternate", Type: "text/html", Href: absolute(p, "/?lang="+lang), Hreflang: lang},
		},
		Author: atomPerson{Name: p.Name, URI: p.URL},
		Gen:    atomGen{URI: "https://github.com/orgguard/orgguard", Text: "orgguard"},
	}
	type dated struct {
		at    time.Time
		entry atomEntry
	}
	var entries []dated
	for _, in := range p.History {
		link := absolute(p, "/incidents/"+in.ID+"?lang="+lang)
		for _, u := range in.Updates {
			text, tl := u.Text(lang)
			e := atomEntry{
				ID: uuidURN("update", p.ID, u.ID, lang), Title: text.Title,
				Updated: atomTime(u.At), Published: atomTime(u.At),
				Links:    []atomLink{{Rel: "alternate", Type: "text/html", Href: link, Hreflang: lang}},
				Category: []atomCategory{{Term: string(u.State), Label: l.T("state." + string(u.State))}, {Term: string(in.Severity), Label: l.T("severity." + string(in.Severity))}},
				Content:  atomText{Type: "text", Text: text.Body},
			}
			if tl != lang {
				e.Lang = tl
			}
			if e.Title == "" {
				e.Title = l.T("api.unnamed")
			}
			entries = append(entries, dated{u.At, e})
		}
	}
	slices.SortStableFunc(entries, func(a, b dated) int { return b.at.Compare(a.at) })
	updated := p.UpdatedAt
	for _, e := range entries {
		f.Entries = append(f.Entries, e.entry)
		if e.at.After(updated) {
			updated = e.at
		}
	}
	f.Updated = atomTime(updated)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding the Atom feed: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// statusFeed serves the Atom feed.
func (s *Server) statusFeed(w http.ResponseWriter, r *http.Request) error {
	return s.serveStatus(w, r, "feed", "application/atom+xml; charset=utf-8", nil, s.feed)
}
