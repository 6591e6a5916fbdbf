"""Dependencies of rules_oemimage for WORKSPACE users.

```
# After declaring io_bazel_rules_go and bazel_gazelle:
load("@rules_oemimage//rules:repositories.bzl", "rules_oemimage_dependencies")

rules_oemimage_dependencies()  # before go_rules_dependencies()

load("@io_bazel_rules_go//go:deps.bzl", "go_rules_dependencies")

go_rules_dependencies()
```

It also registers the default oemimage toolchain (the tool built from source), so a WORKSPACE
needs no `register_toolchains` line. A toolchain of your own registered before this call, or
with `--extra_toolchains`, takes precedence (`oemimage_toolchain` in docs/rules.md).

Bzlmod users get the same modules from go.mod through MODULE.bazel, which registers the same
toolchain.
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
    "github.com/sassoftware/relic/v8": ("com_github_sassoftware_relic_v8", "v8.2.0", "h1:9/L4S4I6an/JsPNhmcTpqfiOIsLb/iJaePZD1xR+ulE="),
    "software.sslmate.com/src/go-pkcs12": ("com_sslmate_software_src_go_pkcs12", "v0.5.0", "h1:EC6R394xgENTpZ4RltKydeDUjtlM5drOYIG9c6TVj2M="),
    # PKCS#11 tokens (tools/internal/p11): its cgo part is built only with the pkcs11 tag.
    "github.com/miekg/pkcs11": ("com_github_miekg_pkcs11", "v1.1.2", "h1:/VxmeAX5qU6Q3EwafypogwWbYryHFmF2RpkJmw3m4MQ="),
    "github.com/spf13/cobra": ("com_github_spf13_cobra", "v1.8.1", "h1:e5/vxKd/rZsfSJMUX1agtjeTDf+qv1/JdBF8gg5k9ZM="),
    "github.com/spf13/pflag": ("com_github_spf13_pflag", "v1.0.5", "h1:iy+VFUOCP1a+8yFto/drg2CJ5u0yRoB7fZw3DKv/JXA="),
    "github.com/inconshreveable/mousetrap": ("com_github_inconshreveable_mousetrap", "v1.1.0", "h1:wN+x4NVGpMsO7ErUn/mUI3vEoE6Jt13X2s0bqwp9tc8="),
    "golang.org/x/crypto": ("org_golang_x_crypto", "v0.32.0", "h1:euUpcYgM8WcP71gNpTqQCn6rC2t6ULUPiOzfWaXVVfc="),
    "golang.org/x/term": ("org_golang_x_term", "v0.41.0", "h1:QCgPso/Q3RTJx2Th4bDLqML4W6iJiaXFq2/ftQF13YU="),
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

def _go_repository_config_impl(rctx):
    # Gazelle, generating the BUILD files of one of these modules, resolves its imports of the
    # others through this file: without it, it would read only the user's WORKSPACE, which
    # does not list repositories declared by a macro, and drop those imports (the build then
    # fails in an external repository with "missing strict dependencies").
    lines = ["# Generated by rules_oemimage_dependencies(): the Go modules it declares, for Gazelle."]
    for importpath in sorted(rctx.attr.modules):
        lines.append('go_repository(name = "%s", importpath = "%s", build_naming_convention = "import_alias")' % (
            rctx.attr.modules[importpath],
            importpath,
        ))
    rctx.file("WORKSPACE", "\n".join(lines) + "\n")
    rctx.file("BUILD.bazel", 'exports_files(["WORKSPACE"])\n')

_go_repository_config = repository_rule(
    implementation = _go_repository_config_impl,
    attrs = {"modules": attr.string_dict(doc = "import path -> repository name")},
)

_CONFIG_REPO = "rules_oemimage_go_repository_config"

# A WORKSPACE macro of repositories and toolchains of fixed names, as go_rules_dependencies():
# a name argument would name nothing.
# buildifier: disable=unnamed-macro
def rules_oemimage_dependencies():
    """Declares the Go modules the oemimage tools need, and registers the default toolchain.

    Self-sufficient: the modules resolve their imports of one another through a repository
    config of their own, so a WORKSPACE needs no `# gazelle:repository` lines for them.
    Modules already declared are left as they are. Call it before go_rules_dependencies().

    The toolchain, `@rules_oemimage//tools:oemimage_toolchain`, runs the tool built from
    source for the execution platform. register_toolchains must be called from the
    WORKSPACE or from a macro it calls: this is such a macro, so users add nothing.
    """
    native.register_toolchains(str(Label("//tools:oemimage_toolchain")))
    if not native.existing_rule(_CONFIG_REPO):
        _go_repository_config(
            name = _CONFIG_REPO,
            modules = {importpath: spec[0] for importpath, spec in GO_MODULES.items()},
        )
    for importpath, (name, version, sum) in GO_MODULES.items():
        if native.existing_rule(name):
            continue
        go_repository(
            name = name,
            build_config = "@%s//:WORKSPACE" % _CONFIG_REPO,
            importpath = importpath,
            version = version,
            sum = sum,
            build_naming_convention = "import_alias",
            build_file_proto_mode = "disable_global",
        )
