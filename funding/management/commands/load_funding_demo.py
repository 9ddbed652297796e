"""`make run`'s demonstration of the funding requests: an open window, the example file's vendor
(ENR0001M0 on a fresh database) ready to file, and one request in each status, so that a newcomer
sees the whole flow in the portal and in the back office.

Idempotent: run again, it changes nothing but the demonstration accounts' passwords, which it
prints (generated at each run: no password lives in the repository).
"""

import json
import secrets
import uuid
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from stdnum import luhn

from accounts.groups import AGENT
from accounts.models import User
from enrolment.models import EnrolmentRequest, ReferencedSoftware, StatusChange
from enrolment.services import format_enr, next_enr_sequence
from funding import format as funding_format
from funding import services
from funding.models import FundingCheck, FundingRequest, FundingWindow

Status = FundingRequest.Status
EXAMPLE_VENDOR = ("demo.financement", "tndSAS0033")
# (identifiant, referencing number, status reached); SIRETs come from the referencing registry.
STATUS_VENDORS = [
    ("demo.incomplete", "tndSAS0034", Status.INCOMPLETE),
    ("demo.deposee", "tndSAS0035", Status.SUBMITTED),
    ("demo.instruction", "tndSAS0036", Status.IN_REVIEW),
    ("demo.amodifier", "tndSAS0037", Status.TO_MODIFY),
    ("demo.validee", "tndSAS0038", Status.VALIDATED),
    ("demo.payee", "tndSAS0039", Status.PAID),
    ("demo.rejetee", "tndSAS0042", Status.REJECTED),
]


