"""Settings and reference tables: the one place that reads the environment."""

from config.settings import Settings, load_settings, mask_credentials, mask_url, use_store

__all__ = ["Settings", "load_settings", "mask_credentials", "mask_url", "use_store"]
