"""Dependencies of rules_oemimage for WORKSPACE users.

```
# After declaring io_bazel_rules_go and bazel_gazelle:
load("@rules_oemimage//rules:repositories.bzl", "rules_oemimage_dependencies")

rules_oemimage_dependencies()  # before go_rules_dependencies()

load("@io_bazel_rules_go//go:deps.bzl", "go_rules_dependencies")

go_rules_dependencies()
```

Bzlmod users get the same modules from go.mod through MODULE.bazel.
"""

load("@bazel_gazelle//:deps.bzl", "go_repository")

# Go modules of the tools, with the versions and sums of go.mod and go.sum
# (tools/repocheck keeps them in step). golang.org/x/{sys,tools,xerrors} are also rules_go's
# own dependencies: declared here first, go_rules_dependencies() does not fetch other copies.
GO_MODULES = {
    "www.velocidex.com/golang/go-ntfs": ("com_velocidex_www_golang_go_ntfs", "v0.2.1", "h1:9oSN0CpBZTmM75F4cEpUdAiOW55afj0ZALpvRt8cBZw="),
    "github.com/Velocidex/json": ("com_github_velocidex_json", "v0.0.0-20220224052537-92f3c0326e5a", "h1:AeXPUzhU0yhID/v5JJEIkjaE85ASe+Vh4Kuv1RSLL+4="),
    "github.com/Velocidex/ordereddict": ("com_github_velocidex_ordereddict", "v0.0.0-20230909174157-2aa49cc5d11d", "h1:fn372EqKyazBxYUP5HPpBi3jId4MXuppEypEALGfvEk="),
    "github.com/Velocidex/yaml/v2": ("com_github_velocidex_yaml_v2", "v2.2.8", "h1:GUrSy4SBJ6RjGt43k6MeBKtw2z/27gh4A3hfFmFY3No="),
    "github.com/davecgh/go-spew": ("com_github_davecgh_go_spew", "v1.1.2-0.20180830191138-d8f796af33cc", "h1:U9qPSI2PIWSS1VwoXQT9A3Wy9MM3WgvqSxFWenqJduM="),
    "github.com/kr/text": ("com_github_kr_text", "v0.2.0", "h1:5Nx0Ya0ZqY2ygV366QzturHI13Jq95ApcVaJBhpS+AY="),
    "github.com/rogpeppe/go-internal": ("com_github_rogpeppe_go_internal", "v1.16.0", "h1:O9DK+vNMDVGLr2BeZqmpLeMjiMNkuXfcqntWbZV6S5g="),
    "github.com/diskfs/go-diskfs": ("com_github_diskfs_go_diskfs", "v1.9.4", "h1:0j2d7eG4IjyxL6+ChWbDPocdBCF6HQ4HBWU2WDYWVnc="),
    "github.com/elliotwutingfeng/asciiset": ("com_github_elliotwutingfeng_asciiset", "v0.0.0-20260129054604-cfde2086bc57", "h1:x5yxNrq8XffV/OoNUeFPM6hxHVi5OTspSTBxr/9pemg="),
    "github.com/google/uuid": ("com_github_google_uuid", "v1.6.0", "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0="),
    "github.com/beevik/etree": ("com_github_beevik_etree", "v1.8.1", "h1:MchsAnqPGCGsfQezhwcouHPlAHlcAOqWpyCVZoyWfjU="),
    "golang.org/x/sys": ("org_golang_x_sys", "v0.43.0", "h1:Rlag2XtaFTxp19wS8MXlJwTvoh8ArU6ezoyFsMyCTNI="),
    "golang.org/x/tools": ("org_golang_x_tools", "v0.1.11", "h1:loJ25fNOEhSXfHrpoGj91eCUThwdNX6u24rO1xnNteY="),
    "golang.org/x/xerrors": ("org_golang_x_xerrors", "v0.0.0-20200804184101-5ec99f83aff1", "h1:go1bK/D/BFZV2I8cIQd1NKEZ+0owSTG1fDTci4IqFcE="),
    "go.starlark.net": ("net_starlark_go", "v0.0.0-20260908191801-89a6a09411d5", "h1:X8HyonnLxrmAbdeMIEGEJVZ/yg6WykLZyAZmpCLSfMA="),
}

# Go modules in go.mod that only tools/gazelle (the gazelle language) uses: bazel_gazelle and
# gazelle_dependencies() declare them for WORKSPACE users, at gazelle's own versions.
GAZELLE_MODULES = [
    "github.com/bazelbuild/bazel-gazelle",
    "github.com/bazelbuild/buildtools",
    "github.com/bmatcuk/doublestar/v4",
    "golang.org/x/mod",
    "golang.org/x/tools/go/vcs",
]

def rules_oemimage_dependencies():
    """Declares the Go modules the oemimage tools need, unless already declared.

    Call it before go_rules_dependencies().
    """
    for importpath, (name, version, sum) in GO_MODULES.items():
        if native.existing_rule(name):
            continue
        go_repository(
            name = name,
            importpath = importpath,
            version = version,
            sum = sum,
            build_naming_convention = "import_alias",
            build_file_proto_mode = "disable_global",
        )
