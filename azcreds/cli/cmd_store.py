"""``azcreds store ls | put | get | rm``: the artifact store from the command line.

The store root of each call is the container of its URI; credentials come from ``--secret NAME``
or, without it, the implicit ``AZURE_STORAGE_*`` chain. Transfers stream (nothing is held whole),
show a progress bar on standard error when it is a terminal and the file is over 4 MiB, and are
all-or-nothing: an interrupted ``put`` leaves no blob, an interrupted ``get`` no local file.
URIs are normalised by the store's path rules first, and every guard compares the normalised path.
Exit codes: 1 for a missing path or a service failure, 2 for bad input (an invalid URI, a whole
container given to ``rm``/``put``/``get``, a taken destination without ``--overwrite``, a local
path that is not a file).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from azcreds.cli._io import BadInput, cli_message, print_json
from azcreds.cli._typer import group_app

if TYPE_CHECKING:
    from azcreds.artifact_store import ArtifactStat, AzureArtifactStore

app = group_app("List, upload, download and remove artifacts (az:// URIs).")

PROGRESS_THRESHOLD = 4 * 1024 * 1024
"""Transfers at least this large show a progress bar (on a terminal)."""

UriArg = Annotated[str, typer.Argument(metavar="URI", help="az://container/path or abfs://container/path.")]
SecretOption = Annotated[
    str | None,
    typer.Option(
        "--secret", "-s", metavar="NAME", help="Secret to use (default: the AZURE_STORAGE_* variables)."
    ),
]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace the destination if it exists.")]


@contextlib.contextmanager
def _bad_input() -> Iterator[None]:
    """Store errors that are the caller's mistake become bad input (exit 2)."""
    from azcreds.errors import ArtifactExistsError, PathOutsideStoreError

    try:
        yield
    except PathOutsideStoreError as exc:
        raise BadInput(str(exc)) from exc
    except ArtifactExistsError as exc:
        raise BadInput(cli_message(exc)) from exc


def _store(uri: str, secret: str | None) -> AzureArtifactStore:
    from azcreds.artifact_store import AzureArtifactStore, container_root

    with _bad_input():
        return AzureArtifactStore(container_root(uri), secret=secret)


def _normalized(uri: str) -> str:
    """``uri`` as the store uses it (``.``, ``..`` and ``//`` applied); bad input if it breaks a path rule.

    Every guard below compares this, never the string as typed: ``az://c/x/..`` is ``az://c``.
    """
    from azcreds.artifact_store import normalize_uri

    with _bad_input():
        return normalize_uri(uri)


def _ignore(count: int) -> None:
    pass


@contextlib.contextmanager
def _progress(total: int | None, label: str) -> Iterator[Callable[[int], None]]:
    """``advance(n)`` for a rich progress bar on stderr, or a no-op when it is not worth one."""
    if total is None or total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda count: progress.advance(task, count)


def _copy(source: IO[bytes], target: IO[bytes], chunk: int, advance: Callable[[int], None]) -> int:
    copied = 0
    while data := source.read(chunk):
        target.write(data)
        copied += len(data)
        advance(len(data))
    return copied


def _entry(stat: ArtifactStat, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "path": stat.path,
        "type": "directory" if stat.is_dir else "file",
        "size": stat.size,
        "modified": stat.modified.isoformat() if stat.modified else None,
        "etag": stat.etag,
        "content_type": stat.content_type,
    }


