package lzx

import (
	"fmt"
	"sync"
)

// Segments of a CAB folder are parsed in parallel: each by its own matcher, which first
// indexes up to segHistory bytes before the segment. The recent offsets start afresh at a
// segment, and the encoder, which runs in order, codes every match with the true ones, so
// the stream stays exact; a segment's first matches merely miss some history. Segment
// bounds depend on the data alone, so the bytes do not depend on the number of workers.
const (
	segFrames  = 64      // frames per segment: 2 MiB
	segHistory = 1 << 18 // history a segment's matcher sees before its start (capped by the window)
)

type segment struct {
	data   []byte // history, then the segment's frames, E8-translated
	start  int    // where the frames start in data
	frames []int  // frame sizes
	items  [][]item
	done   chan struct{}
	err    error
}

// EncodeCABFolder compresses a folder's data on workers goroutines. next fills its argument
// (32768 bytes) with the next frame and returns its size, 0 at the end of the folder; emit
// receives each frame's CFDATA payload and uncompressed size, in order.
func EncodeCABFolder(windowBits int, level Level, workers int, next func([]byte) (int, error), emit func(payload []byte, n int) error) error {
	if err := checkWindow(windowBits); err != nil {
		return err
	}
	if workers < 1 {
		workers = 1
	}
	window := 1 << windowBits
	hist := min(window, segHistory)
	p := levelParams(level)

	jobs := make(chan *segment)
	ordered := make(chan *segment, workers+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m matcher[int32]
			for s := range jobs {
				m.buf = s.data
				if cap(m.prev) < len(s.data) {
					m.prev = make([]int32, len(s.data))
					m.near = make([]int32, len(s.data))
				}
				m.prev, m.near = m.prev[:len(s.data)], m.near[:len(s.data)]
				m.reset(window-3, p)
				m.insertRange(0, min(s.start, len(s.data)-2))
				m.next = s.start
				r := [3]uint32{1, 1, 1}
				pos := s.start
				for _, n := range s.frames {
					s.items = append(s.items, m.parse(nil, 0, pos, pos+n, &r))
					pos += n
				}
				close(s.done)
			}
		}()
	}

	// The producer reads frames in order, translates them, and cuts segments.
	go func() {
		defer close(ordered)
		defer close(jobs)
		var tail []byte // the last hist bytes of translated data
		var total int64
		frame := 0
		for {
			s := &segment{done: make(chan struct{})}
			s.data = append(s.data, tail...)
			s.start = len(s.data)
			for len(s.frames) < segFrames {
				buf := make([]byte, FrameSize)
				n, err := next(buf)
				if err != nil {
					s.err = err
					break
				}
				if n == 0 {
					break
				}
				at := len(s.data)
				s.data = append(s.data, buf[:n]...)
				if frame < e8Frames {
					e8Encode(s.data[at:], total, wimFileSize)
				}
				s.frames = append(s.frames, n)
				total += int64(n)
				frame++
				if n < FrameSize {
					break // only a folder's last frame is short
				}
			}
			if len(s.frames) == 0 || s.err != nil {
				close(s.done)
				if s.err != nil || len(s.frames) > 0 {
					select {
					case ordered <- s:
					case <-stop:
					}
				}
				return
			}
			tail = append(tail[:0], s.data[max(0, len(s.data)-hist):]...)
			select {
			case ordered <- s:
			case <-stop:
				return
			}
			jobs <- s
			if s.frames[len(s.frames)-1] < FrameSize {
				return
			}
		}
	}()

	enc := &cabBlockWriter{}
	enc.e.reset(windowBits, false)
	var err error
	for s := range ordered {
		<-s.done
		if err == nil && s.err != nil {
			err = s.err
		}
		if err != nil {
			continue
		}
		pos := s.start
		for k, n := range s.frames {
			payload := enc.frame(s.data[pos:pos+n], s.items[k])
			if e := emit(payload, n); e != nil {
				err = e
				break
			}
			pos += n
		}
		if err != nil {
			close(stop)
			for range ordered {
			}
		}
	}
	wg.Wait()
	if err != nil {
		return fmt.Errorf("LZX: %w", err)
	}
	return nil
}

// cabBlockWriter writes the frames of a CAB stream in order.
type cabBlockWriter struct {
	e      blockEncoder
	w      bitWriter
	frames int
}

func (c *cabBlockWriter) frame(data []byte, items []item) []byte {
	c.w = bitWriter{out: c.w.out[:0]}
	if c.frames == 0 {
		c.w.put(1, 1)
		c.w.put(wimFileSize>>16, 16)
		c.w.put(wimFileSize&0xFFFF, 16)
	}
	c.w.flush()
	mark, acc, n := len(c.w.out), c.w.acc, c.w.n
	prevMain, prevLength := c.e.prevMain, c.e.prevLength
	c.e.writeBlock(&c.w, data, items)
	if c.w.flush(); len(c.w.out)-mark > len(data)+16 {
		c.w.out, c.w.acc, c.w.n = c.w.out[:mark], acc, n
		c.e.prevMain, c.e.prevLength = prevMain, prevLength
		c.e.writeUncompressed(&c.w, data)
	}
	c.w.align()
	c.frames++
	return c.w.out
}
