"""oemimage_toolchain: the oemimage tool as a toolchain of type `@rules_oemimage//tools:toolchain_type`."""

load("//rules:providers.bzl", "OemimageToolchainInfo")

def _oemimage_toolchain_impl(ctx):
    info = OemimageToolchainInfo(
        tool = ctx.attr.oemimage[DefaultInfo].files_to_run,
        label = ctx.attr.oemimage.label,
    )
    return [platform_common.ToolchainInfo(oemimage = info)]

oemimage_toolchain = rule(
    implementation = _oemimage_toolchain_impl,
    doc = """The oemimage tool the rules run, as a toolchain (`ToolchainInfo.oemimage`, an
`OemimageToolchainInfo`).

`rules_oemimage_dependencies()` (WORKSPACE) and MODULE.bazel register
`@rules_oemimage//tools:oemimage_toolchain`, the tool built from source. To use another build
(a prebuilt binary, say), either set `--@rules_oemimage//tools:oemimage=//my:oemimage` on the
command line (the default toolchain's tool is that label flag), or declare a toolchain of your
own and register it before `rules_oemimage_dependencies()` (or with `--extra_toolchains`), which
also lets a tool be chosen per execution platform:

```
oemimage_toolchain(
    name = "prebuilt_oemimage",
    oemimage = "//third_party/oemimage:oemimage",
)

toolchain(
    name = "prebuilt_oemimage_toolchain",
    exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    toolchain = ":prebuilt_oemimage",
    toolchain_type = "@rules_oemimage//tools:toolchain_type",
)
```""",
    attrs = {
        "oemimage": attr.label(
            mandatory = True,
            executable = True,
            # Built for the platform the actions run on, not the one the image is for.
            cfg = "exec",
            doc = "The oemimage executable.",
        ),
    },
)
