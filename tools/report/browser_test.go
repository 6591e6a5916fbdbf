package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// TestBrowser renders the fixture image's report in Debian's chromium, headless, and checks
// the screenshot: not blank, and the partition map's colours on it. REPORT_SCREENSHOT=FILE
// keeps the screenshot, REPORT_WINDOW=1200,1500 sets the window (docs/report.png is one).
func TestBrowser(t *testing.T) {
	chromium := checker.Find(t, "chromium")
	ffuPath, selPath := fixture(t, testimage.Options{}, nil)
	_, data := render(t, ffuPath, selPath)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, data, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	window, w, h := "1200,900", 1200, 900
	if win := os.Getenv("REPORT_WINDOW"); win != "" {
		if _, err := fmt.Sscanf(win, "%d,%d", &w, &h); err != nil {
			t.Fatalf("REPORT_WINDOW=%s: want WIDTH,HEIGHT", win)
		}
		window = win
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size="+window, "file://"+page)
	// chromium writes its profile and caches under HOME: a test's HOME may not be writable.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	png1, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(png1))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot %v, want %dx%d", b, w, h)
	}
	seen := colourCounts(img)
	if len(seen) < 2 {
		t.Fatalf("the screenshot is blank: %d colours", len(seen))
	}
	// The partition map: MainOS and Data are FAT32 (used and free), EFIESP FAT16.
	for _, c := range []string{Colours["FAT32"][0], Colours["FAT32"][1], Colours["FAT16"][0], Colours["FAT16"][1]} {
		if seen[c] < 20 {
			t.Errorf("colour %s: %d pixels; the partition map is not drawn (%d colours)", c, seen[c], len(seen))
		}
	}
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, png1, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// colourCounts counts the pixels of each colour, as #rrggbb.
func colourCounts(img image.Image) map[string]int {
	m := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			m[fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, bl>>8)]++
		}
	}
	return m
}
