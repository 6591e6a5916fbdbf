"""mobile_package: builds a mobile package (.spkg) with `oemimage pkggen`."""

load("//rules:providers.bzl", "PackageInfo", "SigningInfo")
load(":common.bzl", "CPU_TYPES", "OEMIMAGE_TOOLCHAIN", "run_oemimage", "signing_args")
load(":signing.bzl", "signing_of")

# Device paths of one source file are joined with this character, which Windows forbids in paths,
# because a label_keyed_string_dict can hold one value per label.
_PATH_SEP = "|"

def package_name(owner, component, sub_component):
    """The package name `Owner.Component[.SubComponent]` (docs/creating-mobile-packages.md)."""
    return ".".join([p for p in [owner, component, sub_component] if p])

_RESERVED_NAMES = ["CON", "PRN", "AUX", "NUL"] + ["COM%d" % i for i in range(1, 10)] + ["LPT%d" % i for i in range(1, 10)]

def _check_device_path(path):
    """Fails at analysis, naming the attribute, on a device path Windows (and PkgGen) would not take."""
    where = "files: device path %r" % path
    if not path.startswith("\\"):
        fail("%s: expected an absolute Windows path starting with a backslash, such as \\Programs\\App\\app.exe" % where)
    if "/" in path:
        fail("%s: contains '/'; device paths separate directories with backslashes (\\)" % where)
    for part in path[1:].split("\\"):
        if part == "":
            fail("%s: has an empty component (two backslashes in a row, or a trailing one)" % where)
        if part in [".", ".."]:
            fail("%s: has a %r component; expected names only" % (where, part))
        for c in part.elems():
            if c in "<>:\"|?*":
                fail("%s: %r is not allowed in a Windows file name" % (where, c))
        if part.endswith(" ") or part.endswith("."):
            fail("%s: %r ends with a space or a dot, which Windows drops" % (where, part))
        if part.split(".")[0].upper() in _RESERVED_NAMES:
            fail("%s: %r is a reserved Windows device name" % (where, part))

def _descriptor(ctx, files):
    """The package descriptor (.pkg.json) of the rule's attributes.

    pkggen reads it as the package project it stands for (tools/pkggen/descriptor.go): JSON
    encoded by Starlark, so no XML is built from strings. Sources are execroot-relative, where
    the action runs.
    """
    return json.encode({
        "label": str(ctx.label),
        "owner": ctx.attr.owner,
        "component": ctx.attr.component,
        "sub_component": ctx.attr.sub_component,
        "owner_type": ctx.attr.owner_type,
        "release_type": ctx.attr.release_type,
        "partition": ctx.attr.partition,
        "binary_partition": ctx.attr.binary_partition,
        "language": ctx.attr.language,
        "resolution": ctx.attr.resolution,
        "files": [{"source": src.path, "device_path": device_path} for device_path, src in files],
    }) + "\n"

def _basename(f):
    return f.basename

