"""Schemathesis checks of our own, loaded into the fuzzer's venv (SCHEMATHESIS_HOOKS): every 4xx answer
has the API's error shape, with a machine-readable reason and a message."""

import schemathesis


@schemathesis.check
def error_has_reason(ctx, response, case):
    if not 400 <= response.status_code < 500:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and error.get("reason") and error.get("message")):
        raise AssertionError(f"{response.status_code} without error.reason and error.message: {str(body)[:200]}")
