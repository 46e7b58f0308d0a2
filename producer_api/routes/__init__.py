"""Assembles the routers, one module per resource (FastAPI template's ``api/main.py``)."""

from fastapi import APIRouter

from producer_api.deps import AUTHENTICATED
from producer_api.routes import advice, health, images, images_v2, legacy, pages, rules, summary

api_router = APIRouter()
api_router.include_router(images.router)
api_router.include_router(images_v2.router)
api_router.include_router(advice.router)
api_router.include_router(summary.router)
api_router.include_router(rules.router)
api_router.include_router(health.router)
api_router.include_router(legacy.public_router)
api_router.include_router(legacy.router, dependencies=[AUTHENTICATED])
api_router.include_router(pages.router)
