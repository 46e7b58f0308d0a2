"""Container healthcheck: exit 0 when the URL answers 2xx within 3 seconds, else 1.

Used by the Dockerfile's HEALTHCHECK (API ``/healthz``) and by docker-compose for the
consumer (its ``/metrics`` port). Stdlib only, so it runs in the slim runtime image.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def healthy(url: str, timeout_s: float = 3.0) -> bool:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (checked above)
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000/healthz"
    return 0 if healthy(url) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
