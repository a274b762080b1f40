"""Reading and writing the config file without ever losing what the user wrote.

* Writes are atomic (temp file in the same directory, fsync, os.replace) and the
  file is 0600 from the moment it exists: it holds API keys.
* A file that cannot be read as a config is never overwritten: it is renamed
  aside (`config.json.corrupt-YYYYmmddTHHMMSS`) and a ConfigFileError says where,
  which provider and field is wrong and why, without quoting any value (values
  may be keys).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import platformdirs
from pydantic import ValidationError

from .._exceptions import ConfigError, ConfigFileError
from .models import PROVIDER_ID_RE, Config, ModelEntry, Provider

ENV_VAR = "CHERRY_NB_CONFIG"
APP_NAME = "cherry-nb"
MAX_LISTED_ERRORS = 5


def config_path() -> Path:
    """`$CHERRY_NB_CONFIG` when set, else config.json in the per-user config directory."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.json"


def load_config(path: Path | None = None) -> Config:
    """The config in `path`; a default Config when the file does not exist (nothing written).

    A corrupt or invalid file is moved aside and ConfigFileError raised.
    """
    path = Path(path) if path is not None else config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the config file {path}: {exc.strerror or type(exc).__name__}. "
            "Check that it is a file you are allowed to read."
        ) from None
    if not raw.strip():
        return Config()  # an empty file holds nothing to lose

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        _fail_corrupt(path, "is not UTF-8 text")
    except json.JSONDecodeError as exc:
        _fail_corrupt(
            path, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        )
    if not isinstance(data, dict):
        _fail_corrupt(
            path, f"must hold a JSON object {{...}} at the top level, not {_json_kind(data)}"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        _fail_corrupt(path, "is not a valid cherry_nb config: " + describe_errors(exc, data))


def save_config(config: Config, path: Path | None = None) -> None:
    """Write `config` atomically, readable by the user only (0600)."""
    path = Path(path) if path is not None else config_path()
    if path.is_symlink():  # dotfile managers link the file: write where it points
        path = path.resolve()
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


def _fail_corrupt(path: Path, problem: str) -> NoReturn:
    """Move the bad file aside and raise ConfigFileError saying why and where it went."""
    try:
        moved = _move_aside(path)
    except OSError as exc:
        raise ConfigFileError(
            f"The config file {path} {problem}. It could not be moved aside "
            f"({exc.strerror or type(exc).__name__}), so it was left as it is and nothing "
            "was written; fix or remove it and try again.",
            path=str(path),
        ) from None
    raise ConfigFileError(
        f"The config file {path} {problem}. Nothing was lost: the file was moved to "
        f"{moved}. Fix it and move it back, or start again with a new config.",
        path=str(path),
        moved_to=str(moved),
    )


def _move_aside(path: Path) -> Path:
    """Rename `path` to a new `NAME.corrupt-TIMESTAMP[-N]` next to it, never replacing one."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else f"-{attempt}"
        target = path.with_name(f"{path.name}.corrupt-{stamp}{suffix}")
        if target.exists():
            continue
        try:
            os.link(path, target)  # fails if target exists: no race can overwrite one
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            os.rename(path, target)  # filesystems without hard links
            return target
        os.unlink(path)
        return target
    raise FileExistsError(f"too many {path.name}.corrupt-* files")


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
