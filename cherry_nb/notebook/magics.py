"""`%%chat` and the `%chat` line subcommands (README, "Chat in a cell").

Every failure is shown as a short panel in the cell — never a traceback.
`%load_ext` imports this module, so it imports only what registering the magics
needs; the providers, the config models (pydantic) and httpx load in the methods
that use them, at the first `%%chat` or `%chat` command.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, get_args

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .._exceptions import CherryError, ConfigError, UnknownProviderError
from .._secrets import display_url, redact
from ..wire.neutral import ChatRequest, Message, Part, ReasoningEffort, Text
from . import render
from .conversation import Sessions, usage_line
from .images import image_file, image_of, is_image
from .interpolate import interpolate_parts

if TYPE_CHECKING:
    from .chat import ChatReply, Outcome, Source
    from .runtime import Runtime
    from .tools import PythonTool

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
%chat simulator [stop]   start (stop) this kernel's offline simulator, provider `simulator`
%chat reset [--session NAME]    forget the conversation
%chat history [--session NAME]  show the conversation
%chat server start [--port P] | stop | status | panel
"""


EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)


def _prompt_text(user: Message) -> str:
    """The user message as the transcript shows it (images as a mark)."""
    return "\n\n".join(part.text if isinstance(part, Text) else "[image]" for part in user.content)


def _hint_for(error: CherryError) -> str:
    """The hint under a resolution error: how to choose a model, only when the
    error is about which model or provider (other errors say what to fix)."""
    if isinstance(error, UnknownProviderError) or "provider-id:model-id" in error.message:
        return NO_MODEL_HINT
    return ""


