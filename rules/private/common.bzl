"""Pieces shared by the rule implementations: the toolchain, how actions run the tool and the package selection attributes and flags."""

load("//rules:providers.bzl", "FeatureManifestInfo", "PackageInfo")

CPU_TYPES = ["arm", "x86", "arm64", "amd64"]

PACKAGE_EXTENSIONS = [".spkg", ".cab", ".spkr"]

# The toolchain type every rule that runs the tool declares: `toolchains = [OEMIMAGE_TOOLCHAIN]`.
# Resolved here, so it names this repository's target whatever users call the repository; a
# string, as Bazel 4's rule(toolchains = ...) takes no Label.
OEMIMAGE_TOOLCHAIN = str(Label("//tools:toolchain_type"))

# The attributes from which selection_args() resolves an OEMInput's packages, shared by
# oem_image and customization_packages.
SELECTION_ATTRS = {
    "oem_input": attr.label(
        mandatory = True,
        allow_single_file = [".xml"],
        doc = "The OEMInput XML: its features select the packages (and its Device names customization packages).",
    ),
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
    "cpu": attr.string(default = "arm", values = CPU_TYPES, doc = "CPU type of the image and its packages (`$(cputype)`, `/CPUType:`)."),
}

# The attributes of SELECTION_ATTRS by the role the tool gives their inputs (--bazel-attr=ROLE=ATTR,
# tools/locate/origin.go), so its messages about a missing input name the attribute to add it to.
SELECTION_ROLES = {"kit": "ms_packages", "packages": "packages", "fms": "feature_manifests"}

def run_oemimage(ctx, verb, arguments, inputs, outputs, mnemonic, progress_message, stdout = None, unused_inputs_list = None, bazel_attrs = {}, execution_requirements = None):
    """Registers one action that runs `oemimage VERB`.

    Args:
      ctx: rule context of a rule with `toolchains = [OEMIMAGE_TOOLCHAIN]`.
      verb: the oemimage verb.
      arguments: list of Args objects or strings, after the verb.
      inputs: depset or list of input Files.
      outputs: list of output Files.
      mnemonic: action mnemonic.
      progress_message: progress message.
      stdout: an output File that receives the verb's standard output (None: not kept).
      unused_inputs_list: an output File in which the verb lists the inputs it did not read.
      bazel_attrs: role -> attribute of ctx that gives the inputs of that role (SELECTION_ROLES);
        passed as --bazel-attr=ROLE=ATTR with --bazel-target=LABEL, for the tool's messages.
      execution_requirements: of the action (SigningInfo's for actions that read a private key).
    """
    verb_args = ctx.actions.args()
    if stdout:
        # Bazel 4's ctx.actions.run cannot redirect output: the tool does it (--stdout).
        verb_args.add(stdout, format = "--stdout=%s")
    if bazel_attrs:
        # Labels and attribute names only, no paths: the command line stays the same everywhere.
        verb_args.add(str(ctx.label), format = "--bazel-target=%s")
        verb_args.add_all(["%s=%s" % (role, bazel_attrs[role]) for role in sorted(bazel_attrs)], format_each = "--bazel-attr=%s")
    verb_args.add(verb)
    ctx.actions.run(
        # The toolchain's tool, built for the execution platform (cfg = "exec"), with its runfiles.
        executable = ctx.toolchains[OEMIMAGE_TOOLCHAIN].oemimage.tool,
        arguments = [verb_args] + arguments,
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress_message,
        # Only what the action declares: no host environment, so results are cacheable anywhere.
        # OEMIMAGE_QUIET: the verb's progress is printed only if it fails.
        use_default_shell_env = False,
        env = {"TZ": "UTC", "LC_ALL": "C", "OEMIMAGE_QUIET": "1"},
        unused_inputs_list = unused_inputs_list,
        execution_requirements = execution_requirements,
    )

