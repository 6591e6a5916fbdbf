"""merged_packages: FeatureMerger as a rule."""

load("//rules:providers.bzl", "FeatureManifestInfo", "SigningInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "run_oemimage", "signing_args")
load(":signing.bzl", "signing_of")

def _own_fm(target):
    """The FM file of a feature_manifest target itself, not one of its deps.

    Its FeatureManifestInfo.fms holds the deps' FMs too, in an order that puts them first.
    """
    own = [f for f in target[DefaultInfo].files.to_list() if f.extension == "xml"]
    if len(own) != 1:
        fail("fm: %s must be a feature_manifest (one FM XML file); it gives %s" % (target.label, [f.basename for f in own] or "none"))
    return own[0]

def _merged_packages_impl(ctx):
    if bool(ctx.attr.fm) == bool(ctx.file.fm_file_list):
        fail("give exactly one of fm and fm_file_list")
    if len(ctx.attr.fmid) > 8:
        fail("fmid %r is longer than 8 characters" % ctx.attr.fmid)
    variables = dict(ctx.attr.variables)
    variables.setdefault("_cputype", ctx.attr.cpu)
    variables.setdefault("buildtype", "fre")
    variables.setdefault("releasetype", "test")

    sources = [ctx.attr.fm] if ctx.attr.fm else ctx.attr.fms
    fms = depset(transitive = [s[FeatureManifestInfo].fms for s in sources])
    packages = depset(transitive = [s[FeatureManifestInfo].packages for s in sources])

    # Merged package names come from the FM's contents, so both outputs are directories.
    pkg_dir = ctx.actions.declare_directory(ctx.label.name + "/packages")
    fm_dir = ctx.actions.declare_directory(ctx.label.name + "/fms")

    args = ctx.actions.args()
    args.add(ctx.file.fm_file_list if ctx.file.fm_file_list else _own_fm(ctx.attr.fm))
    args.add(pkg_dir.path)
    args.add(ctx.attr.version)
    args.add(fm_dir.path)
    args.add(ctx.attr.fmid, format = "/FMID:%s")
    if ctx.attr.languages:
        args.add(";".join(ctx.attr.languages), format = "/Languages:%s")
    if ctx.attr.resolutions:
        args.add(";".join(ctx.attr.resolutions), format = "/Resolutions:%s")
    args.add(ctx.attr.owner_name, format = "/OwnerName:%s")
    args.add(ctx.attr.owner_type, format = "/OwnerType:%s")
    args.add(";".join(["%s=%s" % (k, variables[k]) for k in sorted(variables)]), format = "/Variables:%s")
    args.add("+Compress" if ctx.attr.compress else "-Compress")
    if ctx.file.fm_file_list:
        # $(FMDirectory): the FMs are matched by file name among the given ones.
        args.add_all(fms, format_each = "--fm=%s", expand_directories = False)
    args.add_all(packages, format_each = "--package=%s")
    signing = signing_of(ctx)
    if signing:
        signing_args(args, signing)
    args.use_param_file("@%s", use_always = False)
    args.set_param_file_format("multiline")

    inputs = depset(
        [ctx.file.fm_file_list] if ctx.file.fm_file_list else [],
        transitive = [fms, packages] + ([signing.files] if signing else []),
    )
    run_oemimage(
        ctx,
        "featuremerger",
        [args],
        inputs = inputs,
        outputs = [pkg_dir, fm_dir],
        mnemonic = "OemFeatureMerger",
        progress_message = "FeatureMerger %s: FMID %s, version %s" % (ctx.label, ctx.attr.fmid, ctx.attr.version),
        execution_requirements = signing.execution_requirements if signing else None,
    )
    return [
        DefaultInfo(files = depset([pkg_dir, fm_dir])),
        FeatureManifestInfo(fms = depset([fm_dir]), packages = depset([pkg_dir])),
    ]

merged_packages = rule(
    implementation = _merged_packages_impl,
    doc = """Merges the packages of a feature manifest (or of every FM of an FMFileList) into
packages that follow the Windows Standard Package Configuration, as FeatureMerger.exe does,
and writes the new FM that references them.

Provides FeatureManifestInfo, so `oem_image` takes a `merged_packages` target like any FM.
Outputs two directories: `<name>/packages` (`<Owner>.<Type>.<FMID>.<Partition>.spkg` and
satellites) and `<name>/fms`.""",
    attrs = {
        "fm": attr.label(providers = [FeatureManifestInfo], doc = "A `feature_manifest` to merge (single-FM command line)."),
        "fm_file_list": attr.label(allow_single_file = [".xml"], doc = "An FMFileList (FMCollectionManifest) XML, instead of `fm`."),
        "fms": attr.label_list(providers = [FeatureManifestInfo], doc = "With `fm_file_list`: the feature manifests it lists (`$(FMDirectory)`)."),
        "version": attr.string(mandatory = True, doc = "OutputPackageVersion a.b.c.d stamped on every merged package."),
        "fmid": attr.string(mandatory = True, doc = "/FMID: at most 8 characters; `Phone` or `Variant` for production."),
        "languages": attr.string_list(doc = "/Languages: supported UI languages."),
        "resolutions": attr.string_list(doc = "/Resolutions: supported resolutions, `WxH`."),
        "owner_name": attr.string(mandatory = True, doc = "/OwnerName: owner of the merged packages."),
        "owner_type": attr.string(default = "OEM", values = ["OEM", "SiliconVendor", "MobileOperator", "Microsoft"], doc = "/OwnerType:"),
        "cpu": attr.string(default = "arm", doc = "Default for the `_cputype` variable."),
        "variables": attr.string_dict(doc = "/Variables: e.g. `{\"releasetype\": \"production\"}`; `_cputype`, `buildtype` (fre) and `releasetype` (test) have defaults."),
        "compress": attr.bool(default = True, doc = "+Compress (LZX, as the original) or -Compress (stored) for what the merge writes; the sources' compressed data is copied as it is."),
        "signing": attr.label(providers = [SigningInfo], doc = "A `signing_identity` that signs the merged packages' catalogs (packages passed through keep theirs). Without it, the identity `--@rules_oemimage//rules:package_signing=LABEL` names, if any (unsigned by default)."),
        "_package_signing": attr.label(default = Label("//rules:package_signing"), providers = [SigningInfo]),
    },
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
