"""Repositories for building offline with Debian's Bazel 4.2.3, from what tools/bootstrap/setup.sh
prepares under `.offline/` of the rules_oemimage checkout.

Loads nothing external, so a WORKSPACE can call it before rules_go and gazelle exist:

```
local_repository(name = "rules_oemimage", path = "../..")

load("@rules_oemimage//rules:offline.bzl", "offline_repositories")

offline_repositories(offline_dir = "../../.offline")
```
"""

# A WORKSPACE macro declaring repositories of fixed names, as go_rules_dependencies(): a name
# argument would name nothing.
# buildifier: disable=unnamed-macro
def offline_repositories(offline_dir):
    """Declares the repositories of the offline setup as local repositories.

    They are rules_cc, rules_java, rules_proto, bazel_skylib, remote_coverage_tools,
    io_bazel_rules_go, bazel_gazelle and the Go SDK files.

    Wrap the SDK afterwards with `go_wrap_sdk(name = "go_sdk", root_file = "@go_sdk_files//:VERSION")`.

    Args:
      offline_dir: the prepared `.offline` directory, relative to the workspace root.
    """

    # The first five replace what Bazel 4.2.3's built-in WORKSPACE suffix would download.
    for name in ["rules_cc", "rules_java", "rules_proto", "bazel_skylib", "remote_coverage_tools"]:
        native.local_repository(name = name, path = offline_dir + "/" + name)
    native.local_repository(name = "io_bazel_rules_go", path = offline_dir + "/rules_go")
    native.local_repository(name = "bazel_gazelle", path = offline_dir + "/bazel_gazelle")

    # go_wrap_sdk takes a label, so the SDK path stays relative to the workspace.
    native.new_local_repository(
        name = "go_sdk_files",
        build_file_content = 'exports_files(["VERSION"])',
        path = offline_dir + "/go",
    )
