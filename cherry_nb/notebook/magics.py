"""`%%chat` and the `%chat` line subcommands (DESIGN.md, "Notebook").

Every failure is shown as a short panel in the cell — never a traceback.
"""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .._exceptions import CherryError
from .._secrets import display_url, redact
from ..config.resolve import resolve_model
from ..config.urls import provider_address
from ..providers.groups import GroupStream
from ..wire.neutral import ChatRequest
from . import render
from .chat import ChatReply, Outcome, Source, answered_by, describe_error, run_stream, run_streams
from .conversation import Sessions, usage_line
from .interpolate import interpolate
from .runtime import Runtime, get_runtime

NO_MODEL_HINT = (
    "Choose one with `%chat use provider-id:model-id` or `%%chat -m provider-id:model-id`. "
    "Add a provider with `%chat setup`, or try the offline simulator with `%chat simulator`."
)

LINE_HELP = """\
%chat use P:M            set this kernel's model
%chat providers          list providers
%chat models P [--fetch] list (or fetch) a provider's models
%chat check P [-m M]     check a provider's key and address
%chat setup              the provider manager widget
%chat groups             the model groups panel (one name for several models)
%chat simulator          start the offline simulator as provider `simulator`
%chat reset [--session NAME]    forget the conversation
%chat history [--session NAME]  show the conversation
%chat server start [--port P] | stop | status | panel
"""


