"""Access to the Kymata Atlas API (used only to verify KIDs, and only when asked)."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

API_URL = "https://kymata.org/api/functions/"
API_TIMEOUT_S = 5.0


def fetch_data_dict(api: str = API_URL, timeout_s: float = API_TIMEOUT_S) -> Any:
    """GET ``api`` and parse the JSON payload, giving up after ``timeout_s`` seconds in total.

    The request runs in a daemon thread so that name resolution, connection and reading are all
    covered by the one deadline (urllib's own timeout applies per socket operation only).

    Raises
    ------
    TimeoutError
        When the whole request takes longer than ``timeout_s``.
    OSError
        On a connection failure or an HTTP error status (``urllib.error.URLError``/``HTTPError``).
    ValueError
        When the payload is not valid JSON.
    """
    result: dict[str, Any] = {}

    def worker() -> None:
        try:
            with urllib.request.urlopen(api, timeout=timeout_s) as response:  # noqa: S310 (fixed https URL)
                body = response.read()
            result["data"] = json.loads(body.decode("utf-8"))
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    thread = threading.Thread(target=worker, name="kymata-atlas-fetch", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"no complete response within {timeout_s:g} s")
    if "error" in result:
        raise result["error"]
    return result["data"]
