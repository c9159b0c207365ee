package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/postmortem"
	"github.com/orgguard/orgguard/internal/store"
)

// markdown renders Markdown to HTML safe to put in a page: goldmark
// without its unsafe option drops raw HTML (it writes a comment in its
// place) and links and images with dangerous URLs (javascript: and the
// like); the text itself is escaped. Tables and strikethrough are
// GitHub's.
var markdownOptions = []goldmark.Option{goldmark.WithExtensions(extension.Table, extension.Strikethrough)}

// renderMarkdown renders src (see markdownOptions).
func renderMarkdown(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := goldmark.New(markdownOptions...).Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("rendering Markdown: %w", err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // goldmark without WithUnsafe escapes text and drops raw HTML
}

// teamPostmortemView is the postmortem editor's data.
type teamPostmortemView struct {
	team
	Incident store.Incident
	State    string
	Fields   []pmField
	Preview  []pmPreview
}

type pmField struct {
	Name  string // postmortem.Fields name
	Key   string // its label's catalog key
	Value string
}

type pmPreview struct {
	Lang     string
	HTML     template.HTML
	Markdown string
}

func (s *Server) teamPostmortemView(r *http.Request, a *app.App, id string) (*teamPostmortemView, error) {
	pm, err := a.PostmortemRecord(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d, err := a.IncidentDetail(r.Context(), id)
	if err != nil {
		return nil, err
	}
	v := &teamPostmortemView{team: teamOf(r, "incidents"), Incident: d.Incident, State: pm.State}
	for _, f := range postmortem.Fields {
		v.Fields = append(v.Fields, pmField{Name: f, Key: "team.pm." + f, Value: pm.Fields[f]})
	}
	for _, lang := range notice.Languages {
		md, err := a.Postmortem(r.Context(), id, lang)
		if err != nil {
			return nil, err
		}
		html, err := renderMarkdown(md)
		if err != nil {
			return nil, err
		}
		v.Preview = append(v.Preview, pmPreview{Lang: lang, HTML: html, Markdown: md})
	}
	return v, nil
}

// teamPostmortem is the postmortem editor: the editable fields, and the
// postmortem rendered in every language.
func (s *Server) teamPostmortem(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	v, err := s.teamPostmortemView(r, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_postmortem", v)
}

// teamPostmortemSave saves the editor's fields (app.EditPostmortem,
// audited as the signed-in user).
func (s *Server) teamPostmortemSave(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	fields := map[string]string{}
	for _, f := range postmortem.Fields {
		if vs, ok := r.PostForm[f]; ok && len(vs) > 0 {
			fields[f] = vs[0]
		}
	}
	if _, err := a.EditPostmortem(r.Context(), id, fields, r.PostFormValue("state")); err != nil {
		status, ok := refusal(err)
		if !ok {
			return err
		}
		v, verr := s.teamPostmortemView(r, a, id)
		if verr != nil {
			return verr
		}
		v.Error = err.Error()
		return s.render(w, r, status, "team_postmortem", v)
	}
	return seeOther(w, r, "/team/incidents/"+id+"/postmortem", "saved")
}
