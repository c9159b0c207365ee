package config

import (
	"path/filepath"
	"strings"
)

// resolveNotifyPaths makes the notices' template directory, the SMTP CA
// files and file: secret references relative to dir.
func (c *Config) resolveNotifyPaths(dir string) {
	rel := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	ref := func(p *string) {
		if f, ok := strings.CutPrefix(*p, "file:"); ok && f != "" && !filepath.IsAbs(f) {
			*p = "file:" + filepath.Join(dir, f)
		}
	}
	rel(&c.Notices.TemplateDir)
	for i := range c.Notify.Channels {
		ch := &c.Notify.Channels[i]
		rel(&ch.SMTP.CAFile)
		for _, p := range []*string{&ch.URL, &ch.Secret, &ch.RoutingKey, &ch.SMTP.Password} {
			ref(p)
		}
	}
}

// validateNotify checks the notices and notify sections.
func (c *Config) validateNotify(v *validator) {
	for _, err := range []error{c.Notices.Validate(), c.Notify.Validate()} {
		if err == nil {
			continue
		}
		for _, e := range unjoin(err) {
			key, _, _ := strings.Cut(e.Error(), ":")
			v.errorf(v.nearest(strings.NewReplacer("[", ".[").Replace(key)), "%v", e)
		}
	}
}
