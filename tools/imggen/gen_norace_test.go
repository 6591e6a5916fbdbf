//go:build !race

package imggen

const genDefaultCases = 40