def package_files(targets):
    """Package files of a list of targets: PackageInfo.files where given, else their .spkg/.cab files.

    Args:
      targets: targets of a label_list attribute.

    Returns:
      list of depsets of Files.
    """
    out = []
    for t in targets:
        if PackageInfo in t:
            out.append(t[PackageInfo].files)
        else:
            out.append(depset([
                f
                for f in t[DefaultInfo].files.to_list()
                if f.basename.lower().endswith(tuple(PACKAGE_EXTENSIONS))
            ]))
    return out

def selection_args(ctx):
    """The flags and inputs that let the tool resolve ctx's OEMInput (oem_image, customization_packages).

    Args:
      ctx: rule context of a rule whose attributes include SELECTION_ATTRS.

    Returns:
      (Args of /CPUType:, --fm= and --package=, depset of the FMs, depset of the packages).
    """
    fms = depset(transitive = [f[FeatureManifestInfo].fms for f in ctx.attr.feature_manifests])
    packages = depset(transitive = package_files(ctx.attr.ms_packages) + package_files(ctx.attr.packages) + [
        f[FeatureManifestInfo].packages
        for f in ctx.attr.feature_manifests
    ])
    args = ctx.actions.args()
    args.add(ctx.attr.cpu, format = "/CPUType:%s")
    args.add_all(fms, format_each = "--fm=%s", expand_directories = False)
    args.add_all(packages, format_each = "--package=%s", expand_directories = False)
    args.use_param_file("@%s", use_always = False)
    args.set_param_file_format("multiline")
    return args, fms, packages

def signing_args(args, info):
    """Adds the flags of a signing identity (SigningInfo) to Args: --cert/--key, --pfx/--password-file or --pkcs11-*, and --timestamp-url.

    Args:
      args: the Args of a pkggen or sign action.
      info: SigningInfo.
    """
    if getattr(info, "pkcs11_key", None):
        args.add(info.pkcs11_module, format = "--pkcs11-module=%s")
        args.add(info.pkcs11_token, format = "--pkcs11-token=%s")
        args.add(info.pkcs11_key, format = "--pkcs11-key=%s")
        args.add(info.pin_file, format = "--pkcs11-pin-file=%s")
        if info.cert:
            args.add(info.cert, format = "--cert=%s")
    elif info.pfx:
        args.add(info.pfx, format = "--pfx=%s")
        if info.password_file:
            args.add(info.password_file, format = "--password-file=%s")
    else:
        args.add(info.cert, format = "--cert=%s")
        args.add(info.key, format = "--key=%s")
    if getattr(info, "timestamp_url", None):
        args.add(info.timestamp_url, format = "--timestamp-url=%s")

def retail_submission(ctx, ffu):
    """Registers the actions of a retail signing request for `ffu` (sign-a-full-flash-update--ffu--image.md).

    `<name>.trunc` is `imagesigner truncate` of the image (what the request attaches),
    `<name>.submission.cat` the catalog `imagesigner getcatalog` extracts from it (what comes back
    signed), `<name>.submission.txt` what getcatalog prints (the platform IDs to check). The
    actions run only when their output group is asked for.

    Args:
      ctx: rule context of a rule with `toolchains = [OEMIMAGE_TOOLCHAIN]`.
      ffu: the image File.

    Returns:
      depset of the three Files, for an output group.
    """
    trunc = ctx.actions.declare_file(ctx.label.name + ".trunc")
    cat = ctx.actions.declare_file(ctx.label.name + ".submission.cat")
    printed = ctx.actions.declare_file(ctx.label.name + ".submission.txt")
    run_oemimage(
        ctx,
        "imagesigner",
        ["TRUNCATE", ffu.path, trunc.path],
        inputs = [ffu],
        outputs = [trunc],
        mnemonic = "OemImageTruncate",
        progress_message = "ImageSigner TRUNCATE %s" % ffu.short_path,
    )
    run_oemimage(
        ctx,
        "imagesigner",
        ["GETCATALOG", trunc.path, cat.path],
        inputs = [trunc],
        outputs = [cat, printed],
        mnemonic = "OemImageGetCatalog",
        progress_message = "ImageSigner GETCATALOG %s" % trunc.short_path,
        stdout = printed,
    )
    return depset([trunc, cat, printed])
