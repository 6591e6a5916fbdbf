"""Public API of rules_oemimage: load everything from here.

```
load("@rules_oemimage//rules:defs.bzl", "feature_manifest", "mobile_package", "oem_image")
```
"""

load(":providers.bzl", _CustomizationInfo = "CustomizationInfo", _FeatureManifestInfo = "FeatureManifestInfo", _ImageInfo = "ImageInfo", _OemimageToolchainInfo = "OemimageToolchainInfo", _PackageInfo = "PackageInfo", _SigningInfo = "SigningInfo", _WimInfo = "WimInfo")
load("//rules/private:customization.bzl", _customization_packages = "customization_packages")
load("//rules/private:feature_manifest.bzl", _feature_manifest = "feature_manifest")
load("//rules/private:merged_packages.bzl", _merged_packages = "merged_packages")
load("//rules/private:mobile_package.bzl", _mobile_package = "mobile_package", _mobile_package_rule = "mobile_package_rule")
load("//rules/private:oem_image.bzl", _oem_image = "oem_image")
load("//rules/private:oem_image_signed.bzl", _oem_image_signed = "oem_image_signed")
load("//rules/private:oem_image_update.bzl", _oem_image_update = "oem_image_update")
load("//rules/private:oem_image_test.bzl", _oem_image_test = "oem_image_test", _wim_image_test = "wim_image_test")
load("//rules/private:signing.bzl", _signing_identity = "signing_identity")
load("//rules/private:toolchain.bzl", _oemimage_toolchain = "oemimage_toolchain")
load("//rules/private:wim_image.bzl", _wim_image = "wim_image")

customization_packages = _customization_packages
mobile_package = _mobile_package
mobile_package_rule = _mobile_package_rule
feature_manifest = _feature_manifest
merged_packages = _merged_packages
oem_image = _oem_image
oem_image_signed = _oem_image_signed
oem_image_update = _oem_image_update
oem_image_test = _oem_image_test
oemimage_toolchain = _oemimage_toolchain
signing_identity = _signing_identity
wim_image = _wim_image
wim_image_test = _wim_image_test

PackageInfo = _PackageInfo
FeatureManifestInfo = _FeatureManifestInfo
ImageInfo = _ImageInfo
WimInfo = _WimInfo
CustomizationInfo = _CustomizationInfo
OemimageToolchainInfo = _OemimageToolchainInfo
SigningInfo = _SigningInfo
