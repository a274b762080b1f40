"""Keys echoed by an upstream are masked in relayed bytes, wherever the reads split them."""

from __future__ import annotations

import random

from cherry_nb._secrets import mask_key
from cherry_nb.gateway.scrub import StreamScrubber, scrub

KEY = "sk-" + "scrubtest0123456789abcdefghij"  # built at runtime: no key-shaped literal
OTHER = "another-provider-key-000111"
SECRETS = tuple((k.encode(), mask_key(k).encode()) for k in (KEY, OTHER))
EVENT = f'data: {{"error": "invalid key {KEY} for this org"}}\n\n'.encode()


def relay(reads: list[bytes]) -> bytes:
    scrubber = StreamScrubber(SECRETS)
    return b"".join(scrubber.feed(r) for r in reads) + scrubber.flush()


def test_scrub_masks_every_key_in_one_read() -> None:
    out = scrub(EVENT + OTHER.encode(), SECRETS)
    assert KEY.encode() not in out and OTHER.encode() not in out
    assert mask_key(KEY).encode() in out


def test_a_key_split_at_any_point_between_two_reads_is_masked() -> None:
    expected = scrub(EVENT, SECRETS)
    for cut in range(1, len(EVENT)):
        assert relay([EVENT[:cut], EVENT[cut:]]) == expected, cut


def test_a_key_split_over_many_reads_is_masked() -> None:
    rng = random.Random(7)
    stream = EVENT * 3 + b'data: {"text": "ok"}\n\n'
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(stream)), 12))
        reads = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert relay(reads) == scrub(stream, SECRETS)


def test_reads_ending_in_a_newline_or_plain_text_go_out_at_once() -> None:
    scrubber = StreamScrubber(SECRETS)
    assert scrubber.feed(b'data: {"a": 1}\n\n') == b'data: {"a": 1}\n\n'
    assert scrubber.feed(b"data: zzz") == b"data: zzz"  # no key starts with z
    assert scrubber.flush() == b""


def test_only_a_possible_key_start_is_held_back() -> None:
    scrubber = StreamScrubber(SECRETS)
    assert scrubber.feed(b"data: hello sk-scr") == b"data: hello "
    assert scrubber.feed(b"ambled\n\n") == b"sk-scrambled\n\n"  # not the key after all


def test_a_stream_that_ends_inside_a_key_never_reveals_it() -> None:
    scrubber = StreamScrubber(SECRETS)
    head = KEY.encode()[:-1]
    assert scrubber.feed(b"data: " + head) == b"data: "
    assert scrubber.flush() == mask_key(KEY).encode()
    short = StreamScrubber(SECRETS)  # a few bytes are let out: they reveal nothing
    assert short.feed(b"class") == b"clas"  # ...could start "sk-..."
    assert short.flush() == b"s"


def test_without_keys_nothing_is_held() -> None:
    scrubber = StreamScrubber(())
    assert scrubber.feed(b"data: sk-") == b"data: sk-"
