#!/usr/bin/env bash
# tests/signing_example.sh: the signing rules end to end, in a copy of examples/contoso (run by
# tests/test_all.sh). Test keys are made here, at test time, with openssl: none is committed.
#   1. a test root and a code-signing leaf; signing_identity + mobile_package(signing = ...);
#      osslsigncode verifies the package's content.cat against the root, and rejects it against
#      another root; the PkgGen action that reads the key is tagged no-remote;
#   2. oem_image(trusted_root = ...) of the retail image (ReleaseType Production) refuses the kit's unsigned packages,
#      naming a package (the same image without trusted_root is //images:retail, built by the
#      example tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bazel_lib.sh
source "$root/tests/bazel_lib.sh"
example_copy
d=$ex/signing
mkdir -p "$d/payload"

# The test PKI: a root, a leaf for code signing issued by it, and an unrelated root.
pki() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Contoso Test Root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$d/root.key" -out "$d/root.pem"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=Contoso Test Signer" -keyout "$d/leaf.key" -out "$d/leaf.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$d/leaf.ext"
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/root.pem" -CAkey "$d/root.key" -CAcreateserial -days 30 \
    -extfile "$d/leaf.ext" -out "$d/leaf.pem"
  cat "$d/leaf.pem" "$d/root.pem" >"$d/chain.pem"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Other Root" -keyout "$d/other.key" -out "$d/other.pem"
  rm -f "$d/root.key" "$d/leaf.csr" "$d/other.key"
}
pki >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; fail "openssl could not make the test PKI"; }
echo "Contoso signed payload" >"$d/payload/signed.txt"
cat >"$d/BUILD.bazel" <<'EOF'
load("@rules_oemimage//rules:defs.bzl", "mobile_package", "oem_image", "signing_identity")

signing_identity(
    name = "test_identity",
    cert = "chain.pem",
    key = "leaf.key",
)

mobile_package(
    name = "signed",
    component = "Signed",
    files = {"\\Programs\\Signed\\signed.txt": "payload/signed.txt"},
    owner = "Contoso",
    signing = ":test_identity",
)

oem_image(
    name = "production_trusted",
    feature_manifests = [
        "//kit:ms_optional_features",
        "//oem:contoso_fm_merged",
    ],
    ms_packages = ["//kit:ms_packages"],
    oem_input = "//images:RetailOEMInput.xml",
    trusted_root = "root.pem",
)
EOF

# 1. The signed package.
bz build //signing:signed >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "bazel build //signing:signed"; }
spkg=$(cd "$ex" && find -L bazel-bin/signing -name 'Contoso.Signed.spkg' | head -1)
[ -n "$spkg" ] || fail "no Contoso.Signed.spkg under bazel-bin/signing"
mkdir -p "$work/x"
cabextract -q -d "$work/x" "$ex/$spkg"
[ -s "$work/x/content.cat" ] || fail "the package has no content.cat"
osslsigncode verify -CAfile "$d/root.pem" -in "$work/x/content.cat" >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; fail "osslsigncode does not verify the package catalog against the test root"; }
grep -q "Succeeded" "$work/verify.log" || { cat "$work/verify.log" >&2; fail "osslsigncode did not say Succeeded"; }
if osslsigncode verify -CAfile "$d/other.pem" -in "$work/x/content.cat" >"$work/other.log" 2>&1; then
  fail "osslsigncode accepted the catalog against an unrelated root"
fi
echo "PROPERTY OK signing: osslsigncode verifies $(basename "$spkg")'s content.cat against the test root and rejects another root"
bz aquery 'mnemonic("OemPkgGen", //signing:signed)' >"$work/aquery.log" 2>&1 || { cat "$work/aquery.log" >&2; fail "bazel aquery"; }
grep -q "no-remote" "$work/aquery.log" || { cat "$work/aquery.log" >&2; fail "the PkgGen action that reads the key is not tagged no-remote"; }
echo "PROPERTY OK signing: the action that reads the key is tagged no-remote"

# 2. A Production image with a trusted root refuses the unsigned kit.
if bz build //signing:production_trusted >"$work/image.log" 2>&1; then
  fail "a Production image with trusted_root was built from unsigned packages"
fi
grep -qE "catalog|not signed|unsigned" "$work/image.log" || { tail -30 "$work/image.log" >&2; fail "the refusal does not say what was wrong"; }
grep -qE "Microsoft\.[A-Za-z.]+|Contoso\.[A-Za-z.]+" "$work/image.log" || { tail -30 "$work/image.log" >&2; fail "the refusal names no package"; }
echo "PROPERTY OK signing: a Production image with trusted_root refuses unsigned packages: $(grep -m1 -E 'catalog|signed' "$work/image.log" | cut -c1-240)"
