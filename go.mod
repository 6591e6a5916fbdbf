module github.com/oemimage/rules_oemimage

go 1.26

require (
	github.com/beevik/etree v1.8.1
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
)

require golang.org/x/sys v0.43.0 // indirect
