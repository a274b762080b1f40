"""Reading and writing the config file without ever losing what the user wrote.

* Writes are atomic (temp file in the same directory, fsync, os.replace) and the
  file is 0600 from the moment it exists: it holds API keys.
* A file that fails to parse may be mid-save (an editor truncates, writes, pauses,
  writes the rest): it is read again after a short pause, and only a file that
  stays invalid is reported. It is never moved, renamed or overwritten (DESIGN:
  "reported clearly and kept"): a ConfigFileError says which file, provider and
  field is wrong and why, without quoting any value (values may be keys), and
  `save_config` refuses to replace it.
* `config_lock` is the cross-process lock a read-modify-write holds, so two
  writers (two kernels, parallel `cherry-nb providers add`) never lose an update.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import platformdirs
from pydantic import ValidationError

from .._exceptions import ConfigError, ConfigFileError
from .models import PROVIDER_ID_RE, Config, ModelEntry, Provider

ENV_VAR = "CHERRY_NB_CONFIG"
APP_NAME = "cherry-nb"
MAX_LISTED_ERRORS = 5
# A file that fails to parse is read again after this pause, while it keeps changing
# (at most SETTLE_READS reads): a text editor saving in place may be half-way through.
SETTLE_SECONDS = 0.25
SETTLE_READS = 8
LOCK_TIMEOUT = 30.0  # seconds to wait for another writer of the same file


def config_path() -> Path:
    """`$CHERRY_NB_CONFIG` when set, else config.json in the per-user config directory."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.json"


def load_config(path: Path | None = None, *, settle: float = SETTLE_SECONDS) -> Config:
    """The config in `path`; a default Config when the file does not exist (nothing written).

    A file that fails to parse is read again after `settle` seconds while it keeps
    changing; one that stays invalid raises ConfigFileError and is left where it is.
    """
    path = Path(path) if path is not None else config_path()
    raw = _read(path)
    for _ in range(SETTLE_READS - 1):
        try:
            return parse_config(raw, path)
        except ConfigFileError:
            if settle <= 0:
                raise
        time.sleep(settle)
        again = _read(path)
        if again == raw:
            break  # unchanged over a pause: not a save in progress
        raw = again
    return parse_config(raw, path)


def parse_config(raw: bytes | None, path: Path) -> Config:
    """The Config the bytes of `path` hold (None: the file does not exist)."""
    if raw is None or not raw.strip():
        return Config()  # an empty file holds nothing to lose
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        _fail_invalid(path, "is not UTF-8 text")
    except json.JSONDecodeError as exc:
        _fail_invalid(
            path, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        )
    if not isinstance(data, dict):
        _fail_invalid(
            path, f"must hold a JSON object {{...}} at the top level, not {_json_kind(data)}"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        _fail_invalid(path, "is not a valid cherry_nb config: " + describe_errors(exc, data))


@contextlib.contextmanager
def config_lock(path: Path | None = None) -> Iterator[None]:
    """Hold the cross-process lock of the config file at `path` (`NAME.lock` beside it)."""
    from filelock import FileLock, Timeout  # only writers lock: not at every start-up

    path = _target(Path(path) if path is not None else config_path())
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    lock = FileLock(lock_path, timeout=LOCK_TIMEOUT, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"Another program has been changing the config file {path} for over "
            f"{LOCK_TIMEOUT:.0f} seconds (it holds {lock_path}). Try again when it is done."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot lock the config file {path} for a change: could not open {lock_path} "
            f"({exc.strerror or type(exc).__name__}). Check that its directory is writable."
        ) from None
    try:
        yield
    finally:
        lock.release()


def save_config(config: Config, path: Path | None = None) -> None:
    """Write `config` atomically, readable by the user only (0600).

    Refuses (ConfigFileError, nothing written) to replace a file that is not a valid
    config: it may hold work the user has not finished, and would be lost.
    """
    path = _target(Path(path) if path is not None else config_path())
    try:
        parse_config(_read(path), path)
    except ConfigFileError as exc:
        raise ConfigFileError(
            f"{exc.message} Nothing was saved, so nothing in it is lost: fix the file "
            "(or remove it to start again), then try again.",
            path=str(path),
        ) from None
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = json.dumps(config_to_dict(config), indent=2, ensure_ascii=False) + "\n"

    temp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def config_to_dict(config: Config) -> dict[str, Any]:
    """The JSON document for `config`: unknown keys kept, plain models as bare strings."""
    data = config.model_dump(mode="json")
    data["providers"] = [provider_to_dict(p) for p in config.providers]
    return data


def provider_to_dict(provider: Provider) -> dict[str, Any]:
    """One provider as written in the file (models without a name as bare strings)."""
    data = provider.model_dump(mode="json")
    data["models"] = [_model_to_json(m) for m in provider.models]
    return data


def describe_errors(error: ValidationError, data: Any, *, limit: int = MAX_LISTED_ERRORS) -> str:
    """Pydantic errors as `provider 'x', field 'y': what is wrong` phrases; no input values.

    Pydantic's own text quotes the offending input, which may be an API key, so the
    message is built from each error's location and message only.
    """
    issues = error.errors(include_url=False, include_input=False, include_context=False)
    phrases = [_describe_one(tuple(issue["loc"]), issue["msg"], data) for issue in issues]
    phrases = list(dict.fromkeys(phrases))  # union branches can repeat themselves
    text = "; ".join(phrases[:limit])
    if len(phrases) > limit:
        text += f"; and {len(phrases) - limit} more"
    return text


# ---- helpers ------------------------------------------------------------------------


def _model_to_json(model: ModelEntry) -> str | dict[str, Any]:
    data = model.model_dump(mode="json")
    if data.get("name") is None:
        data.pop("name", None)
    return data["id"] if set(data) == {"id"} else data


def _describe_one(loc: tuple[int | str, ...], msg: str, data: Any) -> str:
    msg = msg.removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "providers" and isinstance(loc[1], int):
        who = f"provider {_provider_label(data, loc[1])}"
        field = _format_loc(loc[2:])
        return f"{who}, field {field!r}: {msg}" if field else f"{who}: {msg}"
    field = _format_loc(loc)
    return f"field {field!r}: {msg}" if field else msg


def _provider_label(data: Any, index: int) -> str:
    """The provider's id when it is a readable slug, else its position."""
    position = f"providers[{index}]"
    providers = data.get("providers") if isinstance(data, Mapping) else None
    if isinstance(providers, Sequence) and not isinstance(providers, str):
        if 0 <= index < len(providers) and isinstance(providers[index], Mapping):
            provider_id = providers[index].get("id")
            if isinstance(provider_id, str) and PROVIDER_ID_RE.match(provider_id):
                return f"{provider_id!r} ({position})"
    return position


def _format_loc(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def _read(path: Path) -> bytes | None:
    """The bytes of `path`, None if it does not exist; ConfigError if it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the config file {path}: {exc.strerror or type(exc).__name__}. "
            "Check that it is a file you are allowed to read."
        ) from None


def _target(path: Path) -> Path:
    """Where writes go: dotfile managers link the file, so write where it points."""
    return path.resolve() if path.is_symlink() else path


def _fail_invalid(path: Path, problem: str) -> NoReturn:
    """Raise ConfigFileError saying why; the file stays where it is, untouched."""
    raise ConfigFileError(
        f"The config file {path} {problem}. It was left as it is: fix it, or remove it "
        "to start again with a new config.",
        path=str(path),
    )


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
