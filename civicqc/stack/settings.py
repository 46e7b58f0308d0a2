"""Where the local stack keeps its state and downloads: the stack's own environment variables.

Read here and only here, like the services' settings (:mod:`runtime.settings`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICQC_", extra="ignore", env_ignore_empty=True)

    stack_dir: Path | None = Field(
        default=None, description="Stack folder; default .stack/ in the checkout."
    )
    cache_dir: Path | None = Field(
        default=None, description="Download cache; default $XDG_CACHE_HOME/civicqc."
    )
    xdg_cache_home: Path | None = Field(
        default=None,
        validation_alias="XDG_CACHE_HOME",
        description="The user's cache base (XDG); default ~/.cache.",
    )

    def downloads_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        return (self.xdg_cache_home or Path.home() / ".cache") / "civicqc"