@app.command("ls")
def ls(
    uri: UriArg,
    secret: SecretOption = None,
    long_: Annotated[bool, typer.Option("--long", "-l", help="Show size and modification time.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List a directory (directories end in /), or show one file."""
    store = _store(uri, secret)
    with _bad_input():
        stat = store.stat(uri)
        entries = store.scandir(uri) if stat.is_dir else [stat]
    rows = sorted(
        ((e, e.name if stat.is_dir else e.path) for e in entries), key=lambda pair: (pair[1], pair[0].is_dir)
    )
    if json_:
        print_json([_entry(e, name) for e, name in rows])
        return
    for entry, name in rows:
        shown = f"{name}/" if entry.is_dir else name
        if long_:
            when = entry.modified.strftime("%Y-%m-%d %H:%M:%S") if entry.modified else "-"
            size = "-" if entry.is_dir else str(entry.size)
            typer.echo(f"{size:>12}  {when:<19}  {shown}")
        else:
            typer.echo(shown)


@app.command("put")
def put(
    local: Annotated[str, typer.Argument(metavar="LOCAL", help="A local file, or - for standard input.")],
    uri: UriArg,
    secret: SecretOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Upload LOCAL to URI (a URI ending in / gets LOCAL's file name)."""
    store = _store(uri, secret)
    target = _normalized(uri)
    path = None if local == "-" else Path(local).expanduser()
    if path is None and uri.endswith("/"):
        raise BadInput("give the full destination URI when uploading standard input")
    if path is not None:
        if not path.is_file():
            raise BadInput(f"{local}: {'is a directory' if path.is_dir() else 'no such file'}")
        if uri.endswith("/"):
            target = _normalized(f"{target}/{path.name}")
    if target == store.root:
        raise BadInput(f"{target} is a whole container: give a file path inside it")
    size: int | None = None
    with contextlib.ExitStack() as stack:
        source: IO[bytes] = sys.stdin.buffer
        if path is not None:
            try:
                source = stack.enter_context(path.open("rb"))
            except OSError as exc:
                raise BadInput(f"{local}: cannot read it ({exc.strerror})") from None
            size = os.fstat(source.fileno()).st_size
        advance = stack.enter_context(_progress(size, f"put {target.rsplit('/', 1)[-1]}"))
        with _bad_input(), store.open(target, "wb", overwrite=overwrite) as blob:
            copied = _copy(source, blob, store.block_size, advance)
    typer.echo(f"uploaded {copied} bytes to {target}")


@app.command("get")
def get(
    uri: UriArg,
    local: Annotated[str, typer.Argument(metavar="LOCAL", help="A local path, or - for standard output.")],
    secret: SecretOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Download URI to LOCAL (an existing directory gets URI's file name)."""
    store = _store(uri, secret)
    uri = _normalized(uri)
    if local == "-":
        with _bad_input(), store.open(uri, "rb") as blob:
            _copy(blob, sys.stdout.buffer, store.block_size, _ignore)
        sys.stdout.flush()
        return
    if uri == store.root:
        raise BadInput(f"{uri} is a whole container: give a file path inside it")
    path = Path(local).expanduser()
    if path.is_dir():
        path = path / uri.rsplit("/", 1)[-1]  # a normalised name: never "", "." or ".."
    if path.exists() and not overwrite:
        raise BadInput(f"{path}: exists (use --overwrite to replace it)")
    if not path.parent.is_dir():
        raise BadInput(f"{path.parent}: no such directory")
    with _bad_input(), store.open(uri, "rb") as blob:
        size = blob.seek(0, os.SEEK_END)
        blob.seek(0)
        copied = _download(blob, path, store.block_size, size)
    typer.echo(f"downloaded {copied} bytes to {path}")


def _download(blob: IO[bytes], path: Path, chunk: int, size: int) -> int:
    """Write to a temporary file beside ``path`` and move it in place only when complete."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise BadInput(f"{path.parent}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(descriptor, "wb") as out, _progress(size, f"get {path.name}") as advance:
            copied = _copy(blob, out, chunk, advance)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return copied


@app.command("rm")
def rm(
    uri: UriArg,
    secret: SecretOption = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Remove a directory tree.")] = False,
) -> None:
    """Remove a file (or, with -r, a directory and everything in it); never a whole container."""
    from azcreds.errors import ArtifactNotFoundError, ArtifactStoreError

    store = _store(uri, secret)
    uri = _normalized(uri)
    if uri == store.root:  # az://c, az://c/., az://c/x/.., abfs://c//: the container itself
        raise BadInput(f"refusing to remove {uri}, a whole container; name a path inside it")
    with _bad_input():
        if recursive:
            if store.stat(uri).is_dir:
                store.rmtree(uri)
            else:
                store.remove(uri)
        else:
            try:
                store.remove(uri)
            except (ArtifactNotFoundError, ArtifactStoreError):
                if store.isdir(uri):
                    raise BadInput(f"{uri} is a directory: use --recursive") from None
                raise
    typer.echo(f"removed {uri}")
