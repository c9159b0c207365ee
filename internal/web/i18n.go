package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"golang.org/x/text/language"
)

// The message catalogs, one JSON object of key → text per language
// (messages/<lang>.json). Every language has every key (loadCatalog
// checks); a text may hold fmt verbs filled by t's arguments.
//
//go:embed messages/*.json
var messageFiles embed.FS

// languages are the languages pages are shown in, the default first.
var languages = []language.Tag{language.English, language.Japanese}

// langCookie remembers a visitor's choice of language (?lang=).
const langCookie = "lang"

// catalog holds each language's messages.
type catalog map[string]map[string]string

// loadCatalog reads the embedded catalogs and checks that every language
// has the same keys.
func loadCatalog() (catalog, error) {
	c := catalog{}
	for _, tag := range languages {
		lang := tag.String()
		data, err := messageFiles.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("reading the %s messages: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("reading the %s messages: %w", lang, err)
		}
		c[lang] = m
	}
	base := slices.Sorted(maps.Keys(c[languages[0].String()]))
	for lang, m := range c {
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, base) {
			return nil, fmt.Errorf("reading the %s messages: its keys differ from the %s ones", lang, languages[0])
		}
	}
	return c, nil
}

// localizer translates for one request.
type localizer struct {
	lang string
	msgs map[string]string
	zone *time.Location // nil: UTC
}

// T returns the text of key in the request's language, with args filled
// in; an unknown key comes back bracketed so it shows (tests keep the
// templates' keys in the catalogs).
func (l localizer) T(key string, args ...any) string {
	text, ok := l.msgs[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

// Time formats t for the request's language in the configured zone
// (notices.timeZone).
func (l localizer) Time(t time.Time) string {
	zone := l.zone
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format(l.T("format.time"))
}

// localizer chooses the request's language: ?lang= (then remembered in a
// cookie), else the cookie, else Accept-Language, else English.
func (s *Server) localizer(w http.ResponseWriter, r *http.Request) localizer {
	lang := negotiate(w, r, s.matcher, s.o.TLS)
	return localizer{lang: lang, msgs: s.messages[lang], zone: s.zone}
}

func negotiate(w http.ResponseWriter, r *http.Request, m language.Matcher, secure bool) string {
	w.Header().Set("Vary", "Accept-Language, Cookie")
	if q := r.URL.Query().Get("lang"); supported(q) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return languages[0].String()
	}
	_, i, conf := m.Match(tags...)
	if conf == language.No {
		return languages[0].String()
	}
	return languages[i].String()
}

// supported reports whether lang is one of the page languages.
func supported(lang string) bool {
	return slices.ContainsFunc(languages, func(t language.Tag) bool { return t.String() == lang })
}
