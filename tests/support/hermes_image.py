"""An image with the real Hermes in it, built offline and pushed to the test registry.

Nothing can be pulled here, so the image is assembled from what this machine has: Debian's
``python3.11`` with its standard library (tests, IDLE, Tk, the static libpython and
similar dropped), the cached Hermes venv (`tests.support.hermes`) at `IMAGE_VENV`, every
shared library ``ldd`` names for the interpreter, ``lib-dynload`` and the venv's
extensions, the CA bundle, a static busybox for the shell tools, merged-/usr symlinks
(``/lib``, ``/lib64``, ``/bin``, ``/sbin``: without them the dynamic loader is "not
found"), ``hermes`` in ``/etc/passwd`` and ``/etc/group`` and ``/tmp`` 1777.

Its entrypoint keeps the published image's start-up contract, like the busybox stand-in
in `tests.support.engine` (same constants): refuse ``--user``, remap ``hermes`` to
``HERMES_UID``/``HERMES_GID`` (or ``PUID``/``PGID``) or 10000, hand ``/opt/data``, its
top-level files and the hermes-managed folders to that user, then run ``hermes "$@"`` as
that user with ``HOME=/opt/data``. Python is in the image, so the entrypoint is Python.

The tree is streamed as a tar into ``docker import -`` (one layer, ~250 MB), pushed as
`image_ref` and removed from the engine, so the test pulls it as production does. Only
the venv is cached (by `tests.support.hermes`); the image lives in the engine's state.

Only the standard library is used.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.support.engine import (
    HERMES_DEFAULT_ID,
    HERMES_HOME,
    HERMES_MANAGED_DIRS,
    USER_REFUSAL,
    EngineError,
    LocalEngine,
    _busybox_path,
    add_file,
    hermes_etc_files,
)
from tests.support.hermes import HERMES_VERSION, HermesVenv

IMAGE_REPOSITORY: Final = "hermes-real"
IMAGE_VENV: Final = "/opt/hermes/venv"
ENTRYPOINT: Final = "/opt/hermes/entrypoint.py"
PYTHON: Final = "/usr/bin/python3.11"
STDLIB: Final = "/usr/lib/python3.11"
CA_BUNDLE: Final = "/etc/ssl/certs/ca-certificates.crt"
IMAGE_PATH_ENV: Final = (
    f"{IMAGE_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)
#: Standard-library parts Hermes never imports; they only make the image bigger.
STDLIB_SKIP: Final = frozenset({
    "test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip",
    "config-3.11-x86_64-linux-gnu", "site-packages", "dist-packages",
})
#: glibc dlopens libgcc_s for thread cancellation; ldd never lists it for python3.11.
DLOPENED: Final = ("libgcc_s.so.1",)
IMPORT_TIMEOUT: Final = 600.0


def image_ref(engine: LocalEngine) -> str:
    return f"{engine.registry}/{IMAGE_REPOSITORY}:{HERMES_VERSION}"


# The stage-2 hook in Python (written for this test image, after the published image's
# documented behaviour). Runs as PID 1; execs, never forks, so signals reach Hermes.
_ENTRYPOINT_SCRIPT: Final = r'''"""hermes-real test image entrypoint: the published image's stage-2 contract."""
import os
import re
import shutil
import stat
import sys

HOME = os.environ.get("HERMES_HOME") or @HOME@
DEFAULT_ID = @DEFAULT_ID@
MANAGED = @MANAGED@
HERMES = @HERMES@


def valid(text):
    return bool(text) and text.isdigit() and 1 <= int(text) <= 65534


def hermes_ids():
    for line in open("/etc/passwd"):
        fields = line.split(":")
        if fields[0] == "hermes":
            return int(fields[2]), int(fields[3])
    raise SystemExit("hermes-real: no hermes user in /etc/passwd")


def remap(path, pattern, replacement):
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:
        handle.write(re.sub(pattern, replacement, text, flags=re.M))


