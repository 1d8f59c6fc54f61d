#!/usr/bin/env python3
"""Cargo's target directory, as `cargo metadata` reports it.

Binaries are not always in ./target: CARGO_TARGET_DIR, `build.target-dir` in
a .cargo/config.toml, or a workspace elsewhere move them. `cargo metadata
--format-version 1 --no-deps` knows where they go (`target_directory`), so the
scripts and the Makefile ask it instead of assuming ./target.

    scripts/cargo_target.py [MANIFEST]    prints the directory (default: the
                                          project's Cargo.toml)
    from cargo_target import target_dir   the same from Python

Only the standard library is used; `cargo` is taken from $CARGO, else PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def target_dir(manifest: Path | str | None = None) -> Path:
    """The target directory of the workspace of `manifest` (default: this project)."""
    manifest = Path(manifest) if manifest else ROOT / "Cargo.toml"
    cargo = os.environ.get("CARGO", "cargo")
    out = subprocess.run(
        [cargo, "metadata", "--format-version", "1", "--no-deps", "--offline",
         "--manifest-path", str(manifest)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"cargo metadata failed for {manifest}: {out.stderr.strip()}")
    return Path(json.loads(out.stdout)["target_directory"])


def main() -> int:
    try:
        print(target_dir(sys.argv[1] if len(sys.argv) > 1 else None))
    except (OSError, RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
        print(f"cargo_target: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
