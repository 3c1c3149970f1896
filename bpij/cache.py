"""A Redis cache that keeps answering when Redis does not.

The cache holds nothing that must survive: sign-in rate limits, "is the person still on
the page" marks (reporting.services.check_notices). With Redis down or stalled, Django's
RedisCache raises (or waits) and every request using it answers 500. This one waits at
most the socket timeouts of its OPTIONS (settings.REDIS_TIMEOUT), logs the error and
falls back to a cache in the process, so rate limits still apply per process and pages
keep working; once Redis answers again it is used again.
"""

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure, Redis is not tried again for this many seconds: a stalled Redis would
# otherwise cost every request its timeout.
RETRY_AFTER = 5.0


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        fallback = {"TIMEOUT": params["TIMEOUT"]} if "TIMEOUT" in params else {}
        self._fallback = LocMemCache(f"resilient-{server}", fallback)
        self._down_until = 0.0

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except RedisError as error:
                self._down_until = time.monotonic() + RETRY_AFTER
                logger.warning(
                    "Redis cache unavailable (%s: %s); using the process's own cache for %.0f s",
                    type(error).__name__,
                    error,
                    RETRY_AFTER,
                )
        return getattr(self._fallback, name)(*args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        return self._call("clear")
