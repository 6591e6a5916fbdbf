#!/usr/bin/env bash
# tests/signing_example.sh: the signing rules end to end, in a copy of examples/contoso (run by
# tests/test_all.sh). Test keys are made here, at test time, with openssl: none is committed.
#   1. a test root and a code-signing leaf; signing_identity + mobile_package(signing = ...);
#      osslsigncode verifies the package's content.cat against the root, and rejects it against
#      another root; the PkgGen action that reads the key is tagged no-remote;
#   2. oem_image(trusted_root = ...) of the retail image (ReleaseType Production) refuses the kit's unsigned packages,
#      naming a package (the same image without trusted_root is //images:retail, built by the
#      example tests);
#   3. the FFU catalog: the retail round trip (the `submission` output group of //images:retail,
#      its catalog signed outside the build as Microsoft would, oem_image_signed(catalog = ...))
#      and test signing (oem_image_signed(signing = ...)); `ffu verify --trusted-root` and
#      osslsigncode accept both against the root and refuse another root; a catalog signed for
#      one image is refused for another;
#   4. customization_packages(signing = ...): the customization packages, built alone and by the
#      oem_image that installs them, have catalogs osslsigncode verifies against the root; the
#      ImgGen action that then reads the key is tagged no-remote;
#   5. every package of the example signed with --@rules_oemimage//rules:package_signing: the
#      Production image with trusted_root is built, each package catalog passes osslsigncode, the
#      image's FFU catalog is test-signed and ffu verify --trusted-root accepts it.
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
load("@rules_oemimage//rules:defs.bzl", "mobile_package", "oem_image", "oem_image_signed", "signing_identity")

