module github.com/oemimage/rules_oemimage

go 1.26

require (
	github.com/bazelbuild/bazel-gazelle v0.26.0
	github.com/bazelbuild/buildtools v0.0.0-20220531122519-a43aed7014c8
	github.com/beevik/etree v1.8.1
	github.com/diskfs/go-diskfs v1.9.4
	github.com/miekg/pkcs11 v1.1.2
	github.com/sassoftware/relic/v8 v8.2.0
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	software.sslmate.com/src/go-pkcs12 v0.5.0
	www.velocidex.com/golang/go-ntfs v0.2.1
)

require (
	github.com/Velocidex/json v0.0.0-20220224052537-92f3c0326e5a // indirect
	github.com/Velocidex/ordereddict v0.0.0-20230909174157-2aa49cc5d11d // indirect
	github.com/Velocidex/yaml/v2 v2.2.8 // indirect
	github.com/bmatcuk/doublestar/v4 v4.0.2 // indirect
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc // indirect
	github.com/elliotwutingfeng/asciiset v0.0.0-20260129054604-cfde2086bc57 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	github.com/spf13/cobra v1.8.1 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
	golang.org/x/crypto v0.32.0 // indirect
	golang.org/x/mod v0.21.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
	golang.org/x/term v0.41.0 // indirect
	golang.org/x/tools/go/vcs v0.1.0-deprecated // indirect
)