def _ask(call: str) -> bool:
    """--confirm: ask in the notebook (an input box) before a call runs."""
    try:
        answer = input(f"Run {call}? [y/N] ")
    except Exception:  # the front end cannot ask (StdinNotImplementedError): do not run
        return False
    return answer.strip().lower() in ("y", "yes")


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
            from .runtime import get_runtime

            self._runtime = get_runtime()
        return self._runtime

    @magic_arguments()
    @argument("-m", "--model", action="append", help="provider-id:model-id (repeat to compare)")
    @argument("-s", "--system", help="system prompt (kept for the session)")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("--max-tokens", type=int, help="longest reply, in tokens")
    @argument("--new", action="store_true", help="start a new conversation")
    @argument("--session", default="default", help="conversation name, for parallel threads")
    @argument("--tools", help="notebook functions the model may call, e.g. get_weather,search")
    @argument("--confirm", action="store_true", help="ask before running each tool call")
    @argument("--max-steps", type=int, default=8, help="most tool-call rounds in a turn (8)")
    @argument("--image", action="append", help="an image file to send with the prompt")
    @argument("--no-think", action="store_true", help="ask for no reasoning, and show none")
    @argument("--effort", choices=EFFORTS, help="reasoning effort: " + ", ".join(EFFORTS))
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
            render.show_error("Bad %%chat options", str(exc), "See `%%chat?` for the options.")
            return None
        namespace = self.shell.user_ns if self.shell else {}
        try:
            user = self._user_message(cell.strip(), namespace, args.image or [])
        except CherryError as error:
            render.show_error("Cannot send this prompt", error.message)
            return None
        if user is None:
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
            if args.tools:
                render.show_error(
                    "Tools work with one model",
                    "`--tools` cannot be combined with several `-m` (a comparison).",
                )
                return None
            return self._compare(models, user, args)
        return self._chat_one(models[0], user, args)

    # ---- one model ------------------------------------------------------------

    def _chat_one(self, model_ref: str, user: Message, args: Any) -> None:
        from .chat import ChatReply, describe_error, provider_of
        from .turn import provenance, run_turn

        conversation = self.sessions.get(args.session)
        prompt = _prompt_text(user)
        try:
            source, model = self._resolve(model_ref)
            tools = self._tools(args)
        except CherryError as error:
            render.show_error(f"Cannot chat with {model_ref}", error.message, _hint_for(error))
            return None
        view = render.ReplyView(model_ref)
        result = run_turn(
            self.runtime,
            source,
            lambda messages: self._request(model, messages, conversation.system, args, tools),
            conversation.messages,
            user,
            view,
            tools=tools,
            max_steps=max(args.max_steps, 0),
            ask=_ask if args.confirm else None,
            show_thinking=not args.no_think,
        )
        provider = provider_of(source)
        if result.error is not None and not result.shown:
            message, hint = describe_error(self.runtime, result.error, provider)
            view.clear()
            view.close()
            render.show_error(f"{model_ref} failed", message, hint)
            conversation.record_error(model_ref, prompt, result.error.message)
            return None
        footer = usage_line(model_ref, result.usage, result.seconds, result.interrupted)
        if result.tool_calls:
            footer += f" · {result.tool_calls} tool call{'s' if result.tool_calls != 1 else ''}"
        view.finish(
            result.shown,
            footer,
            interrupted=result.interrupted,
            thinking=result.thinking,
            provenance=provenance(model_ref, provider, model, result),
        )
        if result.step_limit_hit:
            render.show_error(
                "Stopped at the step limit",
                f"The model was still calling tools after {args.max_steps} rounds.",
                "Raise it with `--max-steps N`, or ask for fewer calls.",
            )
        if result.error is not None:
            message, hint = describe_error(self.runtime, result.error, provider)
            render.show_error("The reply was cut short", message, hint)
        conversation.record_turn(
            model_ref, prompt, result.text, result.messages, interrupted=result.interrupted
        )
        self._publish(
            ChatReply(
                result.text,
                model=model_ref,
                usage=result.usage,
                seconds=result.seconds,
                interrupted=result.interrupted,
                error=result.error.message if result.error else None,
            )
        )
        return None

    def _user_message(
        self, body: str, namespace: dict[str, Any], image_paths: list[str]
    ) -> Message | None:
        """The cell body as a user message: `{name}` interpolated, `{fig}` and
        `--image` files as image parts; None when there is nothing to send."""
        text, images = interpolate_parts(body, namespace, is_image, image_of)
        parts: list[Part] = []
        position = 0
        for offset, image in images:
            if text[position:offset].strip():
                parts.append(Text(text[position:offset].strip()))
            parts.append(image)
            position = offset
        if text[position:].strip():
            parts.append(Text(text[position:].strip()))
        parts += [image_file(path) for path in image_paths]
        return Message("user", parts) if parts else None

    def _tools(self, args: Any) -> list[PythonTool]:
        if not args.tools:
            return []
        from .tools import tools_from_namespace

        names = [name.strip() for name in args.tools.split(",") if name.strip()]
        return tools_from_namespace(names, self.shell.user_ns if self.shell else {})

    # ---- several models side by side ---------------------------------------------

    def _compare(self, model_refs: list[str], user: Message, args: Any) -> None:
        """Cherry Studio's multi-model answer: one prompt, replies side by side.

        Each model keeps its own thread of history (session name + model), so
        follow-up comparisons continue each conversation separately.
        """
        from .chat import describe_error, provider_of, run_streams

        try:
            targets = [(ref, *self._resolve(ref)) for ref in model_refs]
        except CherryError as error:
            render.show_error("Cannot compare", error.message, NO_MODEL_HINT)
            return None
        conversations = [self.sessions.thread(args.session, ref) for ref in model_refs]
        system = args.system if args.system is not None else self.sessions.get(args.session).system
        prompt = _prompt_text(user)
        jobs = [
            (provider, self._request(model, [*conversation.messages, user], system, args))
            for (_, provider, model), conversation in zip(targets, conversations, strict=True)
        ]
        view = render.ColumnsView(model_refs)

        def failed(column: int, error: CherryError) -> None:  # shown while the others stream
            view.fail(column, f"{model_refs[column]} failed", error.message)

        outcomes = run_streams(self.runtime, jobs, view.add, view.tick, on_error=failed)
        replies: dict[str, ChatReply] = {}
        for column, (ref, conversation, outcome) in enumerate(
            zip(model_refs, conversations, outcomes, strict=True)
        ):
            if outcome.error is not None and not outcome.text:
                # The same panel and hint as a single reply's.
                message, hint = describe_error(
                    self.runtime, outcome.error, provider_of(targets[column][1])
                )
                view.fail(column, f"{ref} failed", message, hint)
                conversation.record_error(ref, prompt, outcome.error.message)
                continue
            view.note(column, usage_line(ref, outcome.usage, outcome.seconds, outcome.interrupted))
            if outcome.error is not None:
                message, hint = describe_error(
                    self.runtime, outcome.error, provider_of(targets[column][1])
                )
                view.fail(column, "The reply was cut short", message, hint)
            said = [Message("assistant", [Text(outcome.text)])] if outcome.text else []
            conversation.record_turn(
                ref, prompt, outcome.text, [user, *said], interrupted=outcome.interrupted
            )
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
        from ..config.resolve import resolve_model
        from ..providers.groups import GroupStream
        from .chat import NO_SIMULATOR, SIMULATOR_HINT
        from .runtime import SIMULATOR_ID

        self.runtime.registry.reload_if_changed()
        try:
            resolution = resolve_model(self.runtime.registry.config, model_ref.strip())
        except UnknownProviderError as error:
            if error.provider_id == SIMULATOR_ID:
                raise ConfigError(f"{NO_SIMULATOR} {SIMULATOR_HINT}") from None
            raise
        if resolution.group is not None:
            return GroupStream(resolution.group, resolution.targets), resolution.group.id
        return resolution.first.provider, resolution.first.model

    @staticmethod
    def _request(
        model: str,
        messages: list[Message],
        system: str | None,
        args: Any,
        tools: list[PythonTool] | None = None,
    ) -> ChatRequest:
        effort: ReasoningEffort | None = "none" if args.no_think else args.effort
        return ChatRequest(
            model=model,
            messages=messages,
            system=system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            stream=True,
            tools=[tool.spec() for tool in tools or ()],
            reasoning_effort=effort,
        )

    @staticmethod
    def _reply(model_ref: str, outcome: Outcome) -> ChatReply:
        from .chat import ChatReply

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
            render.show_error(
                f"Unknown %chat command {command!r}", "The commands are:", listing=LINE_HELP
            )
            return None
        try:
            return handler(rest)
        except CherryError as error:
            render.show_error(f"%chat {command} failed", error.message)
        except (IndexError, ValueError):
            render.show_error(
                f"Bad arguments to %chat {command}",
                " ".join(rest) or "(none given)",
                listing=LINE_HELP,
            )
        return None

    def _cmd_use(self, rest: list[str]) -> None:
        from ..providers.groups import GroupStream

        source, model = self._resolve(rest[0])
        self.model = model if isinstance(source, GroupStream) else f"{source.id}:{model}"
        print(f"This kernel now chats with {self.model}.")

    def _cmd_providers(self, rest: list[str]) -> None:
        from ..config.urls import provider_address

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
        """Start this kernel's simulator and chat with it here (other kernels and the
        config file's default model are left alone)."""
        from .runtime import SIMULATOR_ID

        if rest and rest[0] == "stop":
            self.runtime.stop_simulator()
            if self.model and self.model.startswith(f"{SIMULATOR_ID}:"):
                self.model = None
            print("Offline simulator stopped.")
            return
        provider = self.runtime.start_simulator()
        self.model = f"{provider.id}:{provider.models[0].id}"
        print(
            f"Offline simulator running at {provider.base_url} as provider "
            f"{provider.id!r}, in this kernel only (models: {', '.join(provider.model_ids())}). "
            f"This kernel now chats with {self.model}."
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
