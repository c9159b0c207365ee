package guard_test

import (
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/guard"
)

// The accident orgguard exists to prevent: a deny-all SCP attached to Root
// of a 1,000-account organization on a Friday at 17:15 in Tokyo.
func ExampleGuard_Evaluate() {
	cfg := guard.Default()
	cfg.Windows.TimeZone = "Asia/Tokyo"
	cfg.Windows.Weekly = []guard.WeeklyWindow{{Spec: "Mon-Fri 01:00-05:00"}, {Spec: "Sat-Sun 00:00-24:00"}}
	g, err := guard.Compile(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	const actions = 15000
	in := guard.Input{
		Now:       time.Date(2023, 6, 2, 17, 15, 0, 0, time.FixedZone("JST", 9*3600)),
		Operation: "attach-policy",
		Targets:   []guard.Target{{ID: "r-ab12", Name: "Root", Kind: guard.KindRoot, AccountsUnder: 1000}},
		Impact:    guard.Impact{AccountsTotal: 1000, CatalogActions: actions},
	}
	for i := range 1000 {
		in.Impact.Accounts = append(in.Impact.Accounts, guard.AccountImpact{ID: fmt.Sprintf("%012d", 200000000000+i), NewlyDenied: actions})
	}
	v, err := g.Evaluate(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Decision, v.Risk, v.RequiredApprovals)
	for _, r := range v.Refusals() {
		fmt.Println("-", r.Rule)
	}
	fmt.Printf("type %q to confirm\n", v.ConfirmationText)
	// Output:
	// refused critical 2
	// - protected-target
	// - near-deny-all
	// - threshold
	// type "Root r-ab12 (1,000 accounts)" to confirm
}

// Apply re-checks the schedule at its own clock.
func ExampleSchedule_NextOpen() {
	s, err := guard.NewSchedule(guard.Windows{TimeZone: "Asia/Tokyo", Weekly: []guard.WeeklyWindow{{Spec: "Mon-Fri 01:00-05:00"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2023, 6, 2, 8, 15, 0, 0, time.UTC) // Friday 17:15 JST
	next, _ := s.NextOpen(now)
	fmt.Println(s.InWindow(now), next.In(s.Location()).Format("Mon 2006-01-02 15:04 MST"))
	// Output: false Mon 2023-06-05 01:00 JST
}