def _mobile_package_impl(ctx):
    if bool(ctx.attr.files) == bool(ctx.file.pkg_xml):
        fail("give exactly one of files and pkg_xml")
    name = package_name(ctx.attr.owner, ctx.attr.component, ctx.attr.sub_component)
    if ctx.attr.language and ctx.attr.resolution:
        fail("language and resolution are exclusive: a package is a language or a resolution satellite, not both")
    suffix = ""
    if ctx.attr.language:
        suffix = "_Lang_" + ctx.attr.language
    elif ctx.attr.resolution:
        suffix = "_RES_" + ctx.attr.resolution

    # Outputs go to a directory named after the target, so that two targets of one BUILD file
    # cannot clash; the file name is the package name, which is how FMs find packages.
    out_dir = ctx.label.name
    if ctx.attr.no_base_package:
        if not ctx.file.pkg_xml or not (ctx.attr.languages or ctx.attr.resolutions):
            fail("no_base_package needs pkg_xml and languages or resolutions: it is a project of satellite groups only")
        main = None
    else:
        main = ctx.actions.declare_file("%s/%s%s.spkg" % (out_dir, name, suffix))
    satellites = {}
    for lang in ctx.attr.languages:
        satellites["_Lang_" + lang] = ctx.actions.declare_file("%s/%s_Lang_%s.spkg" % (out_dir, name, lang))
    for res in ctx.attr.resolutions:
        satellites["_RES_" + res] = ctx.actions.declare_file("%s/%s_RES_%s.spkg" % (out_dir, name, res))

    inputs = []
    if ctx.file.pkg_xml:
        project = ctx.file.pkg_xml
        inputs = [project] + ctx.files.srcs
    else:
        entries = []
        for target, paths in ctx.attr.files.items():
            srcs = target[DefaultInfo].files.to_list()
            if len(srcs) != 1:
                fail("files: %s gives %d files, expected exactly one" % (target.label, len(srcs)))
            for path in paths.split(_PATH_SEP):
                _check_device_path(path)
                entries.append((path, srcs[0]))
                inputs.append(srcs[0])
        project = ctx.actions.declare_file("%s/%s.pkg.json" % (out_dir, name))
        ctx.actions.write(project, _descriptor(ctx, sorted(entries)))
        inputs.append(project)

    languages = ctx.attr.languages + ([ctx.attr.language] if ctx.attr.language else [])
    resolutions = ctx.attr.resolutions + ([ctx.attr.resolution] if ctx.attr.resolution else [])
    args = ctx.actions.args()
    args.add(project)
    outputs = ([main] if main else []) + satellites.values()
    args.add(outputs[0].dirname, format = "/output:%s")
    args.add(ctx.attr.version, format = "/version:%s")
    args.add(ctx.attr.build_type, format = "/build:%s")
    args.add(ctx.attr.cpu, format = "/cpu:%s")
    if languages:
        args.add(";".join(languages), format = "/language:%s")
    if resolutions:
        args.add(";".join(resolutions), format = "/resolution:%s")
    args.add("+compress" if ctx.attr.compress else "-compress")

    # pkggen checks that the project produces exactly the packages declared here.
    args.add_all(outputs, format_each = "--expect=%s", map_each = _basename)
    signing = signing_of(ctx)
    if signing:
        signing_args(args, signing)
    run_oemimage(
        ctx,
        "pkggen",
        [args],
        inputs = depset(inputs, transitive = [signing.files] if signing else []),
        execution_requirements = signing.execution_requirements if signing else None,
        outputs = outputs,
        mnemonic = "OemPkgGen",
        progress_message = "PkgGen %s: %s" % (ctx.label, outputs[0].basename),
        # A pkg_xml project's sources come from srcs; with files the rule writes the project.
        bazel_attrs = {"srcs": "srcs"} if ctx.file.pkg_xml else {"srcs": "files"},
    )
    all_files = depset(outputs)
    return [
        DefaultInfo(files = all_files),
        PackageInfo(
            name = name,
            owner = ctx.attr.owner,
            component = ctx.attr.component,
            sub_component = ctx.attr.sub_component,
            partition = ctx.attr.partition,
            release_type = ctx.attr.release_type,
            owner_type = ctx.attr.owner_type,
            build_type = ctx.attr.build_type,
            cpu = ctx.attr.cpu,
            version = ctx.attr.version,
            file = main,
            satellites = satellites,
            files = all_files,
        ),
    ]

