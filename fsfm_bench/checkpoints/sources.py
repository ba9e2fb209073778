"""Turn a checkpoint source into a local file: a path, ``hf://<owner>/<repo>[@rev]/<file>`` or https.

Nothing is downloaded unless the user named a remote source. With ``HF_HUB_OFFLINE=1`` (or
``FSFM_BENCH_OFFLINE=1``) a file that is not already cached fails at once with a message that says
how to get it, instead of hanging on a network timeout.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import FsfmBenchError, UsageError
from ..io import sha256_file

HF_SCHEME = "hf://"
_TRUE = {"1", "true", "yes", "on"}
_HF_RE = re.compile(r"^hf://(?P<repo>[^/@\s]+/[^/@\s]+)(?:@(?P<rev>[^/\s]+))?/(?P<file>\S+)$")


@dataclass(frozen=True)
class HFSource:
    """A file inside a Hugging Face Hub model repository."""

    repo_id: str
    filename: str
    revision: str | None = None

    @property
    def uri(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        return f"{HF_SCHEME}{self.repo_id}{rev}/{self.filename}"


def offline() -> bool:
    """True when the user asked for no network access (HF_HUB_OFFLINE or FSFM_BENCH_OFFLINE)."""
    return any(os.environ.get(var, "").strip().lower() in _TRUE
               for var in ("HF_HUB_OFFLINE", "FSFM_BENCH_OFFLINE"))


def parse_hf(source: str) -> HFSource:
    """Split ``hf://owner/repo[@revision]/path/in/repo`` into its parts (UsageError if malformed)."""
    match = _HF_RE.match(source)
    if not match:
        raise UsageError(f"malformed Hugging Face source {source!r}; expected "
                         "hf://<owner>/<repo>/<file in repo> (optionally <repo>@<revision>)")
    return HFSource(match["repo"], match["file"], match["rev"])


def is_remote(source: str | os.PathLike) -> bool:
    text = str(source)
    return text.startswith(HF_SCHEME) or text.startswith("https://") or text.startswith("http://")


def cache_dir() -> Path:
    """Where https downloads are kept: ``<cache root>/checkpoints`` (see :mod:`fsfm_bench.paths`)."""
    from ..paths import cache_root

    return cache_root() / "checkpoints"


def sibling(source: str | os.PathLike, name: str) -> str | None:
    """The source of a file called ``name`` in the same folder (e.g. pretrain_ds_mean_std.txt)."""
    text = str(source)
    if text.startswith(HF_SCHEME):
        hf = parse_hf(text)
        folder = hf.filename.rsplit("/", 1)[0] + "/" if "/" in hf.filename else ""
        return HFSource(hf.repo_id, folder + name, hf.revision).uri
    if text.startswith(("https://", "http://")):
        return None  # no sha256 for a guessed sibling URL: never fetched implicitly
    return str(Path(text).expanduser().parent / name)


def resolve(source: str | os.PathLike, sha256: str | None = None, what: str = "checkpoint") -> Path:
    """Return a local path for ``source``; download only for an explicit hf:// or https source."""
    text = str(source)
    if text.startswith(HF_SCHEME):
        return _resolve_hf(parse_hf(text), what)
    if text.startswith("http://"):
        raise UsageError(f"refusing plain-http {what} source {text!r}; use https:// with a sha256")
    if text.startswith("https://"):
        return _resolve_https(text, sha256, what)
    path = Path(text).expanduser()
    if not path.is_file():
        hint = " (it is a folder; name the file inside it)" if path.is_dir() else ""
        raise FsfmBenchError(f"{what} file not found: {path}{hint}. Give a local path, a card name "
                             "(`fsfm-bench weights list`), hf://<owner>/<repo>/<file> or an https URL.")
    return path


def _how_to_get_hf(hf: HFSource) -> str:
    rev = f" --revision {hf.revision}" if hf.revision else ""
    return (f"download it on a machine with network access with `huggingface-cli download {hf.repo_id} "
            f"{hf.filename}{rev}` (it lands in the Hugging Face cache), or unset HF_HUB_OFFLINE, "
            f"or pass the local file path instead")


def _resolve_hf(hf: HFSource, what: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError
    except ImportError as exc:  # pragma: no cover - a hard dependency
        raise FsfmBenchError("huggingface_hub is needed for hf:// sources: pip install huggingface_hub") from exc
    if offline():
        try:
            return Path(hf_hub_download(hf.repo_id, hf.filename, revision=hf.revision, local_files_only=True))
        except Exception as exc:  # noqa: BLE001 - any miss in offline mode means "not cached"
            raise FsfmBenchError(f"{what} {hf.uri} is not in the local Hugging Face cache and "
                                 f"HF_HUB_OFFLINE is set; {_how_to_get_hf(hf)}.") from exc
    try:
        return Path(hf_hub_download(hf.repo_id, hf.filename, revision=hf.revision))
    except LocalEntryNotFoundError as exc:  # first: it subclasses EntryNotFoundError (no network)
        raise FsfmBenchError(f"could not reach the Hugging Face Hub for {what} {hf.uri}; "
                             f"{_how_to_get_hf(hf)}.") from exc
    except (EntryNotFoundError, RepositoryNotFoundError) as exc:
        raise FsfmBenchError(f"{what} {hf.uri} does not exist on the Hugging Face Hub "
                             f"({type(exc).__name__}); check the repository and file name") from exc
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise FsfmBenchError(f"downloading {what} {hf.uri} failed: {type(exc).__name__}: {exc}; "
                             f"{_how_to_get_hf(hf)}.") from exc


def _resolve_https(url: str, sha256: str | None, what: str) -> Path:
    if not sha256:
        raise UsageError(f"an https {what} source needs its sha256 (from the publisher or a card), "
                         f"got none for {url}; download it yourself and pass the local path instead")
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "checkpoint.bin"
    target = cache_dir() / sha256[:16] / name
    if target.is_file():
        verify_sha256(target, sha256, what)
        return target
    if offline():
        raise FsfmBenchError(f"{what} {url} is not cached at {target} and offline mode is set "
                             f"(HF_HUB_OFFLINE/FSFM_BENCH_OFFLINE); download it with `curl -L -o {name} "
                             f"'{url}'` and pass the local path, or unset the offline variable.")
    target.parent.mkdir(parents=True, exist_ok=True)
    from torch.hub import download_url_to_file

    tmp = target.with_name(f".{name}.partial")
    try:
        download_url_to_file(url, str(tmp), progress=True)
        verify_sha256(tmp, sha256, what)
        os.replace(tmp, target)
    except FsfmBenchError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise FsfmBenchError(f"downloading {what} from {url} failed: {type(exc).__name__}: {exc}") from exc
    return target


def verify_sha256(path: str | os.PathLike, expected: str, what: str = "checkpoint") -> str:
    """Compute the file's sha256 and raise if it differs from ``expected``; return the digest."""
    actual = sha256_file(path)
    if actual.lower() != expected.lower():
        raise FsfmBenchError(f"{what} {path} has sha256 {actual}, but {expected} was expected: the file is "
                             "corrupt, truncated or a different release; download it again")
    return actual
