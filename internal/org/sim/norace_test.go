//go:build !race

package sim

// raceEnabled is true when the race detector slows everything down.
const raceEnabled = false
