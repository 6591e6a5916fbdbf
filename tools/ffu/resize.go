package ffu

import "io/fs"

// emptyTo makes f a file of size bytes that reads as zeros (holes): the disk Extract writes
// sparsely and the FFU a Layout's Disk writes into. A file that is already empty is only
// extended, not first truncated to zero: on ext4 a truncation to zero marks the file for
// allocation of all its delayed blocks when it is closed (the auto_da_alloc heuristic), so the
// close of a fresh 2 GiB output written after one waited 1.2-1.5 s for the kernel to start
// writing it back, which nothing here needs (docs/performance.md).
func emptyTo(f interface{ Truncate(int64) error }, size int64) error {
	if s, ok := f.(interface{ Stat() (fs.FileInfo, error) }); !ok {
		if err := f.Truncate(0); err != nil {
			return err
		}
	} else if fi, err := s.Stat(); err != nil {
		return err
	} else if fi.Size() != 0 {
		if err := f.Truncate(0); err != nil {
			return err
		}
	}
	return f.Truncate(size)
}
