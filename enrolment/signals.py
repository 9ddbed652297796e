"""What the enrolment app announces to the apps above it (R-OPS-3 consistency flags), so that it
never imports them: they connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the transaction that stores a request or changes its values (enrolment=...).
request_stored = Signal()
# Sent when the company registry answers the wizard's SIRET look-up (company=a Company dataclass).
company_looked_up = Signal()
