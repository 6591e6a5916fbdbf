module github.com/oemimage/rules_oemimage

go 1.26

require (
	github.com/beevik/etree v1.8.1
	github.com/diskfs/go-diskfs v1.9.4
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
)

require (
	github.com/elliotwutingfeng/asciiset v0.0.0-20260129054604-cfde2086bc57 // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