signing_identity(
    name = "test_identity",
    cert = "chain.pem",
    key = "leaf.key",
    visibility = ["//visibility:public"],
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

oem_image_signed(
    name = "retail_test_signed",
    image = "//images:retail",
    signing = ":test_identity",
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

# 3. The FFU catalog. The retail request first: TRUNCATE and GETCATALOG of //images:retail.
bz build --output_groups=submission //images:retail >"$work/submission.log" 2>&1 ||
  { tail -30 "$work/submission.log" >&2; fail "bazel build --output_groups=submission //images:retail"; }
sub=$ex/bazel-bin/images/retail
for f in "$sub.trunc" "$sub.submission.cat" "$sub.submission.txt"; do [ -s "$f" ] || fail "the submission output group has no $(basename "$f")"; done
grep -q "^Platform ID: " "$sub.submission.txt" || { cat "$sub.submission.txt" >&2; fail "GETCATALOG printed no Platform ID"; }
[ "$(stat -L -c %s "$sub.trunc")" -lt "$(stat -L -c %s "$sub.ffu")" ] || fail "retail.trunc is not shorter than retail.ffu"
echo "PROPERTY OK signing: the submission output group has retail.trunc ($(stat -L -c %s "$sub.trunc") of $(stat -L -c %s "$sub.ffu") bytes) and its catalog; $(head -1 "$sub.submission.txt")"
# "Microsoft" signs the catalog, outside the build, with the test leaf; it comes back as a file.
tool=$work/oemimage_run.sh
bz run --script_path="$tool" @rules_oemimage//tools/oemimage >"$work/tool.log" 2>&1 || { tail -20 "$work/tool.log" >&2; fail "bazel run --script_path @rules_oemimage//tools/oemimage"; }
"$tool" sign --cert="$d/chain.pem" --key="$d/leaf.key" "$sub.submission.cat" --out="$d/retail.signed.cat" >"$work/sign.log" 2>&1 ||
  { cat "$work/sign.log" >&2; fail "oemimage sign of the submission catalog"; }
cat >>"$d/BUILD.bazel" <<'EOF'

oem_image_signed(
    name = "retail_signed",
    catalog = "retail.signed.cat",
    image = "//images:retail",
)

oem_image_signed(
    name = "wrong_image",
    catalog = "retail.signed.cat",
    image = "//images:test",
)
EOF
bz build //signing:retail_signed //signing:retail_test_signed >"$work/signed.log" 2>&1 ||
  { tail -30 "$work/signed.log" >&2; fail "bazel build //signing:retail_signed //signing:retail_test_signed"; }
for name in retail_signed retail_test_signed; do
  img=$ex/bazel-bin/signing/$name.ffu
  "$tool" ffu verify --trusted-root="$d/root.pem" "$img" >"$work/v.log" 2>&1 || { cat "$work/v.log" >&2; fail "ffu verify --trusted-root of $name.ffu"; }
  grep -q "OK: catalog signed by" "$work/v.log" || { cat "$work/v.log" >&2; fail "ffu verify of $name.ffu does not say who signed"; }
  if "$tool" ffu verify --trusted-root="$d/other.pem" "$img" >"$work/v2.log" 2>&1; then fail "ffu verify accepted $name.ffu against another root"; fi
  "$tool" imagesigner getcatalog "$img" "$work/$name.cat" >/dev/null 2>&1 || fail "imagesigner getcatalog $name.ffu"
  { osslsigncode verify -CAfile "$d/root.pem" -in "$work/$name.cat" >"$work/o.log" 2>&1 && grep -q "Succeeded" "$work/o.log"; } ||
    { cat "$work/o.log" >&2; fail "osslsigncode does not verify the catalog of $name.ffu against the test root"; }
  echo "PROPERTY OK signing: $name.ffu: $(grep -m1 'OK: catalog signed by' "$work/v.log" | sed 's/.*OK: //'); another root refused; osslsigncode: Succeeded"
done
if cmp -s "$ex/bazel-bin/signing/retail_signed.ffu" "$sub.ffu"; then fail "retail_signed.ffu is the unsigned image"; fi
if bz build //signing:wrong_image >"$work/wrong.log" 2>&1; then fail "a catalog signed for //images:retail was put into //images:test"; fi
grep -q "does not match" "$work/wrong.log" || { tail -20 "$work/wrong.log" >&2; fail "the refusal of another image's catalog does not say it does not match"; }
echo "PROPERTY OK signing: a catalog signed for retail is refused for test: $(grep -m1 'does not match' "$work/wrong.log" | cut -c1-200)"

# verify_packages < PATHS: osslsigncode verifies the content.cat of every package named on
# standard input (NUL-separated) against the test root; prints how many.
verify_packages() {
  local n=0 p
  while IFS= read -r -d '' p; do
    rm -rf "$work/c" && mkdir -p "$work/c" && cabextract -q -F content.cat -d "$work/c" "$p"
    { osslsigncode verify -CAfile "$d/root.pem" -in "$work/c/content.cat" >"$work/c.log" 2>&1 && grep -q "Succeeded" "$work/c.log"; } ||
      { cat "$work/c.log" >&2; fail "osslsigncode does not verify the catalog of $p against the test root"; }
    n=$((n + 1))
  done
  echo "$n"
}

# 4. Signed customization packages: the example's answer file, its packages signed.
sed -i 's|^    version = "10.0.1.5",|    signing = "//signing:test_identity",\n    version = "10.0.1.5",|' "$ex/customizations/BUILD.bazel"
grep -q 'signing = "//signing:test_identity"' "$ex/customizations/BUILD.bazel" || fail "could not add signing to //customizations:contoso_customizations"
bz build --output_groups=+customization_packages //customizations:contoso_customizations //customizations:retail_customized >"$work/custom.log" 2>&1 ||
  { tail -30 "$work/custom.log" >&2; fail "bazel build of the signed customization packages"; }
n=$(find -L "$ex/bazel-bin/customizations" -name '*.spkg' -print0 | verify_packages)
[ "$n" -ge 2 ] || fail "found $n customization packages under bazel-bin/customizations"
bz aquery 'mnemonic("OemImgGen", //customizations:retail_customized)' >"$work/aquery2.log" 2>&1 || { cat "$work/aquery2.log" >&2; fail "bazel aquery OemImgGen"; }
grep -q "no-remote" "$work/aquery2.log" || { cat "$work/aquery2.log" >&2; fail "the ImgGen action that reads the key is not tagged no-remote"; }
echo "PROPERTY OK signing: $n customization packages (customization_packages and the oem_image that installs them) signed; osslsigncode: Succeeded for each; ImgGen tagged no-remote"

# 5. The whole example test-signed: every mobile_package signed through the package_signing flag;
# the Production image with trusted_root, which refused the unsigned kit in 2, is now built (imggen
# checks every package's catalog, signature and member hashes, against the root), and its FFU
# catalog is test-signed and verified.
cat >>"$d/BUILD.bazel" <<'EOF'

oem_image_signed(
    name = "production_trusted_signed",
    image = ":production_trusted",
    signing = ":test_identity",
)
EOF
flag=--@rules_oemimage//rules:package_signing=//signing:test_identity
bz build "$flag" //signing:production_trusted_signed >"$work/all.log" 2>&1 ||
  { tail -30 "$work/all.log" >&2; fail "bazel build $flag //signing:production_trusted_signed"; }
img=$(cd "$ex" && find -L bazel-out/ -path '*/bin/signing/production_trusted_signed.ffu' | head -1)
[ -n "$img" ] || fail "no production_trusted_signed.ffu under bazel-out"
"$tool" ffu verify --trusted-root="$d/root.pem" "$ex/$img" >"$work/v3.log" 2>&1 || { cat "$work/v3.log" >&2; fail "ffu verify --trusted-root of production_trusted_signed.ffu"; }
log=$(dirname "$ex/$img")/production_trusted.ImageApp.log
grep -q "verified against the trusted root" "$log" || { tail -20 "$log" >&2; fail "the image log does not say the catalogs were verified"; }
# The image's packages: those its selection names (bazel-out paths, relative to the example).
sel=$(dirname "$ex/$img")/production_trusted.selection.json
n=$(sed -n 's/^ *"hostPath": "\([^"]*\)",\{0,1\}$/\1/p' "$sel" | tr '\n' '\0' | (cd "$ex" && verify_packages))
[ "$n" -ge 10 ] || fail "the selection of production_trusted names only $n packages"
echo "PROPERTY OK signing: with $flag, the image's $n packages signed (osslsigncode: Succeeded for each); $(grep -m1 'verified against the trusted root' "$log" | sed 's/^.*catalogs/catalogs/'); production_trusted_signed.ffu: $(grep -m1 'OK:' "$work/v3.log" | sed 's/.*OK: //' | cut -c1-120)"
