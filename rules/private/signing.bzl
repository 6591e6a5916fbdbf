"""signing_identity: a certificate and key, or a key on a PKCS#11 token, for signing catalogs (docs/signing.md)."""

load("//rules:providers.bzl", "SigningInfo")

def _signing_identity_impl(ctx):
    cert, key, pfx, password = ctx.file.cert, ctx.file.key, ctx.file.pfx, ctx.file.password_file
    module, token, token_key, pin = ctx.attr.pkcs11_module, ctx.attr.pkcs11_token, ctx.attr.pkcs11_key, ctx.attr.pin_file
    on_token = module or token or token_key or pin
    if on_token:
        for name, value in [("key", key), ("pfx", pfx), ("password_file", password)]:
            if value:
                fail("pkcs11_key (a key on a PKCS#11 token) and %s name two signing identities: give one (cert may go with pkcs11_key, as its chain)" % name)
        for name, value, what in [
            ("pkcs11_module", module, "the path of the token's PKCS#11 module (LIB.so) on the signing machine"),
            ("pkcs11_token", token, "the token's label"),
            ("pkcs11_key", token_key, "the private key's label on the token"),
            ("pin_file", pin, "the path, on the signing machine, of a file whose first line is the token's PIN (actions do not see the environment)"),
        ]:
            if not value:
                fail("a PKCS#11 key needs %s: %s" % (name, what))
        if not module.startswith("/") or not pin.startswith("/"):
            fail("pkcs11_module and pin_file are absolute paths on the signing machine (not Bazel inputs): %r, %r" % (module, pin))
    else:
        if pfx and (cert or key):
            fail("give cert and key, or pfx, not both")
        if not pfx and not (cert and key):
            fail("give cert and key (PEM), pfx (PKCS#12), or pkcs11_module, pkcs11_token, pkcs11_key and pin_file (a PKCS#11 token)")
        if password and not pfx:
            fail("password_file is for pfx")
    url = ctx.attr.timestamp_url
    if url and not (url.startswith("http://") or url.startswith("https://")):
        fail("timestamp_url must be an http:// or https:// URL of an RFC 3161 timestamp server, not %r" % url)
    files = [f for f in [cert, key, pfx, password] if f]
    reqs = {"no-remote": "1"} if ctx.attr.local_only else {}
    if on_token:
        # The module, the PIN file and the token (its daemon, device or SoftHSM's token
        # directory) are on the signing machine, outside the action's declared inputs.
        reqs["no-remote"] = "1"
        reqs["no-sandbox"] = "1"
    if url:
        # The signing actions ask the timestamp server: let them reach the network.
        reqs["requires-network"] = "1"
    return [
        DefaultInfo(files = depset([cert] if cert else [])),
        SigningInfo(
            cert = cert,
            key = key,
            pfx = pfx,
            password_file = password,
            files = depset(files),
            execution_requirements = reqs,
            timestamp_url = url or None,
            pkcs11_module = module or None,
            pkcs11_token = token or None,
            pkcs11_key = token_key or None,
            pin_file = pin or None,
        ),
    ]

signing_identity = rule(
    implementation = _signing_identity_impl,
    doc = """A signing identity for `mobile_package(signing = ...)`: an X.509 certificate with its chain
and its private key, as PEM files (`cert`, `key`) or one PKCS#12 file (`pfx`, `password_file`).
Catalogs are signed with SHA-256, the chain embedded, and no timestamp unless `timestamp_url`
names an RFC 3161 timestamp server (docs/signing.md).

With `timestamp_url`, every signing action asks that server for a token (the actions are tagged
`requires-network`), fails if it gets none, and is not reproducible: the token holds the
server's time and a random nonce, so the same inputs give different catalogs each time (and a
cache hit returns the catalog of an earlier run, with its older timestamp). Leave it unset for
test signing and hermetic builds.

With `pkcs11_module`, `pkcs11_token`, `pkcs11_key` and `pin_file` the key is on a PKCS#11 token
(an HSM, a smart card, SoftHSM) and never leaves it; `cert`, if given, is its chain, else the
token's certificate of the key is embedded. Module and PIN file are absolute paths on the
signing machine, not Bazel inputs (the PIN is not hashed into action keys nor copied into
sandboxes or caches); the actions are tagged `no-remote` and `no-sandbox`, whatever
`local_only` says, and need an oemimage built with the PKCS#11 support
(`--@io_bazel_rules_go//go/config:tags=pkcs11` and a C toolchain; docs/signing.md). Bazel does
not see the token: after changing the key behind a label, rebuild with a new label or
`bazel clean`.

Bazel hashes the key files like any input. With `local_only` (the default) the actions that
read them are tagged `no-remote`: they run on the machine that holds the key and their results
are neither uploaded to nor fetched from a remote cache. Real production keys belong in an HSM
or outside Bazel (sign the built packages with `oemimage sign`); the example's test keys are made
by a test at test time.""",
    attrs = {
        "cert": attr.label(allow_single_file = True, doc = "PEM certificate(s): the leaf first, then its chain. With `pkcs11_key`, optional: without it the token's certificate of the key."),
        "key": attr.label(allow_single_file = True, doc = "Unencrypted PEM private key of the leaf (PKCS#8, PKCS#1 or EC)."),
        "pfx": attr.label(allow_single_file = [".pfx", ".p12"], doc = "PKCS#12 file with key and chain."),
        "password_file": attr.label(allow_single_file = True, doc = "File whose first line is the PKCS#12 password."),
        "pkcs11_module": attr.string(doc = "Absolute path, on the signing machine, of the PKCS#11 module of the token holding the key (`--pkcs11-module`), e.g. `/usr/lib/softhsm/libsofthsm2.so`. With `pkcs11_token`, `pkcs11_key` and `pin_file`; not with `key` or `pfx`."),
        "pkcs11_token": attr.string(doc = "Label of the token (`--pkcs11-token`)."),
        "pkcs11_key": attr.string(doc = "Label (CKA_LABEL) of the private key on the token (`--pkcs11-key`)."),
        "pin_file": attr.string(doc = "Absolute path, on the signing machine, of a file whose first line is the token's user PIN (`--pkcs11-pin-file`); read by the action, not a Bazel input."),
        "local_only": attr.bool(default = True, doc = "Tag the actions that use the key `no-remote` (no remote execution or caching)."),
        "timestamp_url": attr.string(doc = "Optional http:// or https:// URL of an RFC 3161 timestamp server that countersigns each signature (`--timestamp-url`). The signing actions then need the network (tagged `requires-network`) and are not reproducible."),
    },
    provides = [SigningInfo],
)

def _unsigned_impl(_ctx):
    return [SigningInfo(cert = None, key = None, pfx = None, password_file = None, files = depset(), execution_requirements = {}, pkcs11_key = None)]

# The default of //rules:package_signing: no identity, so packages are unsigned.
unsigned = rule(
    implementation = _unsigned_impl,
    doc = "No signing identity: the default of `//rules:package_signing` (packages unsigned).",
    provides = [SigningInfo],
)

def signing_of(ctx):
    """The SigningInfo a package rule signs with: its `signing` attribute, else `//rules:package_signing`.

    Args:
      ctx: rule context with the attributes `signing` and `_package_signing`.

    Returns:
      SigningInfo, or None for unsigned.
    """
    if ctx.attr.signing:
        return ctx.attr.signing[SigningInfo]
    info = ctx.attr._package_signing[SigningInfo]
    return info if info.cert or info.pfx or getattr(info, "pkcs11_key", None) else None
