package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/volume"
)

// changeDeviceLayout returns a valid image whose MainOS directory entry of DeviceLayout.xml
// (its 32 bytes) change changes, the FFU sealed again so that the change passes verification.
func changeDeviceLayout(t *testing.T, change func(entry []byte)) []byte {
	t.Helper()
	b := validFFU(t)
	name := []byte("DEVICE~1XML")
	i := bytes.Index(b, name)
	if i < 0 || bytes.Index(b[i+1:], name) >= 0 {
		t.Fatal("expected one directory entry DEVICE~1XML in the image")
	}
	change(b[i : i+32])
	r := openFFUBytes(t, b)
	return seal(t, r.Security.ChunkSizeKB, b[r.ImageOffset:])
}

// A DeviceLayout.xml that cannot be read is reported with the reader's reason: corrupt, or
// not there.
func TestImgToWIMDeviceLayoutReason(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(entry []byte)
	}{
		{"start cluster past the volume", func(e []byte) {
			binary.LittleEndian.PutUint16(e[20:], 0x0FFF)
			binary.LittleEndian.PutUint16(e[26:], 0xFFF0)
		}},
		{"deleted", func(e []byte) { e[0] = 0xE5 }},
	} {
		t.Run(tt.name, func(t *testing.T) { imgToWIMDeviceLayout(t, changeDeviceLayout(t, tt.change)) })
	}
}

// imgToWIMDeviceLayout runs imgtowim on an image whose DeviceLayout.xml does not read and
// checks that the error gives the volume reader's reason for it.
func imgToWIMDeviceLayout(t *testing.T, ffuBytes []byte) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.ffu")
	if err := os.WriteFile(in, ffuBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	// The reason, as the volume reader gives it.
	im, err := volume.OpenImage(in, true)
	if err != nil {
		t.Fatal(err)
	}
	vol, err := im.Volume(im.Partition("MainOS"))
	if err != nil {
		t.Fatal(err)
	}
	_, reason := vol.ReadFile(imageconst.DeviceLayoutPath)
	im.Close()
	if reason == nil {
		t.Fatal("the changed DeviceLayout.xml reads")
	}
	err = runImgToWIM([]string{in, filepath.Join(dir, "out.wim")}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	want := in + ": MainOS: " + reason.Error() + "; expected the device layout ImgGen writes there"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant it to contain %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.wim")); err == nil {
		t.Error("a WIM was written")
	}
}
