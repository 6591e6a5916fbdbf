package wim

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// WindowsInfo is the optional <WINDOWS> element of an image's XML data, which DISM and
// WIMGAPI fill in from the image's registry. Empty fields are left out.
type WindowsInfo struct {
	Arch             int // 0 x86, 5 ARM, 9 x64, 12 ARM64 (PROCESSOR_ARCHITECTURE_*)
	ProductName      string
	EditionID        string
	InstallationType string
	HAL              string
	ProductType      string
	ProductSuite     string
	Languages        []string
	DefaultLanguage  string
	Version          WindowsVersion
	SystemRoot       string
}

// WindowsVersion is <WINDOWS><VERSION>.
type WindowsVersion struct {
	Major, Minor, Build, SPBuild, SPLevel int
}

// ImageInfo is what the XML data says about one image.
type ImageInfo struct {
	Index              int
	Name               string
	Description        string
	DisplayName        string
	DisplayDescription string
	Flags              string
	DirCount           int64
	FileCount          int64
	TotalBytes         int64
	HardLinkBytes      int64
	CreationTime       uint64 // FILETIME
	LastModTime        uint64 // FILETIME
	Windows            *WindowsInfo
}

type xmlTime struct {
	High string `xml:"HIGHPART"`
	Low  string `xml:"LOWPART"`
}

func newXMLTime(ft uint64) *xmlTime {
	return &xmlTime{High: fmt.Sprintf("0x%08X", ft>>32), Low: fmt.Sprintf("0x%08X", ft&0xFFFFFFFF)}
}

func (t *xmlTime) filetime() uint64 {
	if t == nil {
		return 0
	}
	hi, _ := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(t.High)), "0x"), 16, 32)
	lo, _ := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(t.Low)), "0x"), 16, 32)
	return hi<<32 | lo
}

type xmlLanguages struct {
	Language []string `xml:"LANGUAGE"`
	Default  string   `xml:"DEFAULT,omitempty"`
}

type xmlVersion struct {
	Major   int `xml:"MAJOR"`
	Minor   int `xml:"MINOR"`
	Build   int `xml:"BUILD"`
	SPBuild int `xml:"SPBUILD"`
	SPLevel int `xml:"SPLEVEL"`
}

type xmlWindows struct {
	Arch             int           `xml:"ARCH"`
	ProductName      string        `xml:"PRODUCTNAME,omitempty"`
	EditionID        string        `xml:"EDITIONID,omitempty"`
	InstallationType string        `xml:"INSTALLATIONTYPE,omitempty"`
	HAL              string        `xml:"HAL,omitempty"`
	ProductType      string        `xml:"PRODUCTTYPE,omitempty"`
	ProductSuite     string        `xml:"PRODUCTSUITE,omitempty"`
	Languages        *xmlLanguages `xml:"LANGUAGES,omitempty"`
	Version          *xmlVersion   `xml:"VERSION,omitempty"`
	SystemRoot       string        `xml:"SYSTEMROOT,omitempty"`
}

// xmlImage lists the elements in the order WIMGAPI writes them.
type xmlImage struct {
	Index              string      `xml:"INDEX,attr"`
	DirCount           int64       `xml:"DIRCOUNT"`
	FileCount          int64       `xml:"FILECOUNT"`
	TotalBytes         int64       `xml:"TOTALBYTES"`
	HardLinkBytes      int64       `xml:"HARDLINKBYTES"`
	CreationTime       *xmlTime    `xml:"CREATIONTIME"`
	LastModTime        *xmlTime    `xml:"LASTMODIFICATIONTIME"`
	Windows            *xmlWindows `xml:"WINDOWS,omitempty"`
	Name               string      `xml:"NAME,omitempty"`
	Description        string      `xml:"DESCRIPTION,omitempty"`
	DisplayName        string      `xml:"DISPLAYNAME,omitempty"`
	DisplayDescription string      `xml:"DISPLAYDESCRIPTION,omitempty"`
	Flags              string      `xml:"FLAGS,omitempty"`
}

type xmlWIM struct {
	XMLName    xml.Name   `xml:"WIM"`
	TotalBytes int64      `xml:"TOTALBYTES"`
	Images     []xmlImage `xml:"IMAGE"`
}

