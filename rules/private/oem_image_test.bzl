"""oem_image_test: checks an image with tools nobody in this project wrote."""

load("//rules:providers.bzl", "ImageInfo", "WimInfo")

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _oem_image_test_impl(ctx):
    info = ctx.attr.image[ImageInfo]
    packages = info.packages.to_list()
    if info.customization_packages:
        # The customization packages ImgGen made: the image lists them like any other.
        packages = packages + [info.customization_packages]
    args = [info.ffu.short_path] + ["--package=" + f.short_path for f in packages]
    tool = _shell_quote(ctx.executable._imagecheck.short_path)
    lines = ["#!/bin/sh", "set -e", "%s %s" % (tool, " ".join([_shell_quote(a) for a in args]))]
    files = [info.ffu] + packages
    if ctx.attr.same_files_as:
        other = ctx.attr.same_files_as[ImageInfo].ffu
        lines.append("%s %s %s" % (tool, _shell_quote(info.ffu.short_path), _shell_quote("--same-files-as=" + other.short_path)))
        files.append(other)
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    runfiles = ctx.runfiles(files = files).merge(ctx.attr._imagecheck[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

oem_image_test = rule(
    implementation = _oem_image_test_impl,
    test = True,
    doc = """Checks an `oem_image` with independent tools: the FFU's hashes, `sgdisk -v` on the
extracted disk, `fsck.fat -n` on every FAT partition, and, for every package the image's
UpdateHistory.xml lists, `mtype` (mtools) reading each of the package's files at its device path
with the package's content. The tools come from Debian (gdisk, dosfstools, mtools), which the
bootstrap installs.

With `same_files_as`, also checks that the two images hold the same device files with the same
content, the records of how they were packaged (DSMs, catalogs, update histories) aside: what
building from merged packages must preserve.""",
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo], doc = "The `oem_image` to check."),
        "same_files_as": attr.label(providers = [ImageInfo], doc = "Another `oem_image` that must hold the same device files."),
        "_imagecheck": attr.label(
            default = Label("//tools/imagecheck"),
            executable = True,
            cfg = "target",
        ),
    },
)

def _wim_image_test_impl(ctx):
    info = ctx.attr.wim[WimInfo]
    tool = _shell_quote(ctx.executable._imagecheck.short_path)
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "#!/bin/sh\nexec %s %s %s\n" % (
        tool,
        _shell_quote(info.ffu.short_path),
        _shell_quote("--wim=" + info.wim.short_path),
    ), is_executable = True)
    runfiles = ctx.runfiles(files = [info.ffu, info.wim]).merge(ctx.attr._imagecheck[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

wim_image_test = rule(
    implementation = _wim_image_test_impl,
    test = True,
    doc = """Checks a `wim_image` with wimlib-imagex (Debian's wimtools): `verify`, `info` (one image,
boot index 1) and `apply`, whose files must be exactly those of the MainOS partition of the FFU
it was captured from, names and content.""",
    attrs = {
        "wim": attr.label(mandatory = True, providers = [WimInfo], doc = "The `wim_image` to check."),
        "_imagecheck": attr.label(
            default = Label("//tools/imagecheck"),
            executable = True,
            cfg = "target",
        ),
    },
)
