"""The aiohttp side of ``serve``: app and webhooks, signed files, status page, operator console."""
