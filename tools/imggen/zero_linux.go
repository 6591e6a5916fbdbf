package imggen

import (
	"os"
	"syscall"
)

// zeroRange makes n bytes at off of f read as zeros: a hole punched (FALLOC_FL_PUNCH_HOLE |
// FALLOC_FL_KEEP_SIZE), which frees the space too, or zeros written where the file system
// cannot punch one.
func zeroRange(f *os.File, off, n int64) error {
	const punchHole, keepSize = 0x02, 0x01
	if err := syscall.Fallocate(int(f.Fd()), punchHole|keepSize, off, n); err == nil {
		return nil
	}
	return writeZeros(f, off, n)
}
