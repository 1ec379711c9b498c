"""Security headers on every response the app sends, and the reverse-proxy settings they depend on.

A small after_request hook rather than Flask-Talisman: the policy is a fixed set of headers, the
app never redirects to HTTPS itself (the proxy terminates TLS), and one readable function is easier
to audit than a library's options. Pages, JSON, downloads, static files, redirects and error pages
(500 included: Flask runs after_request hooks on the error handler's response) all pass through it.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import config

# No 'unsafe-inline' anywhere: templates hold no inline script, style attribute or event handler
# (tests/security/test_headers.py scans them). JSON data blocks (<script type="application/json">)
# are allowed because they are never executed. img-src allows data: for small inline icons.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Powerful browser features the product never uses, denied to the page and to anything it embeds.
# Only features Chromium knows: an unknown name is logged as an error in the console.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "geolocation", "gyroscope",
    "hid", "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock",
    "serial", "usb", "xr-spatial-tracking",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP level 2
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies, then add the headers to every response."""
    counts = app.config.get("LMS_PROXY_FIX") or {}
    if isinstance(counts, str):  # an override given as text, like the environment variable
        counts = config.parse_proxy_fix(counts)
    if counts:
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    hsts_seconds = current_app.config.get("LMS_HSTS_SECONDS", 0)
    # Only over HTTPS (directly, or as the trusted proxy says): browsers ignore it over plain HTTP.
    if hsts_seconds and request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts_seconds)}")
    return response