// marshalXML returns the XML data resource: a UTF-16LE byte order mark and the document,
// without an XML declaration, as WIMGAPI and wimlib write it.
func marshalXML(totalBytes int64, img ImageInfo) ([]byte, error) {
	x := xmlWIM{TotalBytes: totalBytes, Images: []xmlImage{{
		Index:              strconv.Itoa(img.Index),
		DirCount:           img.DirCount,
		FileCount:          img.FileCount,
		TotalBytes:         img.TotalBytes,
		HardLinkBytes:      img.HardLinkBytes,
		CreationTime:       newXMLTime(img.CreationTime),
		LastModTime:        newXMLTime(img.LastModTime),
		Name:               img.Name,
		Description:        img.Description,
		DisplayName:        img.DisplayName,
		DisplayDescription: img.DisplayDescription,
		Flags:              img.Flags,
	}}}
	if w := img.Windows; w != nil {
		xw := &xmlWindows{
			Arch: w.Arch, ProductName: w.ProductName, EditionID: w.EditionID,
			InstallationType: w.InstallationType, HAL: w.HAL, ProductType: w.ProductType,
			ProductSuite: w.ProductSuite, SystemRoot: w.SystemRoot,
			Version: &xmlVersion{w.Version.Major, w.Version.Minor, w.Version.Build, w.Version.SPBuild, w.Version.SPLevel},
		}
		if len(w.Languages) > 0 || w.DefaultLanguage != "" {
			xw.Languages = &xmlLanguages{Language: w.Languages, Default: w.DefaultLanguage}
		}
		x.Images[0].Windows = xw
	}
	doc, err := xml.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("XML data: %w", err)
	}
	u := utf16.Encode([]rune(string(doc)))
	out := make([]byte, 2+2*len(u))
	out[0], out[1] = 0xFF, 0xFE
	for i, c := range u {
		binary.LittleEndian.PutUint16(out[2+2*i:], c)
	}
	return out, nil
}

// parseXML decodes the XML data resource (UTF-16LE, with or without a byte order mark).
func parseXML(b []byte) (string, []ImageInfo, error) {
	if len(b)%2 != 0 {
		return "", nil, fmt.Errorf("XML data: %d bytes, not whole UTF-16 units", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	if len(u) > 0 && u[0] == 0xFEFF {
		u = u[1:]
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	text := string(utf16.Decode(u))
	var x xmlWIM
	dec := xml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&x); err != nil {
		return text, nil, fmt.Errorf("XML data: %w", err)
	}
	var imgs []ImageInfo
	for _, xi := range x.Images {
		idx, err := strconv.Atoi(strings.TrimSpace(xi.Index))
		if err != nil {
			return text, nil, fmt.Errorf("XML data: IMAGE INDEX %q is not a number", xi.Index)
		}
		img := ImageInfo{
			Index: idx, Name: xi.Name, Description: xi.Description, DisplayName: xi.DisplayName,
			DisplayDescription: xi.DisplayDescription, Flags: xi.Flags, DirCount: xi.DirCount,
			FileCount: xi.FileCount, TotalBytes: xi.TotalBytes, HardLinkBytes: xi.HardLinkBytes,
			CreationTime: xi.CreationTime.filetime(), LastModTime: xi.LastModTime.filetime(),
		}
		if w := xi.Windows; w != nil {
			img.Windows = &WindowsInfo{
				Arch: w.Arch, ProductName: w.ProductName, EditionID: w.EditionID,
				InstallationType: w.InstallationType, HAL: w.HAL, ProductType: w.ProductType,
				ProductSuite: w.ProductSuite, SystemRoot: w.SystemRoot,
			}
			if w.Languages != nil {
				img.Windows.Languages = w.Languages.Language
				img.Windows.DefaultLanguage = w.Languages.Default
			}
			if v := w.Version; v != nil {
				img.Windows.Version = WindowsVersion{v.Major, v.Minor, v.Build, v.SPBuild, v.SPLevel}
			}
		}
		imgs = append(imgs, img)
	}
	return text, imgs, nil
}
