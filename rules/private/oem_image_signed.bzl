"""oem_image_signed: an image with a signed FFU catalog, as `ImageSigner SIGN` puts it in."""

load("//rules:providers.bzl", "ImageInfo", "SigningInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "run_oemimage", "signing_args")

def _oem_image_signed_impl(ctx):
    base = ctx.attr.image[ImageInfo]
    signing = ctx.attr.signing[SigningInfo] if ctx.attr.signing else None
    if bool(signing) == bool(ctx.file.catalog):
        fail("give catalog (the signed catalog of the retail round trip) or signing (a signing_identity, for test signing), one of them")
    cat = ctx.file.catalog
    if signing:
        # Test signing, as Sign.cmd /pk does: the image's own catalog (the .cat side file ImgGen
        # writes is the FFU's catalog), signed with the identity. Only this action reads the key.
        cat = ctx.actions.declare_file(ctx.label.name + ".cat")
        args = ctx.actions.args()
        signing_args(args, signing)
        args.add(base.side_files["cat"])
        args.add(cat, format = "--out=%s")
        run_oemimage(
            ctx,
            "sign",
            [args],
            inputs = depset([base.side_files["cat"]], transitive = [signing.files]),
            outputs = [cat],
            mnemonic = "OemSignCatalog",
            progress_message = "Signing the catalog of %s" % base.ffu.short_path,
            execution_requirements = signing.execution_requirements,
        )
    ffu = ctx.actions.declare_file(ctx.label.name + ".ffu")
    args = ctx.actions.args()
    args.add_all(["SIGN", base.ffu, cat])
    args.add(ffu, format = "--output=%s")
    run_oemimage(
        ctx,
        "imagesigner",
        [args],
        inputs = [base.ffu, cat],
        outputs = [ffu],
        mnemonic = "OemImageSign",
        progress_message = "ImageSigner SIGN %s" % ffu.short_path,
    )
    side = dict(base.side_files)
    side["cat"] = cat
    return [
        DefaultInfo(files = depset([ffu])),
        OutputGroupInfo(side_files = depset(side.values())),
        ImageInfo(
            ffu = ffu,
            side_files = side,
            oem_input = base.oem_input,
            cpu = base.cpu,
            packages = base.packages,
            selection = base.selection,
            customization_packages = base.customization_packages,
        ),
    ]

oem_image_signed = rule(
    implementation = _oem_image_signed_impl,
    doc = """`<name>.ffu` is `image` with a signed catalog put in, as `ImageSigner SIGN <FFU> <catalog>` does
(sign-a-full-flash-update--ffu--image.md); everything but the catalog (and its padding) stays as
it was, and an image whose catalog grows past its chunk moves by a chunk.

Two flows (docs/signing.md):
- **Retail round trip**: build the `submission` output group of the `oem_image`
  (`<name>.trunc` and `<name>.submission.cat`), send it for signing, check in the signed catalog
  that comes back and give it as `catalog`. A catalog for another image is refused.
- **Test signing**: `signing = ":identity"` (a `signing_identity`) signs the image's own catalog,
  as `Sign.cmd /pk` does; only that action reads the key (tagged as the identity says).

Provides ImageInfo: the side files are the image's, with `cat` the signed catalog.""",
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo], doc = "An `oem_image` or `oem_image_update`."),
        "catalog": attr.label(allow_single_file = [".cat"], doc = "The signed catalog of `image` (its `submission` catalog, signed)."),
        "signing": attr.label(providers = [SigningInfo], doc = "A `signing_identity` that signs the image's catalog (test signing)."),
    },
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
