"""feature_manifest: a feature manifest (FM) XML and the packages it may reference."""

load("//rules:providers.bzl", "FeatureManifestInfo")
load(":common.bzl", "PACKAGE_EXTENSIONS", "package_files")

def _check_unique_names(ctx):
    """A PackageFile is matched by file name, case-insensitively: two candidates are an error."""
    seen = {}
    for target in ctx.attr.packages:
        for f in package_files([target])[0].to_list():
            key = f.basename.lower()
            if key in seen and seen[key] != target.label:
                fail("packages: %s is given by both %s and %s; a PackageFile is matched by file name, so it must be unique" % (
                    f.basename,
                    seen[key],
                    target.label,
                ))
            seen[key] = target.label

def _feature_manifest_impl(ctx):
    fm = ctx.file.src
    _check_unique_names(ctx)
    packages = depset(transitive = package_files(ctx.attr.packages) + [
        d[FeatureManifestInfo].packages
        for d in ctx.attr.deps
    ])
    return [
        DefaultInfo(files = depset([fm])),
        FeatureManifestInfo(
            fms = depset([fm], transitive = [d[FeatureManifestInfo].fms for d in ctx.attr.deps]),
            packages = packages,
        ),
    ]

feature_manifest = rule(
    implementation = _feature_manifest_impl,
    doc = """A feature manifest (FM) XML file and the package files its PackageFile elements may
reference.

A PackageFile (`Path` + `Name`, with `$(mspackageroot)`, `%VAR%` and Windows paths) is matched to
one of `packages` by file name, case-insensitively, as on Windows; an image or merge that
selects a package no target provides fails, naming the FM, line and expected path.""",
    attrs = {
        "src": attr.label(mandatory = True, allow_single_file = [".xml"], doc = "The feature manifest XML."),
        "packages": attr.label_list(
            allow_files = PACKAGE_EXTENSIONS,
            doc = "`mobile_package` targets or checked-in .spkg/.cab files the FM references.",
        ),
        "deps": attr.label_list(
            providers = [FeatureManifestInfo],
            doc = "Other feature manifests whose packages this one may reference too.",
        ),
    },
)
