"""oem_image: ImgGen as a rule; builds an FFU and its side files."""

load("//rules:providers.bzl", "ImageInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "SELECTION_ATTRS", "SELECTION_ROLES", "retail_submission", "run_oemimage", "selection_args", "signing_args")
load(":customization.bzl", "STRICT_SETTING_POLICIES_DOC", "customization_args", "customization_info", "strict_args")

# Side files ImgGen.cmd writes next to <name>.ffu (seed 000, "Output files"). The tool's own list
# is imggen.SideFiles (tools/imggen/imggen.go); tools/docgen's TestSideFilesParity ties the two.
SIDE_FILES = ["ImageApp.log", "UpdateInput.xml", "UpdateOutput.xml", "UpdateHistory.xml", "PackageList.xml", "cat"]

def _oem_image_impl(ctx):
    custom = customization_info(ctx.attr.customizations) if ctx.attr.customizations else None
    version = ctx.attr.customization_version or (custom.version if custom else None)
    if custom and not version:
        fail("customizations needs customization_version (OEMCustomizationVer, a.b.c.d)")
    if version and not custom:
        fail("customization_version is for customizations, which is not set")
    if ctx.attr.strict_setting_policies and not custom:
        fail("strict_setting_policies is for customizations, which is not set")
    ffu = ctx.actions.declare_file(ctx.label.name + ".ffu")
    side = {s: ctx.actions.declare_file("%s.%s" % (ctx.label.name, s)) for s in SIDE_FILES}
    sel_args, fms, packages = selection_args(ctx)

    # The selection first, with resolve's messages: a bad OEMInput or FM fails here, early and
    # cheaply. The selection (JSON, with the reason for each package) is an output of its own,
    # and imggen's input: imggen builds from it instead of resolving again.
    selection = ctx.actions.declare_file(ctx.label.name + ".selection.json")
    resolve_args = ctx.actions.args()
    resolve_args.add("--json")
    resolve_args.add(ctx.file.oem_input)
    resolve_args.add("MSPackages")
    run_oemimage(
        ctx,
        "resolve",
        [sel_args, resolve_args],
        inputs = depset([ctx.file.oem_input], transitive = [fms, packages]),
        outputs = [selection],
        mnemonic = "OemResolve",
        progress_message = "Resolving packages of %s" % ctx.label,
        stdout = selection,
        bazel_attrs = SELECTION_ROLES,
    )

    # Durations would make the log differ from build to build.
    args = ctx.actions.args()
    args.add("--timings=false")
    args.add(selection, format = "--selection=%s")

    # What the image does not read (the FMs, the OEMInput, the packages it does not select):
    # a change there alone does not rebuild it (the selection, which it reads, changes if it
    # matters).
    unused = ctx.actions.declare_file(ctx.label.name + ".unused_inputs")
    args.add(unused, format = "--unused-inputs=%s")

    inputs = [ctx.file.oem_input, selection]
    if ctx.file.trusted_root:
        # A Production image then refuses packages whose catalogs are unsigned, signed by
        # another root, or do not match their files.
        args.add(ctx.file.trusted_root, format = "--trusted-root=%s")
        inputs.append(ctx.file.trusted_root)
    if ctx.file.tsa_root:
        if not ctx.file.trusted_root:
            fail("%s: tsa_root is given without trusted_root; a timestamp server's root only extends the check trusted_root makes" % ctx.label)

        # A catalog timestamped by a server chaining to it is checked at the timestamp's time,
        # so a signing certificate that has expired since still verifies.
        args.add(ctx.file.tsa_root, format = "--tsa-root=%s")
        inputs.append(ctx.file.tsa_root)

    # Positional arguments as ImgGen.cmd takes them. Under Bazel every package is found by file
    # name among --package, so MSPackageRoot names the kit only for $(mspackageroot).
    args.add(ffu)
    args.add(ctx.file.oem_input)
    args.add("MSPackages")
    outputs = [ffu, unused] + side.values()
    transitive = [fms, packages]
    custom_dir = None
    if custom:
        # ImgGen writes the customization packages next to the FFU; here, into a directory of
        # their own (their names depend on the answer file's content).
        custom_dir = ctx.actions.declare_directory(ctx.label.name + ".customizations")
        args.add(custom.answer_file)
        args.add(version)
        args.add(custom_dir.path, format = "--customization-out=%s")
        args.add_all(customization_args(custom))
        args.add_all(strict_args(ctx.attr.strict_setting_policies))
        outputs.append(custom_dir)
        transitive.append(custom.files)
        if custom.signing:
            # The customization packages are signed as customization_packages signs them.
            signing_args(args, custom.signing)
            transitive.append(custom.signing.files)
    run_oemimage(
        ctx,
        "imggen",
        [sel_args, args],
        inputs = depset(inputs, transitive = transitive),
        outputs = outputs,
        mnemonic = "OemImgGen",
        progress_message = "ImgGen %s: %s" % (ctx.label, ffu.basename),
        unused_inputs_list = unused,
        bazel_attrs = SELECTION_ROLES,
        execution_requirements = custom.signing.execution_requirements if custom and custom.signing else None,
    )

    # The image report (oemimage report): built only when the `report` output group is asked for.
    report = ctx.actions.declare_file(ctx.label.name + ".report.html")
    report_args = ctx.actions.args()
    report_args.add(ffu)
    report_args.add(selection, format = "--selection=%s")
    report_args.add(report, format = "--output=%s")
    run_oemimage(
        ctx,
        "report",
        [report_args],
        inputs = [ffu, selection],
        outputs = [report],
        mnemonic = "OemReport",
        progress_message = "Reporting on %s" % ffu.short_path,
    )
    groups = dict(
        side_files = depset(side.values()),
        selection = depset([selection]),
        report = depset([report]),
        submission = retail_submission(ctx, ffu),
    )
    if custom_dir:
        groups["customization_packages"] = depset([custom_dir])
    return [
        DefaultInfo(files = depset([ffu])),
        OutputGroupInfo(**groups),
        ImageInfo(
            ffu = ffu,
            side_files = side,
            oem_input = ctx.file.oem_input,
            cpu = ctx.attr.cpu,
            packages = packages,
            selection = selection,
            customization_packages = custom_dir,
        ),
    ]

oem_image = rule(
    implementation = _oem_image_impl,
    doc = """Builds a full flash update image (`<name>.ffu`) from an OEMInput file, as ImgGen.cmd does.

The side files ImgGen writes (`<name>.ImageApp.log`, `.UpdateInput.xml`, `.UpdateOutput.xml`,
`.UpdateHistory.xml`, `.PackageList.xml`, `.cat`) are in the `side_files` output group:
`bazel build //images:retail --output_groups=+side_files`. The packages the OEMInput selects,
with the reason for each, are in the `selection` output group: `<name>.selection.json`, written
by `oemimage resolve --json` and read by `oemimage imggen --selection`, so the image is built from
exactly that file (`.UpdateInput.xml` has the same packages and reasons as XML). The `report`
output group is `<name>.report.html`, one self-contained HTML page of what the image holds and
why (`oemimage report`, docs/cli.md). The `submission` output group is the retail signing request:
`<name>.trunc` (ImageSigner TRUNCATE) and `<name>.submission.cat`, its catalog, to be signed and
given back to `oem_image_signed` (docs/signing.md).""",
    attrs = dict(SELECTION_ATTRS, **{
        "customizations": attr.label(
            allow_files = True,
            doc = "The customization answer file (OEMCustomizationXML): a `customization_packages` target, which gives its files, variables and version, or an answer file alone (its paths must then be absolute on the machine that builds).",
        ),
        "customization_version": attr.string(doc = "OEMCustomizationVer: version of the customization packages (default: the `customization_packages` target's)."),
        "trusted_root": attr.label(
            allow_single_file = True,
            doc = "A root certificate (PEM or DER): a Production image refuses any package whose catalog does not chain to it or does not match the package's files (`imggen --trusted-root`).",
        ),
        "tsa_root": attr.label(
            allow_single_file = True,
            doc = "With `trusted_root`: the root certificate (PEM or DER) of RFC 3161 timestamp servers. A catalog whose timestamp chains to it is checked at the timestamp's time, so a signing certificate expired since still verifies (`imggen --tsa-root`).",
        ),
        "strict_setting_policies": attr.bool(doc = STRICT_SETTING_POLICIES_DOC + " Independent of the `customization_packages` target's own attribute."),
    }),
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
