//go:build race

package imggen

// Under the race detector each image costs several times more: a handful of layouts there,
// the full run without it (tests/test_all.sh).
const genDefaultCases = 4
