package policy

// UnknownActions returns a warning (code "unknown-action") at every Action
// or NotAction pattern of d that check says matches no known action; the
// message is check's reason (for the AWS action catalog: its date and the
// nearest names). IAM accepts such actions, but they never match a
// request, so a statement naming only them does nothing: a typo in a Deny
// is a hole nobody sees.
func (d *Document) UnknownActions(check func(pattern string) (ok bool, why string)) []Finding {
	var fs findings
	for _, s := range d.Statements {
		for _, a := range s.Actions {
			if a.S == "*" {
				continue
			}
			if ok, why := check(a.S); !ok {
				fs.warnf(a.Pos, "unknown-action", "%s", why)
			}
		}
	}
	return fs
}
