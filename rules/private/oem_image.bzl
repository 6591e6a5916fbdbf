"""oem_image: ImgGen as a rule; builds an FFU and its side files."""

load("//rules:providers.bzl", "FeatureManifestInfo", "ImageInfo")
load(":common.bzl", "CPU_TYPES", "PACKAGE_EXTENSIONS", "TOOL_ATTRS", "package_files", "run_oemimage")

# Side files ImgGen.cmd writes next to <name>.ffu (seed 000, "Output files").
SIDE_FILES = ["ImageApp.log", "UpdateInput.xml", "UpdateOutput.xml", "UpdateHistory.xml", "PackageList.xml", "cat"]

def _oem_image_impl(ctx):
    if ctx.file.customizations and not ctx.attr.customization_version:
        fail("customizations needs customization_version (OEMCustomizationVer, a.b.c.d)")
    ffu = ctx.actions.declare_file(ctx.label.name + ".ffu")
    side = {s: ctx.actions.declare_file("%s.%s" % (ctx.label.name, s)) for s in SIDE_FILES}

    fms = depset(transitive = [f[FeatureManifestInfo].fms for f in ctx.attr.feature_manifests])
    packages = depset(transitive = package_files(ctx.attr.ms_packages) + package_files(ctx.attr.packages) + [
        f[FeatureManifestInfo].packages
        for f in ctx.attr.feature_manifests
    ])

    args = ctx.actions.args()
    args.add(ctx.attr.cpu, format = "/CPUType:%s")

    # Durations would make the log differ from build to build.
    args.add("--timings=false")
    args.add_all(fms, format_each = "--fm=%s", expand_directories = False)
    args.add_all(packages, format_each = "--package=%s", expand_directories = False)

    # Positional arguments as ImgGen.cmd takes them. Under Bazel every package is found by file
    # name among --package, so MSPackageRoot names the kit only for $(mspackageroot).
    args.add(ffu)
    args.add(ctx.file.oem_input)
    args.add("MSPackages")
    inputs = [ctx.file.oem_input]
    if ctx.file.customizations:
        args.add(ctx.file.customizations)
        args.add(ctx.attr.customization_version)
        inputs.append(ctx.file.customizations)
    args.use_param_file("@%s", use_always = False)
    args.set_param_file_format("multiline")

    # The selection first, with resolve's messages: a bad OEMInput or FM fails here, early and
    # cheaply, and the selection (with the reason for each package) is an output of its own.
    selection = ctx.actions.declare_file(ctx.label.name + ".selection.xml")
    resolve_args = ctx.actions.args()
    resolve_args.add(ctx.attr.cpu, format = "/CPUType:%s")
    resolve_args.add_all(fms, format_each = "--fm=%s", expand_directories = False)
    resolve_args.add_all(packages, format_each = "--package=%s", expand_directories = False)
    resolve_args.add(ctx.file.oem_input)
    resolve_args.add("MSPackages")
    resolve_args.use_param_file("@%s", use_always = False)
    resolve_args.set_param_file_format("multiline")
    run_oemimage(
        ctx,
        "resolve",
        [resolve_args],
        inputs = depset([ctx.file.oem_input], transitive = [fms, packages]),
        outputs = [selection],
        mnemonic = "OemResolve",
        progress_message = "Resolving packages of %s" % ctx.label,
        stdout = selection,
    )
    inputs.append(selection)

    run_oemimage(
        ctx,
        "imggen",
        [args],
        inputs = depset(inputs, transitive = [fms, packages]),
        outputs = [ffu] + side.values(),
        mnemonic = "OemImgGen",
        progress_message = "ImgGen %s: %s" % (ctx.label, ffu.basename),
    )
    return [
        DefaultInfo(files = depset([ffu])),
        OutputGroupInfo(side_files = depset(side.values()), selection = depset([selection])),
        ImageInfo(
            ffu = ffu,
            side_files = side,
            oem_input = ctx.file.oem_input,
            cpu = ctx.attr.cpu,
            packages = packages,
            selection = selection,
        ),
    ]

oem_image = rule(
    implementation = _oem_image_impl,
    doc = """Builds a full flash update image (`<name>.ffu`) from an OEMInput file, as ImgGen.cmd does.

The side files ImgGen writes (`<name>.ImageApp.log`, `.UpdateInput.xml`, `.UpdateOutput.xml`,
`.UpdateHistory.xml`, `.PackageList.xml`, `.cat`) are in the `side_files` output group:
`bazel build //images:retail --output_groups=+side_files`. The packages the OEMInput selects,
with the reason for each (`oemimage resolve`), are in the `selection` output group.""",
    attrs = dict(TOOL_ATTRS, **{
        "oem_input": attr.label(mandatory = True, allow_single_file = [".xml"], doc = "The OEMInput XML."),
        "feature_manifests": attr.label_list(
            providers = [FeatureManifestInfo],
            doc = "`feature_manifest` or `merged_packages` targets for the OEMInput's AdditionalFMs, matched by file name.",
        ),
        "ms_packages": attr.label_list(
            allow_files = PACKAGE_EXTENSIONS,
            doc = "The Microsoft kit (MSPackageRoot): packages including the edition's core FM package (`Microsoft.PhoneFM.spkg`, or `Microsoft.MMOSFM.spkg` for Product \"Manufacturing OS\").",
        ),
        "packages": attr.label_list(
            allow_files = PACKAGE_EXTENSIONS,
            doc = "Packages for the OEMInput's PackageFiles element (pre-retail images only).",
        ),
        "cpu": attr.string(default = "arm", values = CPU_TYPES, doc = "CPU type of the image ($(cputype))."),
        "customizations": attr.label(allow_single_file = [".xml"], doc = "Customization answer file (OEMCustomizationXML)."),
        "customization_version": attr.string(doc = "OEMCustomizationVer: version of the generated customization packages."),
    }),
)
