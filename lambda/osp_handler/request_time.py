"""When CloudFormation sent a request, read from its ``ResponseURL``.

CloudFormation's ``ResponseURL`` is an S3 URL pre-signed with Signature Version 4 when the
request is sent: its ``X-Amz-Date`` query parameter is that moment (to the second, UTC). Lambda
may deliver the same event again minutes later (an asynchronous invocation is retried twice after
a crash or a timeout), so the invocation's own start is not when the request began; the
resource's ``ServiceTimeout`` counts from the request.
"""

from __future__ import annotations

import calendar
import time
from urllib.parse import parse_qs, urlsplit

__all__ = ["request_sent_at"]

_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def request_sent_at(response_url: str) -> float | None:
    """Return when the request was sent (epoch seconds), or None when the URL does not say.

    :param response_url: the event's ``ResponseURL``.
    """
    try:
        query = parse_qs(urlsplit(response_url).query)
        stamp = query.get("X-Amz-Date", [""])[0]
        if not stamp:
            return None
        return float(calendar.timegm(time.strptime(stamp, _AMZ_DATE)))
    except ValueError:
        return None
