"""Assembles the routers, one module per resource (FastAPI template's ``api/main.py``)."""

from fastapi import APIRouter

from producer_api.routes import health, images, rules, summary

api_router = APIRouter()
api_router.include_router(images.router)
api_router.include_router(summary.router)
api_router.include_router(rules.router)
api_router.include_router(health.router)
