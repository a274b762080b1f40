"""`python -m cherry_nb` and the `cherry-nb` command: the command line, in `cli.py`."""

from __future__ import annotations

import gc


def main() -> int:
    # Start-up makes ~100k objects that live as long as the process (modules, classes,
    # functions); the cyclic collector walked them ~170 times while they loaded (~35 ms,
    # a tenth of `cherry-nb serve`'s start-up) only to find them alive. So it is paused
    # here, in the program only (never when cherry_nb is imported), and resumed by
    # `cli.main` once the command is parsed, or for `serve` once the app is built and
    # frozen (gateway/cli.py). The few cycles start-up leaves are kept (~0.5 MB).
    gc.disable()
    try:
        from .cli import main as run

        return run()
    finally:
        gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())