mobile_package_rule = rule(
    implementation = _mobile_package_impl,
    doc = """Builds a mobile package (.spkg) with `oemimage pkggen`, from either a map of device
paths to files (`files`, from which the rule writes a package project file) or a package project
file of your own (`pkg_xml` with `srcs`).

Outputs `<name>/<Owner>.<Component>[.<SubComponent>].spkg` and one .spkg per satellite; the file
name is the package name, which is how feature manifests find the package. Prefer the
`mobile_package` macro, which takes `files` as `{device_path: label}`.""",
    attrs = {
        "owner": attr.string(mandatory = True, doc = "Owner of the package identity, e.g. `Contoso`."),
        "component": attr.string(mandatory = True, doc = "Component of the package identity."),
        "sub_component": attr.string(doc = "SubComponent of the package identity (optional)."),
        "partition": attr.string(default = "MainOS", doc = "Partition: MainOS, EFIESP, Data, UpdateOS, PLAT, DPP, CrashDump, or a layout's own."),
        "release_type": attr.string(default = "Production", values = ["Production", "Test"], doc = "ReleaseType."),
        "owner_type": attr.string(default = "OEM", values = ["Microsoft", "OEM", "SiliconVendor", "MobileOperator"], doc = "OwnerType."),
        "build_type": attr.string(default = "fre", values = ["fre", "chk"], doc = "Build type of the package."),
        "cpu": attr.string(default = "arm", values = CPU_TYPES, doc = "CpuType."),
        "version": attr.string(default = "1.0.0.0", doc = "Version a.b.c.d."),
        "binary_partition": attr.bool(doc = "The package is a binary partition image (IsBinaryPartition): with `files`, one file, the raw image of the partition `partition` names (not MainOS), written at its start by oem_image; with `pkg_xml`, the project says `BinaryPartition=\"true\"`."),
        "no_base_package": attr.bool(doc = "The project has satellite groups only (`Language=`/`Resolution=`), so PkgGen writes no neutral package, only the satellites of `languages` and `resolutions`; FMs list such packages with `NoBasePackage=\"true\"`."),
        "signing": attr.label(providers = [SigningInfo], doc = "A `signing_identity`: each package's content.cat is signed with it. Without it, the identity `--@rules_oemimage//rules:package_signing=LABEL` names, if any (unsigned by default)."),
        "_package_signing": attr.label(default = Label("//rules:package_signing"), providers = [SigningInfo]),
        "compress": attr.bool(doc = "+compress: LZX (window 2^21, the original's FastLZX) instead of stored data, as PkgGen's +compress."),
        "language": attr.string(doc = "Culture of this package, when it is itself a language satellite (`_Lang_xx`)."),
        "resolution": attr.string(doc = "Resolution of this package, when it is itself a resolution satellite (`_RES_WxH`)."),
        "files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Source file -> device path(s) in the partition (`\\Windows\\System32\\foo.dll`); several paths are joined with `|`. Set by the `mobile_package` macro from `{device_path: label}`.",
        ),
        "pkg_xml": attr.label(allow_single_file = [".pkg.xml", ".xml"], doc = "A package project file, instead of `files`."),
        "srcs": attr.label_list(allow_files = True, doc = "Files the `pkg_xml` project refers to."),
        "languages": attr.string_list(doc = "Language satellites the `pkg_xml` project produces (its `Files Language=` groups)."),
        "resolutions": attr.string_list(doc = "Resolution satellites the `pkg_xml` project produces (its `Files Resolution=` groups)."),
    },
    toolchains = [OEMIMAGE_TOOLCHAIN],
)

def mobile_package(name, files = None, **kwargs):
    """Builds a mobile package (.spkg): `mobile_package_rule` with `files` as `{device_path: label}`.

    Example:

    ```
    mobile_package(
        name = "display",
        owner = "Contoso",
        component = "Display",
        partition = "MainOS",
        files = {"\\\\Windows\\\\System32\\\\contoso_display.dll": "display.dll"},
    )
    ```

    Args:
      name: target name.
      files: dict of device path -> label of one file. One label may serve several paths.
      **kwargs: every other attribute of `mobile_package_rule`.
    """
    by_label = {}
    for path in sorted((files or {}).keys()):
        label = files[path]
        if _PATH_SEP in path:
            fail("mobile_package %s: device path %r contains %r, which Windows forbids" % (name, path, _PATH_SEP))
        by_label[label] = by_label[label] + _PATH_SEP + path if label in by_label else path
    mobile_package_rule(name = name, files = by_label, **kwargs)
