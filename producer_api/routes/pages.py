"""The citizen upload page: plain HTML, CSS and JS from ``producer_api/static``, no build step.

``/`` and ``/mobile`` serve it; ``/mobile_upload.html`` keeps the reference system's
links working. Its assets are mounted at ``/static`` by :func:`producer_api.main.create_app`.

The page is in the browser's language (``Accept-Language``): ``index.html`` names its
texts as ``{{page.<key>}}``, filled from the message catalogues, and the texts its
script shows go along as a JSON data block (not a script: the page's CSP still holds).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from producer_api.deps import AdviceDep
from runtime.advice import Advice

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Read once: the page is small and its placeholders are filled per request.
_TEMPLATE = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
_PLACEHOLDER = re.compile(r"\{\{([\w.]+)\}\}")
#: Texts the script shows (verdict titles, progress, errors), by the name it uses.
SCRIPT_TEXTS = (
    "accepted",
    "rejected",
    "error",
    "passed",
    "needs_work",
    "check_label",
    "score",
    "uploading",
    "checking",
    "slow",
    "failed",
    "connection_failed",
    "server_answered",
    "timed_out",
    "already_sent",
)

router = APIRouter(tags=["page"], include_in_schema=False)


def _script_texts(advice: Advice) -> str:
    """The script's texts as JSON that cannot close its ``<script>`` element."""
    texts = {name: advice.template(f"page.{name}") for name in SCRIPT_TEXTS}
    return json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")


def render_page(template: str, advice: Advice) -> str:
    """``index.html`` with its placeholders filled in ``advice``'s language."""
    special = {"lang": advice.language, "dir": advice.direction}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "texts":
            return _script_texts(advice)
        return html.escape(special.get(name) or advice.text(name))

    return _PLACEHOLDER.sub(fill, template)


@router.get("/", response_class=HTMLResponse)
@router.get("/mobile", response_class=HTMLResponse)
@router.get("/mobile_upload.html", response_class=HTMLResponse)
async def upload_page(advice: AdviceDep) -> HTMLResponse:
    return HTMLResponse(
        render_page(_TEMPLATE, advice),
        headers={"Content-Language": advice.language, "Vary": "Accept-Language"},
    )
