"""The citizen upload page: plain HTML, CSS and JS from ``producer_api/static``, no build step.

``/`` and ``/mobile`` serve it; ``/mobile_upload.html`` keeps the reference system's
links working. Its assets are mounted at ``/static`` by :func:`producer_api.main.create_app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_PAGE = STATIC_DIR / "index.html"

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/", response_class=FileResponse)
@router.get("/mobile", response_class=FileResponse)
@router.get("/mobile_upload.html", response_class=FileResponse)
async def upload_page() -> FileResponse:
    return FileResponse(_PAGE, media_type="text/html; charset=utf-8")
