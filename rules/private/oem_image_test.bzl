"""oem_image_test: checks an image with tools nobody in this project wrote."""

load("//rules:providers.bzl", "ImageInfo")

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _oem_image_test_impl(ctx):
    info = ctx.attr.image[ImageInfo]
    packages = info.packages.to_list()
    args = [info.ffu.short_path] + ["--package=" + f.short_path for f in packages]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/bin/sh\nexec %s %s\n" % (
            _shell_quote(ctx.executable._imagecheck.short_path),
            " ".join([_shell_quote(a) for a in args]),
        ),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [info.ffu] + packages).merge(ctx.attr._imagecheck[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

oem_image_test = rule(
    implementation = _oem_image_test_impl,
    test = True,
    doc = """Checks an `oem_image` with independent tools: the FFU's hashes, `sgdisk -v` on the
extracted disk, `fsck.fat -n` on every FAT partition, and, for every package the image's
UpdateHistory.xml lists, `mtype` (mtools) reading each of the package's files at its device path
with the package's content. The tools come from Debian (gdisk, dosfstools, mtools), which the
bootstrap installs.""",
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo], doc = "The `oem_image` to check."),
        "_imagecheck": attr.label(
            default = Label("//tools/imagecheck"),
            executable = True,
            cfg = "target",
        ),
    },
)
