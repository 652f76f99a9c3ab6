"""What the indexer's and the service's command lines share: a quiet start, a clean exit."""

import logging
import os
import sys
from typing import NoReturn

# FAISS tries its AVX512 and AVX2 builds in turn and logs each miss at INFO with a
# ModuleNotFoundError, which reads like a failure; the build it then loads works.
LIBRARY_PROBES = ("faiss.loader",)


def quiet_library_probes() -> None:
    """Keep libraries' start-up probes out of an INFO log."""
    for name in LIBRARY_PROBES:
        logging.getLogger(name).setLevel(logging.WARNING)


def exit_now(status: int) -> NoReturn:
    """End the process once its output is out, without the interpreter's teardown.

    Whatever a command wrote is durable before it returns (an index is fsynced and renamed into
    place), and nothing left holds unwritten data. The teardown is worse than slow: tearing
    down ~300 imported modules took 0.1-0.2 s, a tenth of a small indexer run, and with
    onnxruntime's thread pools still alive it ends in ``terminate called without an active
    exception`` and exit code 134 (a service that could not bind its port). mypy's
    ``hard_exit`` does the same.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
