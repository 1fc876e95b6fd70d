"""Schemathesis hooks for peerpath's contract tests.

A generated Idempotency-Key is drawn from a small space ("0", "A", ...), so two cases with
different bodies would share one and the second be refused (422), as the header's contract
says. Real clients make a fresh key per request: a well-formed key is replaced by a fresh
one here; a malformed one (a negative case) is sent as drawn.
"""

import uuid

import schemathesis

HEADER = "Idempotency-Key"


def _well_formed(key):
    # HTTP drops spaces and tabs around a header's value; an empty value is no key.
    key = key.strip(" \t") if isinstance(key, str) else None
    return bool(key) and len(key) <= 255 and all("!" <= c <= "~" or c in " \t" for c in key)


@schemathesis.hook
def map_headers(ctx, headers):
    if headers and _well_formed(headers.get(HEADER)):
        headers[HEADER] = str(uuid.uuid4())
    return headers
