#!/usr/bin/env python3
"""Packages built provider binaries as a signed Terraform provider release.

The one implementation of the release layout: `make release` (scripts/release.sh)
runs it on the cross-built binaries, and the registry acceptance test
(tests/acc_registry.rs) runs it on the binary `cargo build` made. Given
`--binary PLATFORM=PATH` for each platform it writes into `--dist`:

  terraform-provider-cph_{V}_{os}_{arch}.zip   the binary as
        terraform-provider-cph_v{V} (.exe on Windows), as the Registry expects
  cph-emulator_{V}_{os}_{arch}.zip             the emulator as cph-emulator
        (.exe on Windows), for each `--emulator PLATFORM=PATH` given
  terraform-provider-cph_{V}_manifest.json     terraform-registry-manifest.json
  terraform-provider-cph_{V}_SHA256SUMS        every zip (the emulator's too)
                                               and the manifest
  terraform-provider-cph_{V}_SHA256SUMS.sig    binary detached GPG signature
  signing-key.asc                              the ASCII-armoured public key
  registry/                                    what a provider registry serves:
      .well-known/terraform.json, v1/providers/{ns}/{type}/versions and
      v1/providers/{ns}/{type}/{V}/download/{os}/{arch} (URLs from --base-url)
  network-mirror/registry.terraform.io/{ns}/{type}/
      index.json, {V}.json (h1: hashes) and the zips, as
      `terraform providers mirror` writes them (serve it over HTTPS)
  mirror/registry.terraform.io/{ns}/{type}/{V}/{os}_{arch}/
      the unpacked binaries: a filesystem mirror

Signing: with --gpg-key (a key id in the caller's keyring) that key signs;
without it a throwaway RSA key is made in a temporary GNUPGHOME that is
deleted afterwards, and the release is for testing only. Nothing secret is
written under --dist.
"""

import argparse
import base64
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

NAME = "terraform-provider-cph"
EMULATOR = "cph-emulator"
NAMESPACE = "cloudphone"
TYPE = "cph"
HOSTNAME = "registry.terraform.io"
# Fixed zip timestamps: the same binary always gives the same zip (and zh: hash).
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def zip_binary(binary, member, out):
    """Writes `out`, a zip holding `binary`'s bytes as `member` (mode 0755)."""
    info = zipfile.ZipInfo(member, date_time=ZIP_DATE)
    info.external_attr = (0o100755 << 16)
    info.create_system = 3  # Unix, so that the mode above is honoured
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info, pathlib.Path(binary).read_bytes())


def h1_hash(zip_path):
    """Terraform's h1: hash of a package: Go's dirhash Hash1 over the zip's
    files, i.e. base64 of the SHA-256 of sorted lines "{sha256 hex}  {name}\\n"."""
    lines = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            if "\n" in name:
                raise ValueError(f"file name with a newline in {zip_path}")
            lines.append(f"{sha256_hex(z.read(name))}  {name}\n")
    digest = hashlib.sha256("".join(lines).encode()).digest()
    return "h1:" + base64.b64encode(digest).decode()


