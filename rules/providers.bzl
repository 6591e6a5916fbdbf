"""Providers of rules_oemimage: the small descriptors that pass between rules.

Every provider the rules return is defined here, so this file is the one place that documents
what flows between `mobile_package`, `feature_manifest`, `merged_packages`, `oem_image` and
`wim_image`, and what the oemimage toolchain gives them. Descriptors carry identities and File
references, never copies of big files.
"""

PackageInfo = provider(
    doc = """A mobile package (.spkg) and its identity, so that no rule has to unpack a package
to learn its name. Returned by `mobile_package`.""",
    fields = {
        "name": "Package name: `Owner.Component[.SubComponent]`, without satellite suffix.",
        "owner": "Owner attribute of the package identity.",
        "component": "Component of the package identity.",
        "sub_component": "SubComponent of the package identity, or \"\".",
        "partition": "Partition the package installs into (MainOS, EFIESP, Data, ...).",
        "release_type": "`Production` or `Test`.",
        "owner_type": "`Microsoft`, `OEM`, `SiliconVendor` or `MobileOperator`.",
        "build_type": "`fre` or `chk`.",
        "cpu": "CPU type: `arm`, `x86`, `arm64` or `amd64`.",
        "version": "Version `a.b.c.d`.",
        "file": "File: the main .spkg; None for a `no_base_package` project, which has satellites only.",
        "satellites": "dict: satellite suffix (`_Lang_xx`, `_RES_WxH`) -> File.",
        "files": "depset of Files: the main .spkg and its satellites.",
    },
)

FeatureManifestInfo = provider(
    doc = """Feature manifests and the package files they may reference. Returned by
`feature_manifest` and `merged_packages`, and taken by `oem_image` and `merged_packages`.

The tools find a PackageFile of a manifest among `packages` by file name, case-insensitively,
as Windows would; two candidates for one name is an error naming both.""",
    fields = {
        "fms": "depset of Files: feature manifest XML files, or directories of them (merged FMFileLists).",
        "packages": "depset of Files: every .spkg/.cab the manifests may reference.",
    },
)

ImageInfo = provider(
    doc = "A full flash update image and the side files ImgGen writes next to it. Returned by `oem_image`, `oem_image_update` and `oem_image_signed`.",
    fields = {
        "ffu": "File: the .ffu image.",
        "side_files": "dict: suffix (`ImageApp.log`, `UpdateInput.xml`, `UpdateOutput.xml`, `UpdateHistory.xml`, `PackageList.xml`, `cat`) -> File.",
        "oem_input": "File: the OEMInput XML the image was built from (None for an `oem_image_update` of an image given as files).",
        "cpu": "CPU type the image was built for.",
        "packages": "depset of Files: every package the image could select from (its feature manifests', kit and PackageFiles).",
        "selection": "File: the packages the OEMInput selects, with reasons (`oemimage resolve` output); None for an `oem_image_update`.",
        "customization_packages": "File (a directory) of the customization packages installed from `customizations`, or None.",
    },
)

CustomizationInfo = provider(
    doc = "An MCSF customization answer file with the files it names. Returned by `customization_packages`; `oem_image(customizations = ...)` takes it.",
    fields = {
        "answer_file": "File: the root answer file (OEMCustomizationXML).",
        "files": "depset of Files: the answer file, the files it imports, its assets, applications and data assets.",
        "variables": "dict: NAME -> directory relative to the execution root, what `$(NAME)` means in the answer files' paths (`oemimage --var=NAME=DIR`).",
        "version": "OEMCustomizationVer of the packages, a.b.c.d.",
        "signing": "SigningInfo that signs the customization packages, or None (unsigned).",
    },
)

WimInfo = provider(
    doc = "A WIM captured from the MainOS partition of an image. Returned by `wim_image`.",
    fields = {
        "wim": "File: the .wim.",
        "compression": "Resource compression of the WIM: `lzx` (the default, as ImgToWIM's), `xpress` or `none`.",
        "ffu": "File: the FFU it was captured from.",
    },
)

SigningInfo = provider(
    doc = """A signing identity: a certificate (with its chain) and its private key, as PEM files or one
PKCS#12 file, or a key on a PKCS#11 token. Returned by `signing_identity`; `mobile_package(signing = ...)` signs the package's
catalog with it (docs/signing.md). The key files are action inputs: see docs/signing.md for
keeping real keys away from remote caches and remote execution.""",
    fields = {
        "cert": "File: PEM certificate(s), the leaf first, or None with `pfx` (and optionally with `pkcs11_key`).",
        "key": "File: unencrypted PEM private key of the leaf, or None with `pfx`.",
        "pfx": "File: PKCS#12 file holding key and chain, or None.",
        "password_file": "File: the PKCS#12 password on its first line, or None.",
        "files": "depset of every File above, the inputs of a signing action.",
        "execution_requirements": "dict: execution requirements of actions that use the key (`no-remote` by default: the key stays on the machine that signs; `requires-network` with a `timestamp_url`).",
        "timestamp_url": "string or None: URL of an RFC 3161 timestamp server that countersigns each signature (`--timestamp-url`); with one, signing needs the network and its output differs each run.",
        "pkcs11_module": "string or None: absolute path of the PKCS#11 module of the token holding the key (`--pkcs11-module`), on the signing machine.",
        "pkcs11_token": "string or None: the token's label (`--pkcs11-token`).",
        "pkcs11_key": "string or None: the private key's label on the token (`--pkcs11-key`); set, the identity is a token key (`cert`, if not None, its chain; `key` and `pfx` None).",
        "pin_file": "string or None: absolute path, on the signing machine, of the file whose first line is the token's PIN (`--pkcs11-pin-file`); not a Bazel input.",
    },
)

OemimageToolchainInfo = provider(
    doc = """The oemimage tool of a toolchain of type `@rules_oemimage//tools:toolchain_type`.
`oemimage_toolchain` returns it as the `oemimage` field of its `platform_common.ToolchainInfo`;
every action of the rules runs `ctx.toolchains["@rules_oemimage//tools:toolchain_type"].oemimage.tool`.""",
    fields = {
        "tool": "FilesToRunProvider: the oemimage executable, built for the execution platform, with its runfiles.",
        "label": "Label of the target the tool comes from (the `oemimage` attribute of the toolchain).",
    },
)