def _unquote(value: str) -> str:
    """IPython's argument splitting keeps the quotes around `-s 'a system prompt'`."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


@magics_class
class ChatMagics(Magics):
    """The chat magics; state lives in the kernel's Runtime and these sessions."""

    def __init__(self, shell: Any, runtime: Runtime | None = None) -> None:
        super().__init__(shell)
        self._runtime = runtime
        self.sessions = Sessions()
        self.model: str | None = None  # set by `%chat use`

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = get_runtime()
        return self._runtime

    @magic_arguments()
    @argument("-m", "--model", action="append", help="provider-id:model-id (repeat to compare)")
    @argument("-s", "--system", help="system prompt (kept for the session)")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("--max-tokens", type=int, help="longest reply, in tokens")
    @argument("--new", action="store_true", help="start a new conversation")
    @argument("--session", default="default", help="conversation name, for parallel threads")
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> Any:
        """Chat with a model (cell magic), or manage providers and the gateway (line magic)."""
        try:
            return self._line(line) if cell is None else self._cell(line, cell)
        except Exception as exc:  # a bug of ours must still not show a raw traceback
            render.show_error(
                "Internal error in cherry_nb",
                redact(f"{type(exc).__name__}: {exc}"),
                "This is a bug; please report it with the cell's options (not its keys).",
            )
            return None

    def _cell(self, line: str, cell: str) -> Any:
        try:
            args = parse_argstring(self.chat, line)
        except Exception as exc:  # UsageError or SystemExit from argparse
            render.show_error("Bad %%chat options", str(exc), "See %%chat? for the options.")
            return None
        prompt = interpolate(cell.strip(), self.shell.user_ns if self.shell else {})
        if not prompt:
            render.show_error("Nothing to send", "The cell body is empty.")
            return None
        models = args.model or [self._default_model()]
        if models == [None]:
            render.show_error("No model chosen", "This kernel has no model yet.", NO_MODEL_HINT)
            return None
        if args.new:
            self.sessions.reset(args.session)
        conversation = self.sessions.get(args.session)
        if args.system is not None:
            args.system = _unquote(args.system)
            conversation.system = args.system
        if len(models) > 1:
            return self._compare(models, prompt, args)
        return self._chat_one(models[0], prompt, args)

    # ---- one model ------------------------------------------------------------

    def _chat_one(self, model_ref: str, prompt: str, args: Any) -> None:
        conversation = self.sessions.get(args.session)
        try:
            source, model = self._resolve(model_ref)
            request = self._request(model, conversation.ask(prompt), conversation.system, args)
        except CherryError as error:
            render.show_error(f"Cannot chat with {model_ref}", error.message, NO_MODEL_HINT)
            return None
        view = render.ReplyView()
        outcome = run_stream(self.runtime, source, request, view.add, view.tick)
        provider = answered_by(source, request)[0]
        if outcome.error is not None and not outcome.text:
            message, hint = describe_error(self.runtime, outcome.error, provider)
            view.clear()
            render.show_error(f"{model_ref} failed", message, hint)
            conversation.record_error(model_ref, prompt, outcome.error.message)
            return None
        footer = usage_line(model_ref, outcome.usage, outcome.seconds, outcome.interrupted)
        view.finish(outcome.text, footer, interrupted=outcome.interrupted)
        if outcome.error is not None:
            message, hint = describe_error(self.runtime, outcome.error, provider)
            render.show_error("The reply was cut short", message, hint)
        conversation.record(model_ref, prompt, outcome.text, interrupted=outcome.interrupted)
        self._publish(self._reply(model_ref, outcome))
        return None

    # ---- several models side by side ---------------------------------------------

    def _compare(self, model_refs: list[str], prompt: str, args: Any) -> None:
        """Cherry Studio's multi-model answer: one prompt, replies side by side.

        Each model keeps its own thread of history (session name + model), so
        follow-up comparisons continue each conversation separately.
        """
        try:
            targets = [(ref, *self._resolve(ref)) for ref in model_refs]
        except CherryError as error:
            render.show_error("Cannot compare", error.message, NO_MODEL_HINT)
            return None
        conversations = [self.sessions.thread(args.session, ref) for ref in model_refs]
        system = args.system if args.system is not None else self.sessions.get(args.session).system
        jobs = [
            (provider, self._request(model, conversation.ask(prompt), system, args))
            for (_, provider, model), conversation in zip(targets, conversations, strict=True)
        ]
        view = render.ColumnsView(model_refs)
        outcomes = run_streams(self.runtime, jobs, view.add, view.tick)
        replies: dict[str, ChatReply] = {}
        for column, (ref, conversation, outcome) in enumerate(
            zip(model_refs, conversations, outcomes, strict=True)
        ):
            if outcome.error is not None and not outcome.text:
                # No diagnosis here: a column has no room for a hint, so no model listing.
                view.note(column, f"failed: {outcome.error.message}")
                conversation.record_error(ref, prompt, outcome.error.message)
                continue
            view.note(column, usage_line(ref, outcome.usage, outcome.seconds, outcome.interrupted))
            conversation.record(ref, prompt, outcome.text, interrupted=outcome.interrupted)
            replies[ref] = self._reply(ref, outcome)
        view.finish()
        self._publish(replies)
        return None

    # ---- helpers -----------------------------------------------------------------

    def _default_model(self) -> str | None:
        if self.model:
            return self.model
        config = self.runtime.registry.config
        if config.default_model:
            return config.default_model
        enabled = [p for p in config.providers if p.enabled and p.models]
        if len(enabled) == 1:
            return f"{enabled[0].id}:{enabled[0].models[0].id}"
        return None

    def _resolve(self, model_ref: str) -> tuple[Source, str]:
        """Who answers `model_ref`, by the gateway's rules (a bare id that one enabled
        provider lists works too), and the model to ask; a model group is a GroupStream
        (its members tried by its strategy, the next one before the first token)."""
        self.runtime.registry.reload_if_changed()
        resolution = resolve_model(self.runtime.registry.config, model_ref.strip())
        if resolution.group is not None:
            return GroupStream(resolution.group, resolution.targets), resolution.group.id
        return resolution.first.provider, resolution.first.model

    @staticmethod
    def _request(model: str, messages: list[Any], system: str | None, args: Any) -> ChatRequest:
        return ChatRequest(
            model=model,
            messages=messages,
            system=system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            stream=True,
        )

    @staticmethod
    def _reply(model_ref: str, outcome: Outcome) -> ChatReply:
        return ChatReply(
            outcome.text,
            model=model_ref,
            usage=outcome.usage,
            seconds=outcome.seconds,
            interrupted=outcome.interrupted,
            error=outcome.error.message if outcome.error else None,
        )

    def _publish(self, value: Any) -> None:
        if self.shell is not None:
            self.shell.user_ns["_chat"] = value

    # ---- line subcommands ------------------------------------------------------------

    def _line(self, line: str) -> Any:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            render.show_error("Cannot parse %chat", str(exc))
            return None
        if not words or words[0] in ("help", "-h", "--help"):
            print(LINE_HELP)
            return None
        command, rest = words[0], words[1:]
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            render.show_error(f"Unknown %chat command {command!r}", "Commands:", LINE_HELP)
            return None
        try:
            return handler(rest)
        except CherryError as error:
            render.show_error(f"%chat {command} failed", error.message)
        except (IndexError, ValueError):
            render.show_error(f"Bad arguments to %chat {command}", " ".join(rest), LINE_HELP)
        return None

    def _cmd_use(self, rest: list[str]) -> None:
        source, model = self._resolve(rest[0])
        self.model = model if isinstance(source, GroupStream) else f"{source.id}:{model}"
        print(f"This kernel now chats with {self.model}.")

    def _cmd_providers(self, rest: list[str]) -> None:
        providers = self.runtime.registry.config.providers
        if not providers:
            render.show_markdown(f"_No providers yet._ {NO_MODEL_HINT}")
            return
        rows = ["| id | type | enabled | models | key | calls |", "|---|---|---|---|---|---|"]
        for p in providers:
            try:
                calls = display_url(provider_address(p).chat_url())
            except CherryError as error:  # a hand-edited address that cannot be used
                calls = f"unusable base URL: {error.message}"
            rows.append(
                f"| {p.id} | {p.type} | {'yes' if p.enabled else 'no'} | {len(p.models)} "
                f"| {p.key_hint} | {calls} |"
            )
        render.show_markdown("\n".join(rows))

    def _cmd_models(self, rest: list[str]) -> None:
        provider_id = rest[0]
        if "--fetch" in rest:
            models = [m.id for m in self.runtime.fetch_models(provider_id)]
        else:
            models = self.runtime.provider(provider_id).model_ids()
        render.show_markdown("\n".join(f"- `{provider_id}:{m}`" for m in models) or "_none_")

    def _cmd_check(self, rest: list[str]) -> None:
        model = rest[rest.index("-m") + 1] if "-m" in rest else None
        result = self.runtime.check(rest[0], model)
        keys = "\n".join(f"- {line}" for line in result.key_lines)
        if result.ok:
            render.show_markdown(f"{result.message}\n\n{keys}" if keys else result.message)
        else:
            render.show_error(f"Check of {rest[0]} failed", result.message, result.hint)
            if keys:
                render.show_markdown(keys)

    def _cmd_setup(self, rest: list[str]) -> Any:
        from .widgets import setup

        return setup(self.runtime)

    def _cmd_groups(self, rest: list[str]) -> Any:
        from .widgets.groups import groups_panel

        return groups_panel(self.runtime.registry)

    def _cmd_simulator(self, rest: list[str]) -> None:
        provider = self.runtime.start_simulator()
        print(
            f"Offline simulator running at {provider.base_url} as provider "
            f"{provider.id!r} (models: {', '.join(provider.model_ids())}). "
            f"Default model: {self._default_model()}."
        )

    def _cmd_reset(self, rest: list[str]) -> None:
        name = rest[rest.index("--session") + 1] if "--session" in rest else None
        self.sessions.reset(name)
        print("Conversation forgotten." if name is None else f"Session {name!r} forgotten.")

    def _cmd_history(self, rest: list[str]) -> None:
        name = rest[rest.index("--session") + 1] if "--session" in rest else "default"
        render.show_markdown(self.sessions.get(name).transcript())

    def _cmd_server(self, rest: list[str]) -> Any:
        action = rest[0] if rest else "status"
        gateway = self.runtime.gateway
        if action == "start":
            port = int(rest[rest.index("--port") + 1]) if "--port" in rest else None
            url = gateway.start(port=port)
            print(
                f"Gateway listening on {url} (key {gateway.masked_key}; "
                "the full key: cherry_nb.gateway_key())."
            )
        elif action == "stop":
            gateway.stop()
            print("Gateway stopped.")
        elif action == "status":
            status = gateway.status()
            if status.running:
                print(
                    f"Gateway running at {status.url}: {status.requests} requests, "
                    f"up {status.uptime_seconds} s, key {gateway.masked_key}."
                )
            else:
                print("Gateway stopped. Start it with %chat server start [--port P].")
        elif action == "panel":
            from .widgets import gateway_panel

            return gateway_panel(self.runtime)
        else:
            raise ValueError(action)
        return None
