"""Conversation memory for %%chat: per-kernel sessions of neutral messages. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..wire.neutral import Message, Text, Usage


@dataclass(slots=True)
class Turn:
    """One exchange, as the transcript shows it."""

    model: str
    prompt: str
    reply: str
    interrupted: bool = False
    error: str | None = None


@dataclass(slots=True)
class Conversation:
    """The messages sent so far in one session, plus a readable log of turns."""

    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    def ask(self, prompt: str) -> list[Message]:
        """The messages to send for `prompt` (not yet recorded)."""
        return [*self.messages, Message("user", [Text(prompt)])]

    def record(self, model: str, prompt: str, reply: str, *, interrupted: bool = False) -> None:
        """Keep the exchange; a partial (interrupted) reply is kept as said so far."""
        self.messages.append(Message("user", [Text(prompt)]))
        if reply:
            self.messages.append(Message("assistant", [Text(reply)]))
        self.turns.append(Turn(model, prompt, reply, interrupted))

    def record_turn(
        self,
        model: str,
        prompt: str,
        reply: str,
        messages: list[Message],
        *,
        interrupted: bool = False,
    ) -> None:
        """Keep a turn's messages as sent and received (images, tool calls and their
        results included), so the next turn continues from all of it."""
        self.messages.extend(messages)
        self.turns.append(Turn(model, prompt, reply, interrupted))

    def record_error(self, model: str, prompt: str, error: str) -> None:
        """A failed turn is shown in the transcript but not sent next time."""
        self.turns.append(Turn(model, prompt, "", error=error))

    def transcript(self) -> str:
        """Markdown of the whole session, for `%chat history`."""
        if not self.turns:
            return "_No messages yet in this session._"
        parts = [f"**System:** {self.system}"] if self.system else []
        for number, turn in enumerate(self.turns, 1):
            parts.append(f"**You** ({number}):\n\n{turn.prompt}")
            if turn.error:
                parts.append(f"**{turn.model}:** _failed: {turn.error}_")
            else:
                mark = " _(interrupted)_" if turn.interrupted else ""
                parts.append(f"**{turn.model}:**{mark}\n\n{turn.reply}")
        return "\n\n---\n\n".join(parts)


class Sessions:
    """Named conversations of one kernel; `default` unless `--session NAME`.

    A comparison keeps one thread per model within a session (`thread`), so each
    model continues its own conversation; resetting a session resets those too.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, Conversation] = {}
        self._threads: dict[tuple[str, str], Conversation] = {}

    def get(self, name: str = "default") -> Conversation:
        return self._sessions.setdefault(name, Conversation())

    def thread(self, name: str, model_ref: str) -> Conversation:
        """The conversation `model_ref` keeps in session `name` for comparisons."""
        return self._threads.setdefault((name, model_ref), Conversation())

    def reset(self, name: str | None = None) -> None:
        """Forget session `name` and its comparison threads, or (None) everything."""
        if name is None:
            self._sessions.clear()
            self._threads.clear()
            return
        self._sessions.pop(name, None)
        for key in [key for key in self._threads if key[0] == name]:
            del self._threads[key]


def usage_line(model: str, usage: Usage | None, seconds: float, interrupted: bool) -> str:
    """The footer under a reply: model, tokens, latency."""
    parts = [model]
    if usage is not None and (usage.input_tokens or usage.output_tokens):
        parts.append(f"{usage.input_tokens} in / {usage.output_tokens} out tokens")
    parts.append(f"{seconds:.1f} s")
    if interrupted:
        parts.append("interrupted")
    return " · ".join(parts)
