"""signing_identity: a certificate and key for signing package catalogs (docs/signing.md)."""

load("//rules:providers.bzl", "SigningInfo")

def _signing_identity_impl(ctx):
    cert, key, pfx, password = ctx.file.cert, ctx.file.key, ctx.file.pfx, ctx.file.password_file
    if pfx and (cert or key):
        fail("give cert and key, or pfx, not both")
    if not pfx and not (cert and key):
        fail("give cert and key (PEM), or pfx (PKCS#12)")
    if password and not pfx:
        fail("password_file is for pfx")
    url = ctx.attr.timestamp_url
    if url and not (url.startswith("http://") or url.startswith("https://")):
        fail("timestamp_url must be an http:// or https:// URL of an RFC 3161 timestamp server, not %r" % url)
    files = [f for f in [cert, key, pfx, password] if f]
    reqs = {"no-remote": "1"} if ctx.attr.local_only else {}
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

Bazel hashes the key files like any input. With `local_only` (the default) the actions that
read them are tagged `no-remote`: they run on the machine that holds the key and their results
are neither uploaded to nor fetched from a remote cache. Real production keys belong in an HSM
or outside Bazel (sign the built packages with `oemimage sign`); the example's test keys are made
by a test at test time.""",
    attrs = {
        "cert": attr.label(allow_single_file = True, doc = "PEM certificate(s): the leaf first, then its chain."),
        "key": attr.label(allow_single_file = True, doc = "Unencrypted PEM private key of the leaf (PKCS#8, PKCS#1 or EC)."),
        "pfx": attr.label(allow_single_file = [".pfx", ".p12"], doc = "PKCS#12 file with key and chain."),
        "password_file": attr.label(allow_single_file = True, doc = "File whose first line is the PKCS#12 password."),
        "local_only": attr.bool(default = True, doc = "Tag the actions that use the key `no-remote` (no remote execution or caching)."),
        "timestamp_url": attr.string(doc = "Optional http:// or https:// URL of an RFC 3161 timestamp server that countersigns each signature (`--timestamp-url`). The signing actions then need the network (tagged `requires-network`) and are not reproducible."),
    },
    provides = [SigningInfo],
)

def _unsigned_impl(_ctx):
    return [SigningInfo(cert = None, key = None, pfx = None, password_file = None, files = depset(), execution_requirements = {})]

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
    return info if info.cert or info.pfx else None