class Command(BaseCommand):
    help = "Charge la démonstration des demandes de financement (guichet ouvert, une demande par statut)."

    def handle(self, *args, **options):
        window = self.window()
        agent = self.agent()
        passwords = {agent.username: self.reset_password(agent)}
        example = self.vendor(*EXAMPLE_VENDOR)
        if example:
            passwords[example.account.username] = self.reset_password(example.account)
        for index, (username, referencing, status) in enumerate(STATUS_VENDORS, start=1):
            enrolment = self.vendor(username, referencing)
            if enrolment is None:
                continue
            passwords[username] = self.reset_password(enrolment.account)
            if not FundingRequest.objects.filter(siret=enrolment.siret).exists():
                self.request_in(status, enrolment, index, agent)
        self.stdout.write(f"Guichet ouvert : {window}")
        if example:
            self.stdout.write(
                f"Fichier d'exemple : le fournisseur {example.account.username} "
                f"({example.number}, SIRET {example.siret})"
            )
        for username, password in passwords.items():
            self.stdout.write(f"  compte de démonstration {username} : mot de passe {password}")

    def window(self) -> FundingWindow:
        now = timezone.now()
        window = FundingWindow.objects.open_at(now).first()
        if window:
            return window
        return FundingWindow.objects.create(
            name="Guichet de démonstration",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=180),
            period_start=date(2023, 1, 1),
            period_end=date(2027, 12, 31),
        )

    def agent(self) -> User:
        agent, created = User.objects.get_or_create(
            username="agent.demo",
            defaults={
                "first_name": "Camille",
                "last_name": "Agent",
                "email": "agent.demo@asp.example",
                "is_staff": True,
            },
        )
        if created:
            agent.groups.add(Group.objects.get(name=AGENT))
        return agent

    def reset_password(self, user: User) -> str:
        password = secrets.token_urlsafe(9) + "!7"
        user.set_password(password)
        user.must_change_password = False
        if not user.is_staff:
            user.secret_question, user.secret_answer = "Couleur préférée ?", make_password("bleu")
        user.save()
        return password

    @transaction.atomic
    def vendor(self, username: str, referencing: str) -> EnrolmentRequest | None:
        """A vendor whose enrolment is validated, with its account (as after R-BO-2); None when
        someone already enrolled this software or this SIRET through the wizard."""
        software = ReferencedSoftware.objects.get(referencing_number=referencing)
        existing = EnrolmentRequest.objects.filter(account__username=username).first()
        if existing:
            return existing
        taken = EnrolmentRequest.objects.active().filter(
            Q(referencing_number=software.referencing_number) | Q(siret=software.editor_siret)
        )
        if taken.exists():
            self.stdout.write(f"{referencing} est déjà enrôlé : pas de démonstration {username}.")
            return None
        account = User.objects.create(
            username=username,
            first_name="Démonstration",
            last_name=username.split(".")[-1].upper(),
            email=f"{username}@fournisseur.example",
        )
        sequence = next_enr_sequence()
        enrolment = EnrolmentRequest.objects.create(
            number=format_enr(sequence), sequence=sequence, submission_key=uuid.uuid4(), software=software,
            referencing_number=software.referencing_number, software_name=software.software_name,
            software_version=software.version, dsr_label=software.dsr_label, siret=software.editor_siret,
            denomination=software.editor_name or software.software_name, trade_name=software.software_name,
            street_type="RUE", street_name="DE LA DEMONSTRATION", postal_code="75012", city="PARIS",
            is_legal_representative=True, representative_last_name=account.last_name,
            representative_first_name=account.first_name, representative_email=account.email,
            representative_phone="0145678910", iban="FR7630056009271234567890182", bic="CCFRFRPP",
            account_holder=software.editor_name or "DEMONSTRATION", bank_domiciliation="HSBC FRANCE",
            vat_rate=EnrolmentRequest.VatRate.TTC_20, status=EnrolmentRequest.Status.VALIDATED,
            decided_at=timezone.now(), account=account,
        )  # fmt: skip
        StatusChange.objects.create(enrolment=enrolment, from_status="", to_status=enrolment.status)
        return enrolment

    def request_in(self, status: str, enrolment: EnrolmentRequest, index: int, agent: User) -> None:
        document = funding_format.example()
        document["fournisseur"] = {
            "numero_enrolement": enrolment.number,
            "siret": enrolment.siret,
            "numero_referencement": enrolment.referencing_number,
        }
        for position, line in enumerate(document["beneficiaires"]):
            # Beneficiaries of their own: one financing per beneficiary across vendors.
            if line["type_identifiant"] == "RPPS":
                body = f"1{index:03d}{position:06d}"
            elif line["type_identifiant"] == "FINESS":
                body = f"75{index:02d}{position:04d}"
            else:
                line.update(type_identifiant="FINESS", raison_sociale=line["raison_sociale"])
                body = f"13{index:02d}{position:04d}"
            line["identifiant"] = body + luhn.calc_check_digit(body)
        content = json.dumps(document, ensure_ascii=False, indent=2).encode()
        check = services.start_check(
            purpose=FundingCheck.Purpose.FILING,
            json_upload=SimpleUploadedFile("demande-financement.json", content),
            zip_upload=None
            if status == Status.INCOMPLETE
            else SimpleUploadedFile("pieces.zip", funding_format.example_zip_bytes()),
            account=enrolment.account,
        )
        services.run_check(check_id=check.pk)
        check.refresh_from_db()
        request = services.file_funding_request(check=check, account=enrolment.account)
        if status in (Status.INCOMPLETE, Status.SUBMITTED):
            return
        if status == Status.REJECTED:
            services.reject_request(request=request, by=agent, reason="Bénéficiaires hors du dispositif SAS.")
            return
        request = services.start_review(request=request, by=agent)
        if status == Status.TO_MODIFY:
            services.ask_modification(
                request=request, by=agent, reason="Le bon de commande BC-2026-002 n'est pas signé."
            )
        elif status in (Status.VALIDATED, Status.PAID):
            request = services.validate_request(request=request, by=agent)
            if status == Status.PAID:
                services.mark_paid(
                    request=request, by=agent, amount=str(request.amount_ttc), paid_on=timezone.localdate(),
                    reference=f"VIR-DEMO-{request.number}",
                )  # fmt: skip
