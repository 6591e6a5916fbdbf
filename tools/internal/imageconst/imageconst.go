// Package imageconst holds the constants that image writers and readers share: the device
// paths ImageApp reads and writes, and the fixed time stamped on everything an image holds.
// It is a leaf, so that a reader (imagecheck, capture, the CLI) needs no writer for them.
package imageconst

import "time"

// Device paths ImageApp reads or writes.
const (
	DeviceLayoutPath   = `\Windows\ImageUpdate\DeviceLayout.xml`
	DevicePlatformPath = `\Windows\ImageUpdate\OEMDevicePlatform.xml`
	UpdateHistoryPath  = `\Windows\ImageUpdate\UpdateHistory.xml`
	UpdateOutputPath   = `\SharedData\DuShared\UpdateOutput.xml`
	// RegistryFilesDir holds each package's registry settings, <package>.reg (PkgGen), and
	// customization's OEMSettings.reg.
	RegistryFilesDir = `\Windows\Packages\RegistryFiles`
)

// Epoch stamps update records, file systems and WIM entries: fixed, so that images are
// reproducible; SOURCE_DATE_EPOCH overrides it where a tool takes a time.
var Epoch = time.Date(2015, 7, 29, 0, 0, 0, 0, time.UTC)
