package ffu

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// memTrunc is a file without Stat: emptyTo must truncate it to zero first.
type memTrunc struct {
	data  []byte
	calls []int64
}

func (m *memTrunc) Truncate(n int64) error {
	m.calls = append(m.calls, n)
	if n <= int64(len(m.data)) {
		m.data = m.data[:n]
	} else {
		m.data = append(m.data, make([]byte, n-int64(len(m.data)))...)
	}
	return nil
}

func TestEmptyTo(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		old  []byte
	}{
		{"fresh", nil},
		{"shorter", bytes.Repeat([]byte{0xA5}, 100)},
		{"longer", bytes.Repeat([]byte{0x5A}, 10000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, tc.old, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := emptyTo(f, 4096); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, make([]byte, 4096)) {
				t.Errorf("after emptyTo(4096) the file is %d bytes, not 4096 zeros", len(got))
			}
		})
	}
	m := &memTrunc{data: []byte("old bytes")}
	if err := emptyTo(m, 16); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.data, make([]byte, 16)) || len(m.calls) != 2 || m.calls[0] != 0 {
		t.Errorf("a file without Stat: truncations %v, data %q; want [0 16] and 16 zeros", m.calls, m.data)
	}
}
