"""What the funding app announces to the apps above it (R-OPS-3 consistency flags), so that it
never imports them: they connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the transaction that stores a funding request, a new version of it, or its
# rejection (funding_request=...).
funding_request_stored = Signal()