def write_json(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


class Signer:
    """A GPG key that signs: the caller's (by id) or a throwaway one."""

    def __init__(self, key_id):
        self.home = None
        self.key_id = key_id
        if not key_id:
            self.home = tempfile.mkdtemp(prefix="cph-release-gnupg.")
            os.chmod(self.home, 0o700)
            self._gpg("--quick-generate-key", "--passphrase", "",
                      f"{NAME} release key (FOR TESTING ONLY) <testing-only@invalid>",
                      "rsa3072", "sign", "never")
            self.key_id = self._long_key_id("")
        else:
            self.key_id = self._long_key_id(key_id)

    def _gpg(self, *args, capture=False):
        env = dict(os.environ)
        if self.home:
            env["GNUPGHOME"] = self.home
        cmd = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", *args]
        done = subprocess.run(cmd, env=env, check=True,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        return done.stdout.decode() if capture else ""

    def _long_key_id(self, selector):
        listing = self._gpg("--with-colons", "--list-secret-keys",
                            *([selector] if selector else []), capture=True)
        for line in listing.splitlines():
            fields = line.split(":")
            if fields[0] == "sec":
                return fields[4].upper()
        raise SystemExit(f"release: no secret key {selector!r} in the keyring")

    def public_key(self):
        return self._gpg("--armor", "--export", self.key_id, capture=True)

    def sign(self, path):
        self._gpg("--local-user", self.key_id, "--detach-sign",
                  "--output", f"{path}.sig", str(path))

    def close(self):
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)


def registry_documents(dist, version, protocols, packages, base_url, key_id, armor):
    """The provider registry protocol's documents under dist/registry/."""
    root = dist / "registry"
    write_json(root / ".well-known" / "terraform.json", {"providers.v1": "/v1/providers/"})
    provider = root / "v1" / "providers" / NAMESPACE / TYPE
    platforms = []
    sums = f"{NAME}_{version}_SHA256SUMS"
    for platform, zip_name, shasum in packages:
        os_name, arch = platform.split("_", 1)
        platforms.append({"os": os_name, "arch": arch})
        write_json(provider / version / "download" / os_name / arch, {
            "protocols": protocols,
            "os": os_name,
            "arch": arch,
            "filename": zip_name,
            "download_url": base_url + zip_name,
            "shasums_url": base_url + sums,
            "shasums_signature_url": base_url + sums + ".sig",
            "shasum": shasum,
            "signing_keys": {"gpg_public_keys": [
                {"key_id": key_id, "ascii_armor": armor,
                 "trust_signature": "", "source": "", "source_url": None}]},
        })
    write_json(provider / "versions", {"versions": [
        {"version": version, "protocols": protocols, "platforms": platforms}]})


def network_mirror(dist, version, packages):
    """The layout `terraform providers mirror` writes, zips beside the JSON."""
    root = dist / "network-mirror" / HOSTNAME / NAMESPACE / TYPE
    root.mkdir(parents=True, exist_ok=True)
    archives = {}
    for platform, zip_name, _ in packages:
        shutil.copyfile(dist / zip_name, root / zip_name)
        archives[platform] = {"url": zip_name, "hashes": [h1_hash(root / zip_name)]}
    write_json(root / "index.json", {"versions": {version: {}}})
    write_json(root / f"{version}.json", {"archives": archives})


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", required=True)
    p.add_argument("--dist", required=True, type=pathlib.Path)
    p.add_argument("--manifest", required=True, type=pathlib.Path,
                   help="terraform-registry-manifest.json")
    p.add_argument("--binary", action="append", required=True, metavar="PLATFORM=PATH")
    p.add_argument("--emulator", action="append", default=[], metavar="PLATFORM=PATH",
                   help="a cph-emulator binary, zipped beside the provider's")
    p.add_argument("--base-url", required=True,
                   help="where the zips and SHA256SUMS will be downloaded from")
    p.add_argument("--gpg-key", default="", help="key id; empty: a throwaway key")
    args = p.parse_args(argv)
    if not args.base_url.endswith("/"):
        args.base_url += "/"
    return args


def package(args):
    dist, version = args.dist, args.version
    dist.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(args.manifest.read_text())
    protocols = manifest["metadata"]["protocol_versions"]
    packages = []
    for spec in args.binary:
        platform, _, binary = spec.partition("=")
        member = f"{NAME}_v{version}" + (".exe" if platform.startswith("windows_") else "")
        zip_name = f"{NAME}_{version}_{platform}.zip"
        zip_binary(binary, member, dist / zip_name)
        packages.append((platform, zip_name, sha256_hex((dist / zip_name).read_bytes())))
        unpacked = dist / "mirror" / HOSTNAME / NAMESPACE / TYPE / version / platform
        unpacked.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(binary, unpacked / member)
        os.chmod(unpacked / member, 0o755)
    emulators = []
    for spec in args.emulator:
        platform, _, binary = spec.partition("=")
        member = EMULATOR + (".exe" if platform.startswith("windows_") else "")
        zip_name = f"{EMULATOR}_{version}_{platform}.zip"
        zip_binary(binary, member, dist / zip_name)
        emulators.append((zip_name, sha256_hex((dist / zip_name).read_bytes())))
    manifest_name = f"{NAME}_{version}_manifest.json"
    shutil.copyfile(args.manifest, dist / manifest_name)
    sums = dist / f"{NAME}_{version}_SHA256SUMS"
    listed = [(n, s) for _, n, s in packages] + emulators
    listed.append((manifest_name, sha256_hex((dist / manifest_name).read_bytes())))
    sums.write_text("".join(f"{s}  {n}\n" for n, s in sorted(listed)))

    signer = Signer(args.gpg_key)
    try:
        signer.sign(sums)
        armor = signer.public_key()
    finally:
        signer.close()
    (dist / "signing-key.asc").write_text(armor)
    registry_documents(dist, version, protocols, packages, args.base_url,
                       signer.key_id, armor)
    network_mirror(dist, version, packages)
    return signer.key_id


def main(argv):
    args = parse_args(argv)
    key_id = package(args)
    if not args.gpg_key:
        print(
            "\n" + "!" * 72 + "\n"
            "!! FOR TESTING ONLY: signed with a throwaway key made just now\n"
            f"!! (key ID {key_id}); its secret half is already deleted. Set\n"
            "!! RELEASE_GPG_KEY to a key id in your keyring for a real release.\n"
            + "!" * 72, file=sys.stderr)
    print(f"signed by key ID {key_id}")


if __name__ == "__main__":
    main(sys.argv[1:])
