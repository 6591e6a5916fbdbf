"""customization_packages: CustomizationGen as a rule; the customization packages of an MCSF answer file."""

load("//rules:providers.bzl", "CustomizationInfo", "SigningInfo")
load(":common.bzl", "OEMIMAGE_TOOLCHAIN", "SELECTION_ATTRS", "SELECTION_ROLES", "run_oemimage", "selection_args", "signing_args")
load(":signing.bzl", "signing_of")

def _dir_of(label, rel):
    """rel, a directory relative to label's package, as a path relative to the execution root."""
    parts = [p for p in label.workspace_root.split("/") + label.package.split("/") if p]
    for seg in rel.replace("\\", "/").split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                fail("path_variables: %s leaves the repository" % rel)
            parts.pop()
        else:
            parts.append(seg)
    return "/".join(parts) if parts else "."

def customization_info(target):
    """CustomizationInfo of an oem_image's customizations: a customization_packages target or an answer file.

    Args:
      target: the target of the `customizations` attribute.

    Returns:
      CustomizationInfo; version is None for a plain answer file.
    """
    if CustomizationInfo in target:
        return target[CustomizationInfo]
    files = target[DefaultInfo].files.to_list()
    if len(files) != 1 or not files[0].basename.lower().endswith(".xml"):
        fail("customizations: %s is neither a customization_packages target nor one answer file (.xml)" % target.label)
    return CustomizationInfo(answer_file = files[0], files = depset(files), variables = {}, version = None, signing = None)

STRICT_SETTING_POLICIES_DOC = """Make a setting or asset that no policy file of the selected packages declares an error (ImageApp's `+StrictSettingPolicies`). By default, as the answer file documentation says, such a setting is left out of the image with a warning naming the answer file's line."""

def strict_args(strict):
    """Args of the strict_setting_policies attribute: +StrictSettingPolicies when it is set."""
    return ["+StrictSettingPolicies"] if strict else []

def customization_args(info):
    """Args of the answer file's variables: --var=NAME=DIR, in a stable order.

    Args:
      info: the CustomizationInfo of the answer file.

    Returns:
      list of strings.
    """
    args = []
    for name in sorted(info.variables):
        args.append("--var=%s=%s" % (name, info.variables[name]))
    return args

def _customization_packages_impl(ctx):
    info = CustomizationInfo(
        answer_file = ctx.file.answer_file,
        files = depset([ctx.file.answer_file] + ctx.files.srcs),
        variables = {name: _dir_of(ctx.label, rel) for name, rel in ctx.attr.path_variables.items()},
        version = ctx.attr.version,
        signing = signing_of(ctx),
    )
    out = ctx.actions.declare_directory(ctx.label.name)
    sel_args, fms, packages = selection_args(ctx)
    args = ctx.actions.args()
    args.add_all(customization_args(info))
    args.add_all(strict_args(ctx.attr.strict_setting_policies))
    args.add(out.path)
    args.add(ctx.file.oem_input)
    args.add("MSPackages")
    args.add(info.answer_file)
    args.add(info.version)
    transitive = [fms, packages, info.files]
    if info.signing:
        signing_args(args, info.signing)
        transitive.append(info.signing.files)
    run_oemimage(
        ctx,
        "customizationgen",
        [sel_args, args],
        inputs = depset([ctx.file.oem_input], transitive = transitive),
        outputs = [out],
        mnemonic = "OemCustomizationGen",
        progress_message = "CustomizationGen %s" % ctx.label,
        bazel_attrs = SELECTION_ROLES,
        execution_requirements = info.signing.execution_requirements if info.signing else None,
    )
    return [DefaultInfo(files = depset([out])), info]

customization_packages = rule(
    implementation = _customization_packages_impl,
    doc = """Builds the customization packages of an MCSF answer file, as CustomizationGen.cmd does:
`<Owner>.<Device>.Customizations.<Partition>.spkg` and the applications packages, in a directory
named after the target. The OEMInput's selection supplies the policy files that declare the
settings (docs/customization.md); a setting none declares is left out with a warning, or with
`strict_setting_policies = True` fails the build.

The answer file's paths must be absolute, as for the original: name their directories with
variables, `Source="$(CONTOSO_CUSTOMIZATIONS)\\\\wallpaper.jpg"`, and map each variable to a
directory of this package with `path_variables = {"CONTOSO_CUSTOMIZATIONS": "."}`.

`oem_image(customizations = ":this", customization_version = ...)` builds the image with the same
answer file. With `signing`, the packages' catalogs are signed, here and by that `oem_image`
(whose ImgGen action then reads the key, tagged as the identity says): a Production image with
`trusted_root` accepts its customization packages only signed.""",
    attrs = dict(SELECTION_ATTRS, **{
        "answer_file": attr.label(mandatory = True, allow_single_file = [".xml"], doc = "The answer file (OEMCustomizationXML)."),
        "srcs": attr.label_list(allow_files = True, doc = "Every file the answer file names: imported answer files, assets, applications, licenses, ProvXML files, data assets."),
        "path_variables": attr.string_dict(doc = "`$(NAME)` in the answer files' paths -> a directory relative to this package (`.` for the package)."),
        "version": attr.string(mandatory = True, doc = "OEMCustomizationVer: version of the packages, a.b.c.d."),
        "strict_setting_policies": attr.bool(doc = STRICT_SETTING_POLICIES_DOC),
        "signing": attr.label(providers = [SigningInfo], doc = "A `signing_identity` that signs the customization packages' catalogs. Without it, the identity `--@rules_oemimage//rules:package_signing=LABEL` names, if any (unsigned by default)."),
        "_package_signing": attr.label(default = Label("//rules:package_signing"), providers = [SigningInfo]),
    }),
    toolchains = [OEMIMAGE_TOOLCHAIN],
)
