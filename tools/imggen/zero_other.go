//go:build !linux

package imggen

import "os"

// zeroRange makes n bytes at off of f read as zeros.
func zeroRange(f *os.File, off, n int64) error { return writeZeros(f, off, n) }
