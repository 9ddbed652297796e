"""Model factories for the back-office tests (factory-boy)."""

import hashlib
import uuid
from datetime import timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.groups import AGENT, SUPPORT
from accounts.models import User
from enrolment.models import EnrolmentDocument, EnrolmentRequest, ReferencedSoftware, StatusChange
from tests import files


class ReferencedSoftwareFactory(DjangoModelFactory):
    class Meta:
        model = ReferencedSoftware
        django_get_or_create = ("referencing_number",)

    referencing_number = factory.Sequence(lambda n: f"tndSAS{9000 + n}")
    software_name = "ARCAD SAAD"
    version = "17"
    dsr_label = "Couloir 4 / DUI / Vague 1"
    editor_siret = "47992882200069"
    editor_name = "ARCAD"


def _siret(n: int) -> str:
    """A 14-digit number passing the Luhn key, distinct per request."""
    body = f"{100000000 + n:09d}0001"[:13]
    for check in range(10):
        digits = [int(c) for c in body + str(check)]
        total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return body + str(check)
    raise AssertionError("no Luhn key")


class EnrolmentRequestFactory(DjangoModelFactory):
    class Meta:
        model = EnrolmentRequest
        skip_postgeneration_save = True

    software = factory.SubFactory(ReferencedSoftwareFactory)
    sequence = factory.Sequence(lambda n: 5000 + n)
    number = factory.LazyAttribute(lambda o: f"ENR{o.sequence:04d}M0")
    submission_key = factory.LazyFunction(uuid.uuid4)
    referencing_number = factory.LazyAttribute(lambda o: o.software.referencing_number)
    software_name = factory.LazyAttribute(lambda o: o.software.software_name)
    software_version = factory.LazyAttribute(lambda o: o.software.version)
    dsr_label = factory.LazyAttribute(lambda o: o.software.dsr_label)
    siret = factory.Sequence(_siret)
    registry_denomination = "ASSOCIATION SERVICES MEDIATION"
    denomination = "ASSOCIATION SERVICES MEDIATION"
    trade_name = "ASM Logiciels"
    street_type = "RUE"
    street_name = "DE FIGUERAS"
    postal_code = "13700"
    city = "ST VICTORET"
    is_legal_representative = True
    representative_last_name = "Oda"
    representative_first_name = "Eishiro"
    representative_email = factory.Sequence(lambda n: f"representant{n}@example.fr")
    representative_phone = "0668561565"
    iban = "FR7630056009271234567890182"
    bic = "CCFRFRPP"
    account_holder = "ODA"
    bank_domiciliation = "HSBC FRANCE"
    vat_rate = EnrolmentRequest.VatRate.TTC_20

    @factory.post_generation
    def first_status(obj, create, extracted, **kwargs):
        if create:
            StatusChange.objects.create(enrolment=obj, from_status="", to_status=EnrolmentRequest.Status.SUBMITTED)


class EnrolmentDocumentFactory(DjangoModelFactory):
    class Meta:
        model = EnrolmentDocument

    enrolment = factory.SubFactory(EnrolmentRequestFactory)
    kind = EnrolmentDocument.Kind.RIB
    original_name = "RIB société.pdf"
    content_type = "application/pdf"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        content = files.pdf_bytes(kwargs["original_name"])
        document = model_class(**kwargs, size=len(content), sha256=hashlib.sha256(content).hexdigest())
        document.file.save("document", ContentFile(content), save=False)
        document.save()
        return document


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"utilisateur{n}")
    first_name = "Camille"
    last_name = "Agent"
    email = factory.LazyAttribute(lambda o: f"{o.username}@asp.example.fr")
    password = factory.django.Password("Mot2passe!Solide")
    # A vendor that went through its first connection: password changed, secret question set.
    must_change_password = False
    secret_question = "Nom de ma première école ?"
    secret_answer = factory.LazyFunction(lambda: make_password("jules ferry"))


def staff_in(group_name: str, **kwargs) -> User:
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def agent(**kwargs) -> User:
    return staff_in(AGENT, **kwargs)


def support_user(**kwargs) -> User:
    return staff_in(SUPPORT, **kwargs)


class NewsFactory(DjangoModelFactory):
    """An « actualité » of the vendors' home page, published a day ago by default."""

    class Meta:
        model = "portal.News"

    title = factory.Sequence(lambda n: f"Actualité {n}")
    body = "Le portail évolue.\n\nLa demande de financement ouvrira prochainement."
    published = True
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
