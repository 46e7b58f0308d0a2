"""The engine version recorded in every verdict, so a stored verdict can be traced to its code."""

ENGINE_VERSION = "0.2.0"
