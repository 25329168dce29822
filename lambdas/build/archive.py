"""The zip and its bytecode: compiled by the target CPython, written canonically (sorted, fixed times and modes),
read back only if its structure is exactly what the build writes."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from lambdas.build.base import _EPOCH, ZIP_LEVEL, BuildError, Function, Interpreter, _project_files


def _pyc_name(source: str, cache_tag: str) -> str:
    folder, _, file = source.rpartition("/")
    return (f"{folder}/" if folder else "") + f"__pycache__/{file[:-3]}.{cache_tag}.pyc"


_COMPILE_ARGS: Final = ("-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash")


def _compile(interp: Interpreter, folder: Path) -> None:
    """Compile every module under ``folder`` with the target interpreter, as the package ships them (names in the
    code objects relative to the package root)."""
    proc = subprocess.run([interp.path, "-I", "-S", *_COMPILE_ARGS, "-s", str(folder), str(folder)],  # noqa: S603
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": ""})
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise BuildError(f"Python {interp.version} ({interp.path}) could not compile every module:\n{tail}")


def compile_sources(interp: Interpreter, sources: Mapping[str, bytes]) -> dict[str, bytes]:
    """pyc zip name -> bytecode for each ``.py`` in ``sources`` (zip name -> content), compiled exactly as the
    build does, in a private temporary folder."""
    modules = {n: d for n, d in sources.items() if n.endswith(".py")}
    if not modules:
        return {}
    with tempfile.TemporaryDirectory(prefix="lambda-pyc-") as tmp:
        root = Path(tmp)
        for name, data in modules.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        _compile(interp, root)
        return {_pyc_name(n, interp.cache_tag): (root / _pyc_name(n, interp.cache_tag)).read_bytes() for n in modules}


# -- the zip ---------------------------------------------------------------------------------------------


def _zip_entries(entries: Iterable[tuple[str, bytes, bool]], zip_file: io.BufferedIOBase | Path) -> None:
    """Write (name, content, executable) entries as the package does: sorted, fixed time, fixed modes."""
    with zipfile.ZipFile(zip_file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zf:
        for name, data, executable in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100000 | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, data, compresslevel=ZIP_LEVEL)


def _zip_folder(folder: Path, zip_path: Path) -> None:
    _zip_entries(((p.relative_to(folder).as_posix(), p.read_bytes(), os.access(p, os.X_OK))
                  for p in folder.rglob("*") if p.is_file()), zip_path)


#: AWS Lambda's limit on a function's unzipped code.
MAX_UNZIPPED_BYTES: Final = 250 * 1024 * 1024
_CENTRAL_HEADER: Final = 46
_END_RECORD: Final = 22


def _reference_info() -> zipfile.ZipInfo:
    buf = io.BytesIO()
    _zip_entries([("a", b"a", False)], buf)
    return zipfile.ZipFile(buf).infolist()[0]


_FIXED_FIELDS: Final = ("create_system", "create_version", "extract_version", "reserved", "flag_bits", "volume",
                        "internal_attr", "compress_type", "date_time", "extra", "comment")


class _Mismatch(Exception):
    """The package is not what it must be; the message says which entry and how (for the rebuild notice)."""


def _records(data: bytes) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    """The zip's entries, after checking its structure is what the build writes (no bytes outside the entries,
    the same metadata everywhere), and each entry's raw local record (header + compressed data)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _Mismatch(f"not a zip ({exc})") from None
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if names != sorted(set(names)):
        raise _Mismatch("entries unsorted or duplicated")
    if zf.comment:
        raise _Mismatch("the zip has a comment")
    ref = _reference_info()
    raw: dict[str, bytes] = {}
    offset = 0
    central = 0
    for info in infos:
        if any(getattr(info, f) != getattr(ref, f) for f in _FIXED_FIELDS):
            raise _Mismatch(f"{info.filename}: unexpected zip metadata")
        if info.external_attr not in ((0o100644 << 16), (0o100755 << 16)):
            raise _Mismatch(f"{info.filename}: unexpected file mode")
        if info.header_offset != offset:
            raise _Mismatch(f"{info.filename}: bytes outside the entries")
        header = info.FileHeader()
        end = offset + len(header) + info.compress_size
        if data[offset:offset + len(header)] != header or end > len(data):
            raise _Mismatch(f"{info.filename}: local header differs from the directory")
        raw[info.filename] = data[offset:end]
        offset = end
        central += _CENTRAL_HEADER + len(info.filename.encode())
    if len(data) != offset + central + _END_RECORD:
        raise _Mismatch("bytes outside the entries")
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:  # nothing is decompressed past Lambda's own limit
        raise _Mismatch("larger than Lambda's 250 MB unzipped limit")
    return infos, raw


def _dependency_digest(infos: list[zipfile.ZipInfo], raw: Mapping[str, bytes], project: set[str]) -> str:
    h = hashlib.sha256()
    for info in infos:
        if info.filename not in project:
            h.update(info.filename.encode() + b"\0" + str(info.external_attr).encode() + b"\0"
                     + hashlib.sha256(raw[info.filename]).digest())
    return h.hexdigest()


def _environment(arch: str, interp: Interpreter) -> str:
    """The key of a dependency digest in build.lock: what the compressed bytecode depends on."""
    return f"{arch} cpython-{interp.version} zlib-{zlib.ZLIB_RUNTIME_VERSION}"


def dependency_digest(data: bytes, function: Function, interp: Interpreter) -> str:
    """The digest build.lock records: every entry that is not a project file or its bytecode (name, mode, raw
    compressed record), in zip order."""
    infos, raw = _records(data)
    project = set(_project_files(function))
    project |= {_pyc_name(n, interp.cache_tag) for n in project if n.endswith(".py")}
    return _dependency_digest(infos, raw, project)