def chown_tree(top, uid, gid):
    os.chown(top, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def main(argv):
    me = os.getuid()
    if me != 0 and me != hermes_ids()[0]:
        sys.stderr.write(
            f"hermes-real: started as uid {me} (docker run --user): this image @USER_REFUSAL@"
            f" to give {HOME} to its hermes user. Start it without --user and pass"
            " HERMES_UID/HERMES_GID (or PUID/PGID) to choose that user's ids.\n")
        return 1
    uid, gid = hermes_ids()
    if me == 0:
        want_uid = os.environ.get("HERMES_UID") or os.environ.get("PUID") or ""
        want_gid = os.environ.get("HERMES_GID") or os.environ.get("PGID") or ""
        uid = int(want_uid) if valid(want_uid) else DEFAULT_ID
        gid = int(want_gid) if valid(want_gid) else DEFAULT_ID
        remap("/etc/passwd", r"^hermes:x:\d+:\d+:", f"hermes:x:{uid}:{gid}:")
        remap("/etc/group", r"^hermes:x:\d+:", f"hermes:x:{gid}:")
        os.makedirs(HOME, exist_ok=True)
        if os.stat(HOME).st_uid != uid:
            print(f"hermes-real: giving {HOME} to hermes ({uid}:{gid})", flush=True)
            os.chown(HOME, uid, gid)
            for sub in MANAGED:
                path = os.path.join(HOME, sub)
                if os.path.exists(path) and not os.path.islink(path):
                    chown_tree(path, uid, gid)
        for entry in os.scandir(HOME):
            if entry.is_file(follow_symlinks=False):
                os.chown(entry.path, uid, gid)
                os.chmod(entry.path, stat.S_IMODE(entry.stat().st_mode) | 0o600)
    argv = argv or ["gateway", "run"]
    if "/" not in argv[0] and shutil.which(argv[0]) is None:
        argv = [HERMES, *argv]
    os.environ["HOME"] = HOME
    os.environ["USER"] = os.environ["LOGNAME"] = "hermes"
    if me == 0:
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(uid)
    os.chdir(HOME)
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.stderr.write(f"hermes-real: cannot run {argv[0]}: {error}\n")
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def _entrypoint_text() -> str:
    text = _ENTRYPOINT_SCRIPT
    for token, value in (
        ("@HOME@", repr(HERMES_HOME)),
        ("@DEFAULT_ID@", str(HERMES_DEFAULT_ID)),
        ("@MANAGED@", repr(tuple(HERMES_MANAGED_DIRS))),
        ("@HERMES@", repr(f"{IMAGE_VENV}/bin/hermes")),
        ("@USER_REFUSAL@", USER_REFUSAL),
    ):
        text = text.replace(token, value)
    return text


IMAGE_CHANGES: Final = (
    f'ENTRYPOINT ["{PYTHON}", "-I", "{ENTRYPOINT}"]',
    'CMD ["gateway", "run"]',
    f"ENV HERMES_HOME={HERMES_HOME}",
    f"ENV PATH={IMAGE_PATH_ENV}",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    f'LABEL org.hermes.test="real" org.hermes.version="{HERMES_VERSION}"',
)


# --------------------------------------------------------------------------------------------
# The root filesystem
# --------------------------------------------------------------------------------------------


_LDD_LINE = re.compile(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


def _ldd(paths: list[str]) -> set[str]:
    """Every absolute library path ``ldd`` resolves for ``paths`` (batched)."""
    found: set[str] = set()
    for start in range(0, len(paths), 200):
        done = subprocess.run(
            ["ldd", *paths[start : start + 200]], capture_output=True, text=True,
            check=False, stdin=subprocess.DEVNULL, timeout=120,
        )
        for line in done.stdout.splitlines():
            if match := _LDD_LINE.match(line):
                found.add(match.group(1))
    return found


def _dlopened() -> set[str]:
    found = set()
    for name in DLOPENED:
        for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64"):
            if os.path.exists(os.path.join(folder, name)):
                found.add(os.path.join(folder, name))
    return found


def _chain(path: str) -> Iterator[tuple[str, str | None]]:
    """``path`` with its folder resolved, then each symlink hop: (path, link target|None)."""
    folder = os.path.realpath(os.path.dirname(path))
    current = os.path.join(folder, os.path.basename(path))
    for _hop in range(20):
        if os.path.islink(current):
            target = os.readlink(current)
            yield current, target
            current = os.path.normpath(os.path.join(os.path.dirname(current), target))
            current = os.path.join(
                os.path.realpath(os.path.dirname(current)), os.path.basename(current)
            )
        else:
            yield current, None
            return
    raise EngineError(f"symlink loop at {path}")


@dataclass
class RootfsStats:
    files: int = 0
    bytes: int = 0


class _Writer:
    """Adds entries to a streaming tar once each (folders created on the way)."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.seen: set[str] = set()
        self.stats = RootfsStats()
        self.now = int(time.time())

    def folder(self, path: str, mode: int = 0o755) -> None:
        name = path.strip("/")
        if not name or name in self.seen:
            return
        self.folder(os.path.dirname(name))
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, self.now
        self.tar.addfile(info)

    def symlink(self, path: str, target: str) -> None:
        name = path.strip("/")
        if name in self.seen:
            return
        self.folder(os.path.dirname(name))
        self.seen.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, self.now
        self.tar.addfile(info)

    def data(self, path: str, data: bytes, mode: int) -> None:
        name = path.strip("/")
        if name in self.seen:
            return
        self.folder(os.path.dirname(name))
        self.seen.add(name)
        add_file(self.tar, name, data, mode, self.now)
        self.stats.files += 1
        self.stats.bytes += len(data)

    def copy(self, source: str, dest: str | None = None) -> None:
        """Copy a host file or symlink (not following it) to ``dest`` (default: same path)."""
        name = (dest or source).strip("/")
        if name in self.seen:
            return
        if os.path.islink(source):
            self.symlink(name, os.readlink(source))
            return
        self.folder(os.path.dirname(name))
        self.seen.add(name)
        st = os.stat(source)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = st.st_size, st.st_mode & 0o7777, int(st.st_mtime)
        with open(source, "rb") as handle:
            self.tar.addfile(info, handle)
        self.stats.files += 1
        self.stats.bytes += st.st_size

    def library(self, path: str) -> None:
        """A shared library at its real location, with every symlink hop that leads there."""
        for hop, target in _chain(path):
            if target is None:
                self.copy(hop)
            else:
                self.symlink(hop, target)

    def tree(self, source: Path, dest: str, *, skip: frozenset[str] = frozenset(),
             rewrite_shebangs_from: str | None = None) -> None:
        """Copy ``source`` to ``dest`` (symlinks kept); ``skip``: top-level names to leave out."""
        self.folder(dest)
        for folder, dirs, files in os.walk(source):
            rel = os.path.relpath(folder, source)
            if rel == ".":
                dirs[:] = sorted(d for d in dirs if d not in skip)
                files = [f for f in files if f not in skip]
            else:
                dirs.sort()
            target_folder = dest if rel == "." else f"{dest}/{rel}"
            for name in list(dirs):
                full = os.path.join(folder, name)
                if os.path.islink(full):  # os.walk does not descend into these
                    self.symlink(f"{target_folder}/{name}", os.readlink(full))
                    dirs.remove(name)
                else:
                    self.folder(f"{target_folder}/{name}")
            for name in sorted(files):
                full = os.path.join(folder, name)
                out = f"{target_folder}/{name}"
                if rewrite_shebangs_from and rel == "bin" and not os.path.islink(full):
                    data = Path(full).read_bytes()
                    prefix = f"#!{rewrite_shebangs_from}/".encode()
                    if data.startswith(prefix):
                        data = f"#!{dest}/".encode() + data[len(prefix):]
                        self.data(out, data, os.stat(full).st_mode & 0o7777)
                        continue
                self.copy(full, out)


def write_rootfs(tar: tarfile.TarFile, venv: HermesVenv, busybox: str) -> RootfsStats:
    """Write the image's root filesystem into ``tar`` (opened for streaming)."""
    writer = _Writer(tar)
    # Merged /usr, as on Debian: the loader is /lib64/ld-linux-x86-64.so.2.
    for top in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/local/bin"):
        writer.folder(top)
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"),
                         ("lib64", "usr/lib64")):
        writer.symlink(link, target)
    writer.folder("tmp", 0o1777)
    writer.folder("root", 0o700)
    writer.folder("etc")
    writer.folder(HERMES_HOME)
    for path, (text, mode) in hermes_etc_files().items():
        writer.data(path, text.encode(), mode)
    writer.copy(CA_BUNDLE if not os.path.islink(CA_BUNDLE) else os.path.realpath(CA_BUNDLE),
                CA_BUNDLE)

    writer.copy(busybox, "/usr/bin/busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True,
                             timeout=30).stdout.split()
    writer.copy(PYTHON)
    writer.symlink("/usr/bin/python3", "python3.11")
    for applet in applets:
        if applet not in ("busybox",) and "/" not in applet:
            writer.symlink(f"/usr/bin/{applet}", "busybox")

    writer.tree(Path(STDLIB), STDLIB, skip=STDLIB_SKIP)
    writer.tree(venv.path, IMAGE_VENV, rewrite_shebangs_from=str(venv.path))

    venv_root = str(venv.path.resolve())
    objects = [PYTHON, *map(str, Path(STDLIB, "lib-dynload").glob("*.so"))]
    objects += [str(p) for p in venv.path.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    for library in sorted(_ldd(objects) | _dlopened()):
        if not os.path.realpath(library).startswith(venv_root + "/"):
            writer.library(library)

    writer.data(ENTRYPOINT, _entrypoint_text().encode(), 0o755)
    return writer.stats


# --------------------------------------------------------------------------------------------
# Build and publish
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HermesImage:
    """The pushed image and what it cost to make."""

    ref: str
    import_seconds: float
    push_seconds: float
    files: int
    bytes: int


def publish_hermes_image(engine: LocalEngine, venv: HermesVenv) -> HermesImage:
    """Build the image from ``venv``, push it to ``engine``'s registry, remove it locally.

    Raises `EngineError` with the docker CLI's output when a step fails.
    """
    busybox = _busybox_path()
    if busybox is None:
        raise EngineError("no static busybox")
    if not os.access(PYTHON, os.X_OK) or str(venv.base_python) not in (PYTHON, "/usr/bin/python3"):
        raise EngineError(
            f"the Hermes venv must be made from Debian's {PYTHON} (it is {venv.base_python})"
        )
    ref = image_ref(engine)
    began = time.monotonic()
    changes = [arg for change in IMAGE_CHANGES for arg in ("--change", change)]
    argv, env = engine.docker_cli("import", *changes, "-", ref)
    with tempfile.TemporaryFile() as output:
        # The CLI's output goes to a file: a pipe nobody reads could stall the stream.
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT,
        )
        assert process.stdin is not None
        try:
            with process.stdin, tarfile.open(
                fileobj=process.stdin, mode="w|", bufsize=1024 * 1024
            ) as tar:
                stats = write_rootfs(tar, venv, busybox)
            process.wait(timeout=IMPORT_TIMEOUT)
        except BaseException:
            process.kill()
            process.wait()
            raise
        output.seek(0)
        said = output.read().decode(errors="replace")
    if process.returncode != 0:
        raise EngineError(f"docker import failed ({process.returncode}): {said}")
    imported = time.monotonic()
    engine.docker("push", ref, timeout=IMPORT_TIMEOUT)
    engine.docker("rmi", ref)
    return HermesImage(
        ref=ref,
        import_seconds=imported - began,
        push_seconds=time.monotonic() - imported,
        files=stats.files,
        bytes=stats.bytes,
    )


def main() -> int:
    """``python -m tests.support.hermes_image``: build once on a fresh engine, print timings."""
    from tests.support.hermes import ensure_hermes_venv

    with LocalEngine(build_images=False) as engine:
        image = publish_hermes_image(engine, ensure_hermes_venv())
        print(image)
        began = time.monotonic()
        engine.docker("pull", image.ref, timeout=IMPORT_TIMEOUT)
        print(f"pull: {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
