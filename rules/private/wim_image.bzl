"""wim_image: ImgToWIM as a rule."""

load("//rules:providers.bzl", "ImageInfo", "WimInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "run_oemimage")

def _wim_image_impl(ctx):
    ffu = ctx.attr.image[ImageInfo].ffu
    wim = ctx.actions.declare_file(ctx.label.name + ".wim")
    args = ctx.actions.args()
    args.add(ctx.attr.compression, format = "--compression=%s")
    args.add(ffu)
    args.add(wim)
    run_oemimage(
        ctx,
        "imgtowim",
        [args],
        inputs = [ffu],
        outputs = [wim],
        mnemonic = "OemImgToWim",
        progress_message = "ImgToWIM %s: %s" % (ctx.label, wim.basename),
    )
    return [
        DefaultInfo(files = depset([wim])),
        WimInfo(wim = wim, compression = ctx.attr.compression, ffu = ffu),
    ]

wim_image = rule(
    implementation = _wim_image_impl,
    doc = """Captures the MainOS partition of an image as a WIM (`<name>.wim`), as ImgToWIM does for
Manufacturing OS images booted from RAM.""",
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo], doc = "An `oem_image` target."),
        "compression": attr.string(
            default = "lzx",
            values = ["lzx", "none", "xpress"],
            doc = "Resource compression: LZX by default, as ImgToWIM's.",
        ),
    },
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
