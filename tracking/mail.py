"""The deposit receipt attached to the acknowledgement mails (R-AFT-4, R-MAIL-1, R-FIN-5) and to
those of a modification ENR…Mn (R-AFT-2) and of the compléments of an « A compléter » round
(R-AFT-1).

Made when the worker sends the mail, from the stored request: the outbox row holds no PDF, and a
row delivered twice (a worker's re-delivery) is still sent once by the outbox (SECURITY R2) — and
would carry the same bytes anyway (see ``tracking.receipts``)."""

import re

from enrolment.models import CorrectionRound, EnrolmentVersion
from funding.models import FundingStatusChange
from notifications.models import OutboundEmail
from notifications.services import Attachment
from tracking import receipts

PDF = "application/pdf"
FUNDING_KEY = re.compile(r"^funding:(?P<request>\d+):change:(?P<change>\d+)$")
CORRECTION_KEY = re.compile(r"^enrolment:(?P<enrolment>\d+):correction:(?P<round>\d+):received$")
MODIFICATION_KEY = re.compile(r"^enrolment:(?P<enrolment>\d+):version:(?P<index>\d+):acknowledgement$")


def enrolment_receipt(email: OutboundEmail) -> list[Attachment]:
    if email.enrolment is None:
        return []
    receipt = receipts.enrolment_receipt(email.enrolment)
    return [(receipt.filename, receipts.render_pdf(receipt), PDF)]


def funding_receipt(email: OutboundEmail) -> list[Attachment]:
    # The row's key names the filing's change of status, and so its version (funding.services._mail).
    match = FUNDING_KEY.match(email.key)
    if match is None:
        return []
    change = FundingStatusChange.objects.select_related("request__enrolment", "version").get(
        pk=match["change"], request_id=match["request"]
    )
    receipt = receipts.funding_receipt(change.request, change.version)
    return [(receipt.filename, receipts.render_pdf(receipt), PDF)]


def modification_receipt(email: OutboundEmail) -> list[Attachment]:
    # The row's key names the modification (enrolment.versions.request_modification).
    match = MODIFICATION_KEY.match(email.key)
    if match is None:
        return []
    version = EnrolmentVersion.objects.select_related("enrolment").get(
        enrolment_id=match["enrolment"], index=match["index"]
    )
    receipt = receipts.modification_receipt(version)
    return [(receipt.filename, receipts.render_pdf(receipt), PDF)]


def correction_receipt(email: OutboundEmail) -> list[Attachment]:
    # The row's key names the round (enrolment.versions.resubmit_corrections).
    match = CORRECTION_KEY.match(email.key)
    if match is None:
        return []
    round_ = CorrectionRound.objects.select_related("enrolment").get(
        enrolment_id=match["enrolment"], number=match["round"]
    )
    receipt = receipts.correction_receipt(round_)
    return [(receipt.filename, receipts.render_pdf(receipt), PDF)]


# Registered by TrackingConfig.ready(): the kinds whose mails carry the receipt.
ATTACHMENTS = {
    "enrolment_acknowledgement": enrolment_receipt,
    "funding_acknowledgement": funding_receipt,
    "modification_acknowledgement": modification_receipt,
    "enrolment_correction_received": correction_receipt,
}
