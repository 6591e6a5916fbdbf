"""Analysis tests of rules_oemimage, run from a consumer workspace: what each rule declares
(outputs, providers, the oemimage command line), checked without running the tool."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_oemimage//rules:defs.bzl", "FeatureManifestInfo", "ImageInfo", "PackageInfo", "WimInfo")

def _action(env, mnemonic):
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == mnemonic]
    asserts.equals(env, 1, len(actions), "actions with mnemonic " + mnemonic)
    return actions[0] if actions else None

def _argv(action):
    """The action's command line without the --bazel-* flags before the verb.

    Those name the target and its attributes for the tool's messages (docs/cli.md).
    """
    argv = action.argv
    i = 1
    for a in argv[1:]:
        if not a.startswith("--bazel-"):
            break
        i += 1
    return [argv[0]] + argv[i:]

def _basenames(files):
    return sorted([f.basename for f in files])

def _package_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[PackageInfo]
    asserts.equals(env, ctx.attr.package_name, info.name)
    if ctx.attr.spkg:
        asserts.equals(env, ctx.attr.spkg, info.file.basename)
    else:
        asserts.equals(env, None, info.file)  # no_base_package: satellites only
    all_spkgs = sorted(([ctx.attr.spkg] if ctx.attr.spkg else []) + ctx.attr.satellites)
    asserts.equals(env, all_spkgs, _basenames(target[DefaultInfo].files.to_list()))
    asserts.equals(env, sorted(ctx.attr.satellites), _basenames(info.satellites.values()))
    action = _action(env, "OemPkgGen")
    if action:
        asserts.true(env, "--bazel-target=%s" % target.label in action.argv, "--bazel-target in %s" % action.argv)
        asserts.equals(env, "pkggen", _argv(action)[1])
        for a in ["/version:" + ctx.attr.version] + ["--expect=" + s for s in all_spkgs] + ctx.attr.expected_args:
            asserts.true(env, a in _argv(action), "%s passed: %s" % (a, _argv(action)))
        asserts.equals(env, all_spkgs, _basenames(action.outputs.to_list()))
    return analysistest.end(env)

package_test = analysistest.make(_package_test_impl, attrs = {
    "expected_args": attr.string_list(),
    "package_name": attr.string(),
    "satellites": attr.string_list(),
    "spkg": attr.string(),
    "version": attr.string(default = "1.0.0.0"),
})

def _feature_manifest_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[FeatureManifestInfo]
    asserts.equals(env, ctx.attr.fms, _basenames(info.fms.to_list()))
    asserts.equals(env, ctx.attr.packages, _basenames(info.packages.to_list()))
    return analysistest.end(env)

feature_manifest_test = analysistest.make(_feature_manifest_test_impl, attrs = {
    "fms": attr.string_list(),
    "packages": attr.string_list(),
})

def _image_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[ImageInfo]
    name = target.label.name
    asserts.equals(env, name + ".ffu", info.ffu.basename)
    asserts.equals(env, [name + ".ffu"], _basenames(target[DefaultInfo].files.to_list()))
    side = sorted([name + "." + s for s in ["ImageApp.log", "UpdateInput.xml", "UpdateOutput.xml", "UpdateHistory.xml", "PackageList.xml", "cat"]])
    asserts.equals(env, side, _basenames(target[OutputGroupInfo].side_files.to_list()))
    action = _action(env, "OemImgGen")
    if action:
        argv = _argv(action)
        asserts.equals(env, "imggen", argv[1])

        # ImgGen's positional arguments come last: OutputFile OEMInputXML MSPackageRoot.
        asserts.equals(env, [info.ffu.path, info.oem_input.path, "MSPackages"], argv[-3:])
        asserts.true(env, "/CPUType:arm" in argv, "cpu passed: %s" % argv)
        for fm in ctx.attr.fm_args:
            asserts.true(env, [a for a in argv if a.startswith("--fm=") and a.endswith(fm)] != [], "--fm=...%s in %s" % (fm, argv))

        # Bazel prunes an executed ImgGen action's inputs to those it read (unused_inputs_list):
        # the packages are checked on its command line, and among the inputs of OemResolve,
        # which declares the same ones and keeps them (it lists no unused inputs).
        resolve_inputs = _basenames(_action(env, "OemResolve").inputs.to_list())
        for p in ctx.attr.input_packages:
            asserts.true(env, [a for a in argv if a.startswith("--package=") and a.endswith("/" + p)] != [], "--package=...%s in %s" % (p, argv))
            asserts.true(env, p in resolve_inputs, "%s is an input of OemResolve" % p)
        asserts.equals(env, sorted([name + ".ffu", name + ".unused_inputs"] + side), _basenames(action.outputs.to_list()))
        inputs = action.inputs.to_list()
        for flag, file in ctx.attr.file_flags.items():
            # --flag=PATH with PATH an input of the action (a certificate the check reads).
            args = [a for a in argv if a.startswith(flag + "=") and a.endswith("/" + file)]
            asserts.true(env, args != [], "%s=...%s in %s" % (flag, file, argv))
            asserts.true(env, [f for f in inputs if f.basename == file] != [], "%s is an input of OemImgGen" % file)
    return analysistest.end(env)

image_test = analysistest.make(_image_test_impl, attrs = {
    "file_flags": attr.string_dict(doc = "flag -> basename of the file it must name, an input of the action"),
    "fm_args": attr.string_list(),
    "input_packages": attr.string_list(),
})

def _merged_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    asserts.true(env, FeatureManifestInfo in target, "merged_packages provides FeatureManifestInfo")
    action = _action(env, "OemFeatureMerger")
    if action:
        for a in ctx.attr.expected_args:
            asserts.true(env, a in _argv(action), "%s in %s" % (a, _argv(action)))

        # FeatureMerger's InputFile: the FM of `fm`, never one of its deps.
        asserts.equals(env, ctx.attr.input_fm, _argv(action)[2].split("/")[-1], "InputFile in %s" % _argv(action))
    return analysistest.end(env)

merged_test = analysistest.make(_merged_test_impl, attrs = {
    "expected_args": attr.string_list(),
    "input_fm": attr.string(mandatory = True),
})

def _wim_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[WimInfo]
    asserts.equals(env, target.label.name + ".wim", info.wim.basename)
    action = _action(env, "OemImgToWim")
    if action:
        asserts.equals(env, ["imgtowim", "--compression=lzx", info.ffu.path, info.wim.path], _argv(action)[1:])
    return analysistest.end(env)

wim_test = analysistest.make(_wim_test_impl)

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

failure_test = analysistest.make(_failure_test_impl, expect_failure = True, attrs = {"message": attr.string()})

def _customization_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    mnemonic = "OemImgGen" if ImageInfo in target else "OemCustomizationGen"
    action = _action(env, mnemonic)
    if action:
        argv = _argv(action)
        for a in ctx.attr.expected_args:
            asserts.true(env, a in argv, "%s passed: %s" % (a, argv))
        asserts.true(env, ctx.attr.answer_file in [a.split("/")[-1] for a in argv], "%s passed: %s" % (ctx.attr.answer_file, argv))
        inputs = _basenames(action.inputs.to_list())
        for f in ctx.attr.inputs:
            asserts.true(env, f in inputs, "%s is an input of %s" % (f, mnemonic))
        asserts.true(env, ctx.attr.output_dir in _basenames(action.outputs.to_list()), "%s among the outputs" % ctx.attr.output_dir)
    if ImageInfo in target:
        asserts.equals(env, [ctx.attr.output_dir], _basenames(target[OutputGroupInfo].customization_packages.to_list()))
        if action:
            out = [a for a in _argv(action) if a.startswith("--customization-out=") and a.endswith("/" + ctx.attr.output_dir)]
            asserts.equals(env, 1, len(out), "--customization-out=.../%s in %s" % (ctx.attr.output_dir, _argv(action)))
    return analysistest.end(env)

customization_test = analysistest.make(_customization_test_impl, attrs = {
    "answer_file": attr.string(),
    "expected_args": attr.string_list(),
    "inputs": attr.string_list(),
    "output_dir": attr.string(),
})

def _toolchain_test_impl(ctx):
    env = analysistest.begin(ctx)
    action = _action(env, ctx.attr.mnemonic)
    if action:
        tool = _argv(action)[0]
        asserts.true(env, tool.endswith(ctx.attr.tool), "the action runs .../%s: %s" % (ctx.attr.tool, tool))
        asserts.true(env, "-exec-" in tool or "/host/" in tool, "the tool is built for the execution platform: %s" % tool)
        asserts.true(env, tool in [f.path for f in action.inputs.to_list()], "the tool is an input of the action: %s" % tool)
    return analysistest.end(env)

_TOOLCHAIN_TEST_ATTRS = {
    "mnemonic": attr.string(mandatory = True),
    "tool": attr.string(mandatory = True, doc = "How the path of the tool the action runs ends."),
}

# Actions run the tool of the registered toolchain, built in the exec configuration.
toolchain_test = analysistest.make(_toolchain_test_impl, attrs = _TOOLCHAIN_TEST_ATTRS)

# A toolchain of the user's own, given with --extra_toolchains, takes precedence over the
# default one. (The label flag --@rules_oemimage//tools:oemimage cannot be tested here: Bazel 4
# builds exec tools in the host configuration of the command line, which no transition reaches.)
own_toolchain_test = analysistest.make(
    _toolchain_test_impl,
    attrs = _TOOLCHAIN_TEST_ATTRS,
    config_settings = {"//command_line_option:extra_toolchains": [str(Label("//tests:fake_oemimage_toolchain"))]},
)

def _signed_image_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[ImageInfo]
    name = target.label.name
    asserts.equals(env, name + ".ffu", info.ffu.basename)
    asserts.equals(env, [name + ".ffu"], _basenames(target[DefaultInfo].files.to_list()))
    sign = _action(env, "OemImageSign")
    if sign:
        # imagesigner SIGN <image> <catalog> --output=<name>.ffu: the catalog is the side file.
        argv = _argv(sign)
        asserts.equals(env, ["imagesigner", "SIGN"], argv[1:3])
        asserts.equals(env, info.side_files["cat"].path, argv[4])
        asserts.true(env, "--output=" + info.ffu.path in argv, "--output= in %s" % argv)
    catalogs = [a for a in analysistest.target_actions(env) if a.mnemonic == "OemSignCatalog"]
    if ctx.attr.catalog:
        asserts.equals(env, 0, len(catalogs), "OemSignCatalog actions with a signed catalog given")
        asserts.equals(env, ctx.attr.catalog, info.side_files["cat"].basename)
    else:
        asserts.equals(env, 1, len(catalogs), "OemSignCatalog actions")
        asserts.equals(env, name + ".cat", info.side_files["cat"].basename)
        if catalogs:
            argv = _argv(catalogs[0])
            asserts.equals(env, "sign", argv[1])
            for flag in ctx.attr.signing_flags:
                asserts.true(env, [a for a in argv if a.startswith(flag)] != [], "%s... in %s" % (flag, argv))

            # Action.execution_info exists from Bazel 5 on: on 4.2.3 these requirements are not
            # checked here (tests/signing_example.sh checks no-remote on key-signing actions
            # through aquery).
            info_of = getattr(catalogs[0], "execution_info", None)
            for req in ctx.attr.execution_requirements if info_of != None else []:
                asserts.true(env, req in info_of, "%s in the execution requirements %s" % (req, info_of))
            asserts.true(env, "--out=" + info.side_files["cat"].path in argv, "--out= in %s" % argv)
    return analysistest.end(env)

signed_image_test = analysistest.make(_signed_image_test_impl, attrs = {
    "catalog": attr.string(),
    "execution_requirements": attr.string_list(),
    "signing_flags": attr.string_list(),
})

def _submission_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    name = target.label.name
    ffu = target[ImageInfo].ffu
    asserts.equals(env, sorted([name + ".trunc", name + ".submission.cat", name + ".submission.txt"]), _basenames(target[OutputGroupInfo].submission.to_list()))
    trunc = _action(env, "OemImageTruncate")
    if trunc:
        asserts.equals(env, ["imagesigner", "TRUNCATE", ffu.path], _argv(trunc)[1:4])
    get = _action(env, "OemImageGetCatalog")
    if get:
        # --stdout=<name>.submission.txt (what GETCATALOG prints) comes before the verb.
        argv = _argv(get)
        asserts.true(env, "--stdout=%s/%s.submission.txt" % (ffu.dirname, name) in argv, "--stdout= in %s" % argv)
        verb = argv[argv.index("imagesigner"):] if "imagesigner" in argv else argv
        asserts.equals(env, ["imagesigner", "GETCATALOG", "%s/%s.trunc" % (ffu.dirname, name)], verb[:3])
    return analysistest.end(env)

submission_test = analysistest.make(_submission_test_impl)
