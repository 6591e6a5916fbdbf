package pkggen

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// emptyHive is a minimal registry hive (regf): the base block, one 4 KiB hive bin holding the
// root key (nk, no subkeys or values), its security descriptor (sk, a self-relative descriptor
// with a NULL DACL) and one free cell. hivexregedit --merge needs a hive to merge into.
func emptyHive() []byte {
	const bin = 0x1000
	h := make([]byte, 0x1000+bin)
	le := binary.LittleEndian
	copy(h, "regf")
	le.PutUint32(h[4:], 1)  // primary sequence
	le.PutUint32(h[8:], 1)  // secondary sequence
	le.PutUint32(h[20:], 1) // major version
	le.PutUint32(h[24:], 3) // minor version
	le.PutUint32(h[28:], 0) // primary file
	le.PutUint32(h[32:], 1) // format: direct memory load
	le.PutUint32(h[36:], 0x20)
	le.PutUint32(h[40:], bin) // hive bins data size
	le.PutUint32(h[44:], 1)   // clustering factor
	var sum uint32
	for i := 0; i < 508; i += 4 {
		sum ^= le.Uint32(h[i:])
	}
	le.PutUint32(h[508:], sum)

	b := h[0x1000:]
	copy(b, "hbin")
	le.PutUint32(b[4:], 0)
	le.PutUint32(b[8:], bin)
	// Root nk at bin offset 0x20 (cell offset 0x20 from the first bin).
	const nkOff = 0x20
	nk := b[nkOff:]
	name := "ROOT"
	size := (4 + 0x4C + len(name) + 7) &^ 7
	skOff := nkOff + size // cells follow one another
	le.PutUint32(nk, uint32(-int32(size)))
	k := nk[4:]
	copy(k, "nk")
	le.PutUint16(k[2:], 0x2C)             // KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
	le.PutUint32(k[0x10:], 0xFFFFFFFF)    // parent
	le.PutUint32(k[0x1C:], 0xFFFFFFFF)    // subkey list
	le.PutUint32(k[0x20:], 0xFFFFFFFF)    // volatile subkey list
	le.PutUint32(k[0x28:], 0xFFFFFFFF)    // value list
	le.PutUint32(k[0x2C:], uint32(skOff)) // security
	le.PutUint32(k[0x30:], 0xFFFFFFFF)    // class name
	le.PutUint16(k[0x48:], uint16(len(name)))
	copy(k[0x4C:], name)
	// sk: a self-relative SECURITY_DESCRIPTOR with SE_DACL_PRESENT and no DACL (full access).
	sk := b[skOff:]
	desc := []byte{1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	skSize := (4 + 0x14 + len(desc) + 7) &^ 7
	le.PutUint32(sk, uint32(-int32(skSize)))
	s := sk[4:]
	copy(s, "sk")
	le.PutUint32(s[4:], uint32(skOff)) // flink: the only sk points at itself
	le.PutUint32(s[8:], uint32(skOff)) // blink
	le.PutUint32(s[12:], 1)            // reference count
	le.PutUint32(s[16:], uint32(len(desc)))
	copy(s[20:], desc)
	free := skOff + skSize
	le.PutUint32(b[free:], uint32(bin-free)) // the rest of the bin is one free cell
	return h
}

// hivexMerge merges a .reg file (UTF-16LE, as packages carry them) into a scratch hive with
// hivexregedit and exports HKEY_LOCAL_MACHINE back as regedit text: an independent parser's
// view of the file. It skips without libhivex-bin.
func hivexMerge(t *testing.T, reg []byte) string {
	t.Helper()
	tool, err := exec.LookPath("hivexregedit")
	if err != nil {
		t.Skip("hivexregedit not installed (Debian package libhivex-bin)")
	}
	dir := t.TempDir()
	hive := filepath.Join(dir, "scratch.hiv")
	if err := os.WriteFile(hive, emptyHive(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(regText(t, reg), "\r\n", "\n")
	// hivexregedit creates a key only under an existing parent: make the ancestors first (they
	// are in the export too; compare with regKeysOf, which lists them).
	root := ""
	for _, line := range strings.Split(text, "\n") {
		if key, ok := strings.CutPrefix(line, "["); ok {
			r, _, _ := strings.Cut(strings.TrimSuffix(key, "]"), `\`)
			if root != "" && r != root {
				t.Fatalf("hivexMerge: keys under %s and %s; a scratch hive holds one root", root, r)
			}
			root = r
		}
	}
	var pre strings.Builder
	pre.WriteString("Windows Registry Editor Version 5.00\n")
	made := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		key, ok := strings.CutPrefix(line, "[")
		if !ok {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(key, "]"), `\`)
		for i := 2; i < len(parts); i++ {
			anc := strings.Join(parts[:i], `\`)
			if !made[strings.ToLower(anc)] {
				made[strings.ToLower(anc)] = true
				pre.WriteString("\n[" + anc + "]\n")
			}
		}
	}
	preFile := filepath.Join(dir, "ancestors.reg")
	if err := os.WriteFile(preFile, []byte(pre.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--merge", "--prefix", root, hive, preFile).CombinedOutput(); err != nil {
		t.Fatalf("hivexregedit --merge (ancestors): %v\n%s", err, out)
	}
	// hivexregedit reads the file's bytes as characters (Win::Hivex::Regedit encodes each
	// "string" value to UTF-16LE from them): Latin-1 is the encoding it reads right.
	latin1 := make([]byte, 0, len(text))
	for _, c := range text {
		if c > 0xFF {
			t.Fatalf("hivexMerge: %q is beyond Latin-1, which hivexregedit cannot read from .reg text", c)
		}
		latin1 = append(latin1, byte(c))
	}
	regFile := filepath.Join(dir, "in.reg")
	if err := os.WriteFile(regFile, latin1, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--merge", "--prefix", root, hive, regFile).CombinedOutput(); err != nil {
		t.Fatalf("hivexregedit --merge: %v\n%s\n.reg:\n%s", err, out, text)
	}
	out, err := exec.Command(tool, "--export", "--prefix", root, hive, `\`).CombinedOutput()
	if err != nil {
		t.Fatalf("hivexregedit --export: %v\n%s", err, out)
	}
	return string(out)
}

// The scratch hive itself is one hivex opens and exports empty.
func TestEmptyHiveOpens(t *testing.T) {
	tool, err := exec.LookPath("hivexsh")
	if err != nil {
		t.Skip("hivexsh not installed (Debian package libhivex-bin)")
	}
	hive := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(hive, emptyHive(), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := func(write bool, script string) string {
		args := []string{hive}
		if write {
			args = []string{"-w", hive}
		}
		cmd := exec.Command(tool, args...)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hivexsh on the scratch hive: %v\n%s", err, out)
		}
		return string(out)
	}
	// Empty: the root has no subkeys and no values.
	if out := sh(false, "ls\nlsval\n"); strings.TrimSpace(out) != "" {
		t.Errorf("the scratch hive is not empty:\n%s", out)
	}
	// Writable: a key and a value committed read back from the file.
	sh(true, "add Probe\ncd Probe\nsetval 1\nName\nstring:v\ncommit\n")
	if out := sh(false, "ls\ncd Probe\nlsval\n"); !strings.Contains(out, "Probe") || !strings.Contains(out, `"Name"="v"`) {
		t.Errorf("the key and value written to the scratch hive do not read back:\n%s", out)
	}
}

// unescapeName undoes the escapes of a quoted value name in an export.
var unescapeName = strings.NewReplacer(`\\`, `\`, `\"`, `"`)

// checkHivex merges a package's .reg data into a scratch hive with hivexregedit and checks
// that every key and value of want reads back with its type and bytes.
func checkHivex(t *testing.T, reg []byte, want []registry.Value) {
	t.Helper()
	export := hivexMerge(t, reg)
	got := map[string]bool{}
	key := ""
	for _, line := range strings.Split(export, "\n") {
		line = strings.TrimRight(line, "\r")
		if k, ok := strings.CutPrefix(line, "["); ok {
			key = strings.ToLower(strings.TrimSuffix(k, "]"))
			got[key] = true
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok && key != "" {
			got[key+"\x00"+unescapeName.Replace(strings.Trim(name, `"`))+"="+value] = true
		}
	}
	for _, v := range want {
		k := strings.ToLower(v.Key)
		if !got[k] {
			t.Errorf("hivex: key %s missing; export:\n%s", v.Key, export)
		}
		if v.Type == "" {
			continue
		}
		name := v.Name
		hexes := make([]string, len(v.Data))
		for i, c := range v.Data {
			hexes[i] = fmt.Sprintf("%02x", c)
		}
		form := fmt.Sprintf("hex(%x):%s", registry.TypeCodes[v.Type], strings.Join(hexes, ","))
		if v.Type == "REG_DWORD" {
			form = fmt.Sprintf("dword:%08x", binary.LittleEndian.Uint32(v.Data))
		}
		if !got[k+"\x00"+name+"="+form] {
			t.Errorf("hivex: %s\\%s is not %s; export:\n%s", v.Key, v.Name, form, export)
		}
	}
}
