import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from segurnum.fields import EncryptedJSONField, EncryptedTextField, KeyedHashField
from segurnum.storage import private_storage


class ReferencedSoftware(models.Model):
    """A software referenced by the ANS for the Service d'Accès aux Soins (R-BIZ-3)."""

    referencing_number = models.CharField("N° unique de référencement (ANS)", max_length=50, unique=True)
    software_name = models.CharField("nom du logiciel", max_length=200)
    version = models.CharField("version du logiciel", max_length=50)
    dsr_label = models.CharField("DSR concerné (couloir / type logiciel / vague)", max_length=200)
    editor_siret = models.CharField("SIRET de l'éditeur", max_length=14)
    editor_name = models.CharField("nom de l'éditeur", max_length=200, blank=True)
    active = models.BooleanField("actif", default=True)

    class Meta:
        verbose_name = "logiciel référencé (ANS)"
        verbose_name_plural = "logiciels référencés (ANS)"
        ordering = ["referencing_number"]
        # R-PERF-4: the number is looked up whatever its case (« TNDSAS0031 »).
        indexes = [models.Index(Upper("referencing_number"), name="software_refnum_upper")]

    def __str__(self) -> str:
        return f"{self.referencing_number} — {self.software_name} {self.version}"


class EnrolmentCounter(models.Model):
    """Single-row counter behind the ENR numbers (R-BIZ-4).

    The row is incremented with an UPDATE inside the submission transaction: the row lock
    serialises concurrent submissions and a rolled-back submission gives its number back, so
    ENR numbers are gapless, unique and never reused.
    """

    name = models.CharField(max_length=30, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "compteur"

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


# R-BIZ-1, R-BIZ-2: a request blocks its referencing number and its SIRET until it is rejected.
ACTIVE = ~Q(status="rejected")
ALREADY_ENROLLED_NUMBER = "Ce numéro de référencement fait déjà l'objet d'une demande d'enrôlement."
ALREADY_ENROLLED_SIRET = "Ce fournisseur (SIRET) a déjà effectué une demande d'enrôlement."


def is_distributor(*, siret: str, editor_siret: str) -> bool:
    """R-WIZ-3: a vendor whose SIRET is not the referenced software's editor's distributes it."""
    return bool(siret) and siret != editor_siret


class EnrolmentRequestQuerySet(models.QuerySet):
    def active(self) -> "EnrolmentRequestQuerySet":
        """The requests that hold their number and SIRET (R-BIZ-1, R-BIZ-2)."""
        return self.filter(ACTIVE)

    def owned_by(self, user) -> "EnrolmentRequestQuerySet":
        """The signed-in vendor's own requests, nobody else's (R-PRIV-3)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(account=user)


class EnrolmentRequest(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Soumise"
        IN_REVIEW = "in_review", "En cours d'instruction"
        VALIDATED = "validated", "Validée"
        REJECTED = "rejected", "Rejetée"
        # R-AFT-1: an agent asked the vendor to correct some fields or documents (CorrectionRound).
        TO_COMPLETE = "to_complete", "A compléter"

    class VatRate(models.TextChoices):
        TTC_20 = "ttc_20", "TTC - 20%"
        TTC_8_5 = "ttc_8_5", "TTC - 8,5%"
        TTC_0 = "ttc_0", "TTC - 0%"
        HT_0 = "ht_0", "HT - 0%"

    class ThirdPartyQuality(models.TextChoices):
        MANAGEMENT_CENTRE = "management_centre", "Centre de gestion, expert-comptable..."
        EMPLOYEE = "employee", "Employé de la personne morale"

    number = models.CharField("numéro de demande", max_length=20, unique=True)
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    submission_key = models.UUIDField(
        "clé de soumission",
        unique=True,
        editable=False,
        help_text="Identifie le parcours du demandeur : un double envoi ne crée qu'une demande.",
    )
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField("soumise le", auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte du fournisseur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolment_requests",
        help_text="Créé à la validation de la demande (identifiant et mot de passe provisoire envoyés par courriel).",
    )

    # Référencement
    software = models.ForeignKey(
        ReferencedSoftware, verbose_name="logiciel", on_delete=models.PROTECT, related_name="enrolments"
    )
    referencing_number = models.CharField("N° unique de référencement (ANS)", max_length=50)
    software_name = models.CharField("nom du logiciel", max_length=200)
    software_version = models.CharField("version du logiciel", max_length=50)
    dsr_label = models.CharField("DSR concerné", max_length=200)

    # Personne morale
    siret = models.CharField("numéro de SIRET", max_length=14)
    registry_denomination = models.CharField("dénomination au répertoire", max_length=250, blank=True)
    denomination = models.CharField("dénomination sociale", max_length=250)
    trade_name = models.CharField("nom commercial", max_length=250)
    recipient = models.CharField("identité du destinataire / service", max_length=250, blank=True)
    building = models.CharField("entrée / bât / immeuble", max_length=250, blank=True)
    street_number = models.CharField("N°", max_length=10, blank=True)
    street_extension = models.CharField("extension", max_length=10, blank=True)
    street_type = models.CharField("type de voie", max_length=50)
    street_name = models.CharField("nom de voie", max_length=250)
    address_complement = models.CharField("complément d'adresse", max_length=250, blank=True)
    postal_code = models.CharField("code postal", max_length=5)
    city = models.CharField("commune", max_length=100)
    is_distributor = models.BooleanField("distributeur", default=False)

    # Demandeur
    is_legal_representative = models.BooleanField("représentant légal du fournisseur")
    representative_last_name = models.CharField("nom du représentant", max_length=100)
    representative_first_name = models.CharField("prénom du représentant", max_length=100)
    representative_email = models.EmailField("email du représentant")
    representative_phone = models.CharField("téléphone du représentant", max_length=20)
    depositor_last_name = models.CharField("nom du dépositaire", max_length=100, blank=True)
    depositor_first_name = models.CharField("prénom du dépositaire", max_length=100, blank=True)
    depositor_email = models.EmailField("email du dépositaire", blank=True)
    depositor_phone = models.CharField("téléphone du dépositaire", max_length=20, blank=True)
    third_party_quality = models.CharField(
        "qualité du tiers déclarant", max_length=20, choices=ThirdPartyQuality.choices, blank=True
    )

    # Coordonnées bancaires. The IBAN is encrypted in the database (SECURITY P2, P5) and found
    # by its keyed hash (selectors.requests_with_iban); agents see it whole, support and the
    # vendor masked (masked_iban).
    iban = EncryptedTextField("IBAN")
    iban_hash = KeyedHashField("empreinte de l'IBAN", source="iban")
    bic = models.CharField("BIC", max_length=11)
    account_holder = models.CharField("titulaire", max_length=250)
    bank_domiciliation = models.CharField("domiciliation", max_length=250)

    # Régime TVA
    vat_rate = models.CharField("taux TVA", max_length=10, choices=VatRate.choices)

    objects = EnrolmentRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande d'enrôlement"
        verbose_name_plural = "demandes d'enrôlement"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # R-BIZ-1 / R-BIZ-2: one active request per referencing number and per SIRET; a rejected
            # request does not block a new one. Enforced by the database, not only by a check.
            models.UniqueConstraint(
                fields=["referencing_number"],
                condition=ACTIVE,
                name="enrolment_one_active_per_referencing_number",
                violation_error_message=ALREADY_ENROLLED_NUMBER,
            ),
            models.UniqueConstraint(
                fields=["siret"],
                condition=ACTIVE,
                name="enrolment_one_active_per_siret",
                violation_error_message=ALREADY_ENROLLED_SIRET,
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="enrolment_status_submitted"),
            # R-PERF-4: the agents' list, newest first, reads its page in the index's order (no
            # sort of the requests submitted at the same instant).
            models.Index(fields=["-submitted_at", "-id"], name="enrolment_list_order"),
            models.Index(fields=["siret"], name="enrolment_siret"),
            models.Index(fields=["vat_rate", "submitted_at"], name="enrolment_vat_submitted"),
            models.Index(fields=["iban_hash"], name="enrolment_iban_hash"),
            # R-PERF-4: what the wizard, the agents and the support desk look up whatever its case
            # (Django's iexact and the admin's « = » search compare UPPER(column)). The admin's
            # « contains » searches (UPPER(column) LIKE '%…%') go through trigram indexes on
            # PostgreSQL, made by migration 0006 (SQLite has no such index).
            models.Index(Upper("referencing_number"), name="enrolment_refnum_upper"),
            models.Index(Upper("representative_email"), name="enrolment_rep_email_upper"),
            models.Index(Upper("depositor_email"), name="enrolment_dep_email_upper"),
            # The consistency flags (R-OPS-3) look for the same representative across vendors.
            models.Index(fields=["representative_phone"], name="enrolment_rep_phone"),
        ]
        permissions = [
            ("validate_enrolmentrequest", "Peut valider une demande d'enrôlement"),
            ("reject_enrolmentrequest", "Peut rejeter une demande d'enrôlement"),
            ("lookup_enrolmentrequest", "Peut rechercher une demande par son numéro ENR (support)"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def representative_name(self) -> str:
        return f"{self.representative_first_name} {self.representative_last_name.upper()}"

    @property
    def is_third_party(self) -> bool:
        """Filed by a « tiers déclarant » rather than by the legal representative (R-WIZ-4)."""
        return not self.is_legal_representative

    @property
    def masked_iban(self) -> str:
        """The IBAN as support staff see it: country and key, then the last four characters."""
        iban = self.iban.replace(" ", "")
        return f"{iban[:4]} **** **** {iban[-4:]}" if len(iban) > 8 else "****"

    @property
    def contact_emails(self) -> list[str]:
        """The representative and, for a tiers déclarant, the depositor (R-MAIL-1, R-MAIL-2)."""
        return [email for email in (self.representative_email, self.depositor_email) if email]

    @property
    def modification_index(self) -> int:
        """The index of the version in force: 0 for the original, n once ENR…Mn is validated."""
        return (
            self.versions.filter(status=EnrolmentVersion.Status.VALIDATED)
            .order_by("-index")
            .values_list("index", flat=True)
            .first()
            or 0
        )

    @property
    def items_to_complete(self) -> list[str]:
        """R-AFT-1: the labels of what the vendor is asked to correct, while « A compléter »."""
        if self.status != self.Status.TO_COMPLETE:
            return []
        round_ = self.correction_rounds.filter(answered_at__isnull=True).order_by("-number").first()
        return round_.item_labels if round_ else []


def document_upload_to(instance: "EnrolmentDocument", filename: str) -> str:
    # Server-generated names (SECURITY F9): the vendor's file name is metadata only.
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(instance.content_type, "bin")
    return f"{instance.enrolment.submission_key}/{uuid.uuid4().hex}.{extension}"


class EnrolmentDocument(models.Model):
    class Kind(models.TextChoices):
        REFERENCING_CERTIFICATE = "referencing_certificate", "Certificat de référencement"
        KBIS = "kbis", "kbis"
        EDITOR_MANDATE = "editor_mandate", "Mandat de l'éditeur pour le distributeur"
        REPRESENTATIVE_ID = "representative_id", "CNI, passeport ou titre de séjour du représentant"
        DEPOSITOR_ID = "depositor_id", "CNI, passeport ou titre de séjour du demandeur"
        SERVICE_CONTRACT = "service_contract", "Contrat de prestation"
        LEGAL_REPRESENTATIVE_MANDATE = "legal_representative_mandate", "Mandat du représentant légal"
        RIB = "rib", "RIB"
        VAT_EXEMPTION_PROOF = "vat_exemption_proof", "Preuve de régime hors TVA"

    enrolment = models.ForeignKey(EnrolmentRequest, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("pièce", max_length=40, choices=Kind.choices)
    file = models.FileField("fichier", storage=private_storage, upload_to=document_upload_to, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField("type", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)

    class Meta:
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"
        ordering = ["enrolment", "kind"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "kind"], name="document_one_per_kind")]
        # The same file in another vendor's request (R-OPS-3).
        indexes = [models.Index(fields=["sha256"], name="document_sha256")]
        permissions = [("download_enrolmentdocument", "Peut ouvrir les pièces justificatives")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.original_name}"


class StatusChange(models.Model):
    """Every change of status, with who, when, from, to and the comment (R-BO-1)."""

    enrolment = models.ForeignKey(EnrolmentRequest, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField("de", max_length=20, choices=EnrolmentRequest.Status.choices, blank=True)
    to_status = models.CharField("vers", max_length=20, choices=EnrolmentRequest.Status.choices)
    at = models.DateTimeField("le", auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, null=True, blank=True
    )
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "changement de statut"
        verbose_name_plural = "changements de statut"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment} : {self.from_status or '—'} → {self.to_status}"


class AccessRecord(models.Model):
    """Who looked at what in the back office, and when (SECURITY P3).

    Written for every opening of a request's detail page, of a document, and of a support
    search. It names the request and the document, never their content (no IBAN, no secret).
    """

    class Action(models.TextChoices):
        VIEW_REQUEST = "view_request", "Consultation d'une demande"
        OPEN_DOCUMENT = "open_document", "Ouverture d'une pièce justificative"
        SUPPORT_LOOKUP = "support_lookup", "Recherche par le support"
        VIEW_FUNDING = "view_funding", "Consultation d'une demande de financement"
        OPEN_FUNDING_PIECE = "open_funding_piece", "Ouverture d'une pièce d'une demande de financement"
        SUPPORT_FUNDING_LOOKUP = "support_funding", "Recherche d'une demande de financement par le support"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="utilisateur", on_delete=models.PROTECT)
    at = models.DateTimeField("le", auto_now_add=True, db_index=True)
    action = models.CharField("action", max_length=20, choices=Action.choices)
    enrolment = models.ForeignKey(
        EnrolmentRequest,
        verbose_name="demande",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_records",
    )
    document = models.ForeignKey(
        EnrolmentDocument, verbose_name="pièce", on_delete=models.SET_NULL, null=True, blank=True
    )
    funding_request = models.ForeignKey(
        "funding.FundingRequest",
        verbose_name="demande de financement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_records",
    )
    funding_document = models.ForeignKey(
        "funding.FundingDocument", verbose_name="pièce de financement", on_delete=models.SET_NULL, null=True, blank=True
    )
    target = models.CharField(
        "objet", max_length=300, help_text="Ce qui a été consulté, lisible même après la purge des données."
    )

    class Meta:
        verbose_name = "trace de consultation"
        verbose_name_plural = "traces de consultation"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.user} — {self.get_action_display()} — {self.target}"


def format_enr(sequence: int, modification: int = 0) -> str:
    """The guide's number: ENR, the sequence on four digits, M and the modification index (R-BIZ-4)."""
    return f"ENR{sequence:04d}M{modification}"


class EnrolmentVersion(models.Model):
    """One version of a request's values (R-AFT-2): M0 the original, M1, M2… each modification.

    The data model for versions: ``EnrolmentRequest`` stays the dossier. It keeps its number
    (ENR0011M0, the one every mail, the support look-up and the private space know), its
    ``sequence``, its status and the values *in force*, so every reader (funding, support, the
    back office, exports) keeps reading one row per vendor, and the partial constraints « one
    active request per referencing number / per SIRET » are unchanged. Each version is a row
    here: index 0 is a snapshot of what was submitted; index n ≥ 1 a modification with the
    blocks it touches, the values it replaces (``previous_values``) and the new ones
    (``values``), the documents on each side, its status and who decided it when. A
    modification's number ENR0011Mn is derived (``format_enr(sequence, index)``), never stored.

    The database keeps at most one pending modification per request (a partial unique index),
    and one row per index. Values are stored encrypted (they hold the IBAN, SECURITY P5).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente de validation"
        VALIDATED = "validated", "Validée"
        REJECTED = "rejected", "Rejetée"

    enrolment = models.ForeignKey(EnrolmentRequest, on_delete=models.CASCADE, related_name="versions")
    index = models.PositiveIntegerField("indice de modification")
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.PENDING)
    blocks = models.JSONField("blocs modifiés", default=list, blank=True)
    values = EncryptedJSONField("valeurs de cette version", default=dict, blank=True)
    previous_values = EncryptedJSONField("valeurs remplacées", default=dict, blank=True)
    documents = models.JSONField("pièces de cette version", default=dict, blank=True)
    previous_documents = models.JSONField("pièces remplacées", default=dict, blank=True)
    submitted_at = models.DateTimeField("déposée le", default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "version d'une demande d'enrôlement"
        verbose_name_plural = "demandes de modification"
        ordering = ["enrolment", "index"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "index"], name="enrolment_version_one_per_index"),
            # R-AFT-2: at most one modification waiting for an agent, whatever the concurrency.
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(status="pending"),
                name="enrolment_one_pending_modification",
                violation_error_message="Une demande de modification est déjà en cours pour cet enrôlement.",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="enrolment_version_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return format_enr(self.enrolment.sequence, self.index)


class CorrectionRound(models.Model):
    """One « A compléter » round (R-AFT-1): what the agent asked, and what the vendor sent back.

    The vendor's link carries this row's id and ``nonce``, signed (django.core.signing): it cannot
    be forged without the secret key, works until ``expires_at`` and once (``answered_at``). The
    request keeps its number; the values and documents replaced are kept here.
    """

    enrolment = models.ForeignKey(EnrolmentRequest, on_delete=models.CASCADE, related_name="correction_rounds")
    number = models.PositiveSmallIntegerField("tour")
    items = models.JSONField("éléments à compléter", default=list)
    message = models.TextField("message au demandeur")
    requested_at = models.DateTimeField("demandé le", default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="demandé par", on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField("lien valable jusqu'au")
    nonce = models.CharField(max_length=64, editable=False)
    reminded_at = models.DateTimeField("relancé le", null=True, blank=True)
    answered_at = models.DateTimeField("renvoyée le", null=True, blank=True)
    values = EncryptedJSONField("valeurs corrigées", default=dict, blank=True)
    previous_values = EncryptedJSONField("valeurs remplacées", default=dict, blank=True)
    documents = models.JSONField("pièces reçues", default=dict, blank=True)
    previous_documents = models.JSONField("pièces remplacées", default=dict, blank=True)

    class Meta:
        verbose_name = "demande de compléments"
        verbose_name_plural = "demandes de compléments"
        ordering = ["enrolment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "number"], name="correction_one_per_number"),
            models.UniqueConstraint(
                fields=["enrolment"], condition=Q(answered_at__isnull=True), name="correction_one_open_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} — compléments n° {self.number}"

    @property
    def item_labels(self) -> list[str]:
        from enrolment.amendments import item_label  # the labels are the wizard forms'; forms import models

        return [item_label(name) for name in self.items]

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
