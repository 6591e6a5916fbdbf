"""oem_image_update: ImageApp's update of an existing FFU as a rule."""

load("//rules:providers.bzl", "ImageInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "PACKAGE_EXTENSIONS", "package_files", "retail_submission", "run_oemimage")
load(":oem_image.bzl", "SIDE_FILES")

_NS = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"

def _xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")

def _oem_image_update_impl(ctx):
    base = ctx.attr.image[ImageInfo] if ImageInfo in ctx.attr.image else None
    if base:
        base_ffu, base_input = base.ffu, base.side_files["UpdateInput.xml"]
        base_packages = [base.packages]
    else:
        files = ctx.files.image
        ffus = [f for f in files if f.extension == "ffu"]
        inputs = [f for f in files if f.basename.endswith(".UpdateInput.xml")]
        if len(ffus) != 1 or len(inputs) != 1:
            fail("image: an oem_image target, or a .ffu file with its <name>.UpdateInput.xml side file (a filegroup of the two)")
        base_ffu, base_input, base_packages = ffus[0], inputs[0], []
        if base_input.dirname != base_ffu.dirname or base_input.basename != base_ffu.basename[:-len(".ffu")] + ".UpdateInput.xml":
            fail("image: %s must sit next to %s as %s.UpdateInput.xml (imageapp reads the release type there)" % (base_input.short_path, base_ffu.short_path, base_ffu.basename[:-len(".ffu")]))
    packages = depset(transitive = package_files(ctx.attr.packages))
    package_list = packages.to_list()
    if not package_list:
        fail("packages: give at least one package to add or update")

    # ImageApp's input: the documented UpdateOSInput, one PackageFile per package, found by
    # file name among --package (the packages' paths differ between machines; names do not).
    update_input = ctx.actions.declare_file(ctx.label.name + ".UpdateOSInput.xml")
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<UpdateOSInput xmlns="%s">' % _NS]
    lines.append("  <Description>%s</Description>" % _xml_text(ctx.attr.description or str(ctx.label)))
    lines.append("  <PackageFiles>")
    for f in package_list:
        lines.append("    <PackageFile>%s</PackageFile>" % _xml_text(f.basename))
    lines.append("  </PackageFiles>")
    lines.append("</UpdateOSInput>")
    ctx.actions.write(update_input, "\n".join(lines) + "\n")

    ffu = ctx.actions.declare_file(ctx.label.name + ".ffu")
    side = {s: ctx.actions.declare_file("%s.%s" % (ctx.label.name, s)) for s in SIDE_FILES}
    args = ctx.actions.args()
    args.add(base_ffu)
    args.add(update_input, format = "/UpdateInputXML:%s")
    args.add(ffu, format = "--output=%s")
    args.add_all(packages, format_each = "--package=%s")
    args.add("--timings=false")
    run_oemimage(
        ctx,
        "imageapp",
        [args],
        inputs = depset([base_ffu, base_input, update_input], transitive = [packages]),
        outputs = [ffu] + side.values(),
        mnemonic = "OemImageApp",
        progress_message = "ImageApp %s: %s" % (ctx.label, ffu.basename),
        bazel_attrs = {"packages": "packages"},
    )
    return [
        DefaultInfo(files = depset([ffu])),
        OutputGroupInfo(side_files = depset(side.values()), update_input = depset([update_input]), submission = retail_submission(ctx, ffu)),
        ImageInfo(
            ffu = ffu,
            side_files = side,
            oem_input = base.oem_input if base else None,
            cpu = base.cpu if base else ctx.attr.cpu,
            packages = depset(transitive = base_packages + [packages]),
            selection = None,
            customization_packages = base.customization_packages if base else None,
        ),
    ]

oem_image_update = rule(
    implementation = _oem_image_update_impl,
    doc = """Adds new or newer packages to an existing image, as `ImageApp.exe <FFU> /UpdateInputXML:` does
(update-packages-in-an-ffu-image-file.md): `<name>.ffu` is `image` with `packages` installed
and an UpdateEvent added to its UpdateHistory.xml; partitions no package touches keep their
blocks. Retail images, packages of an equal or lower version than the image's, packages for a
partition the layout lacks and files that do not fit are refused, naming the package.

Provides ImageInfo (its `selection` is None: the update is not a selection), so `oem_image_test`
and `wim_image` take it like an `oem_image`. The side files are in the `side_files` output group,
the generated UpdateOSInput file in `update_input`, the retail signing request in `submission`
(as for `oem_image`).""",
    attrs = {
        "image": attr.label(
            mandatory = True,
            allow_files = [".ffu", ".xml"],
            doc = "The image to update: an `oem_image` (or another `oem_image_update`), or a filegroup of a .ffu and its `<name>.UpdateInput.xml` side file.",
        ),
        "packages": attr.label_list(
            mandatory = True,
            allow_files = PACKAGE_EXTENSIONS,
            doc = "Packages to add or update (`mobile_package` targets or package files).",
        ),
        "description": attr.string(doc = "The UpdateOSInput Description (default: the target's label)."),
        "cpu": attr.string(default = "arm", doc = "CPU type, for an `image` given as files (an `oem_image` gives its own)."),
    },
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
