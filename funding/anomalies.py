"""What the check engine reports (R-FIN-2): one stable code per kind of problem, its severity
and its French message. The codes are part of the published format (the documentation page
lists them, the JSON twin returns them): never rename one, add a new one instead.
"""

from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    BLOCKING = "bloquante"
    WARNING = "avertissement"


class Scope(StrEnum):
    """What an anomaly is about: the JSON file, or the zip and its pieces. A filing whose JSON is
    accepted but whose zip is missing or refused is « Incomplète » (R-FIN-5)."""

    JSON = "json"
    ZIP = "zip"
    VENDOR = "fournisseur"


@dataclass(frozen=True)
class Code:
    severity: Severity
    scope: Scope
    title: str  # what the documentation page lists


B, W = Severity.BLOCKING, Severity.WARNING
J, Z, V = Scope.JSON, Scope.ZIP, Scope.VENDOR

CODES: dict[str, Code] = {
    # The file itself
    "json_absent": Code(B, J, "Aucun fichier json n'a été envoyé."),
    "json_trop_volumineux": Code(B, J, "Le fichier json dépasse la taille maximum."),
    "json_encodage": Code(B, J, "Le fichier json n'est pas encodé en UTF-8."),
    "json_syntaxe": Code(B, J, "Le fichier json est mal formé (ligne et colonne indiquées)."),
    "json_cle_en_double": Code(B, J, "Un même champ est écrit deux fois dans un objet."),
    # The schema
    "format_inconnu": Code(B, J, "Le champ format ou version ne désigne pas ce format."),
    "champ_obligatoire": Code(B, J, "Un champ obligatoire manque."),
    "champ_inconnu": Code(B, J, "Un champ ne fait pas partie du format."),
    "type_invalide": Code(B, J, "Une valeur n'a pas le type attendu (texte, objet, liste)."),
    "valeur_non_autorisee": Code(B, J, "Une valeur n'est pas dans la liste des valeurs permises."),
    "format_invalide": Code(B, J, "Une valeur ne respecte pas le format du champ."),
    "longueur_invalide": Code(B, J, "Une valeur ou une liste est trop courte ou trop longue."),
    # Amounts
    "montant_nombre": Code(B, J, "Un montant est écrit comme un nombre au lieu d'un texte à 2 décimales."),
    "montant_format": Code(B, J, "Un montant n'est pas écrit avec exactement 2 décimales."),
    "montant_nul": Code(B, J, "Un montant vaut 0 €."),
    "total_ht_incoherent": Code(B, J, "Le montant HT de la demande n'est pas la somme des lignes."),
    "total_ttc_incoherent": Code(B, J, "Le montant TTC ne correspond pas au montant HT et au taux TVA."),
    # Dates
    "date_invalide": Code(B, J, "Une date n'existe pas ou n'est pas écrite AAAA-MM-JJ."),
    "date_future": Code(B, J, "Une date est postérieure à aujourd'hui."),
    "date_ordre": Code(B, J, "Le bon de commande est postérieur au raccordement."),
    "date_hors_periode": Code(B, J, "Une date est hors de la période du dispositif."),
    # Identifiers
    "siret_invalide": Code(B, J, "Un numéro de SIRET est invalide (14 chiffres, clé de Luhn)."),
    "rpps_invalide": Code(B, J, "Un numéro RPPS est invalide (11 chiffres, clé de Luhn)."),
    "finess_invalide": Code(B, J, "Un numéro FINESS est invalide (9 caractères, clé de Luhn)."),
    "beneficiaire_en_double": Code(B, J, "Un bénéficiaire figure deux fois dans le fichier."),
    # The zip and its pieces
    "zip_absent": Code(W, Z, "Aucun fichier zip : la présence des pièces n'est pas vérifiée."),
    "zip_invalide": Code(B, Z, "Le fichier zip est illisible ou n'est pas un zip."),
    "zip_trop_volumineux": Code(B, Z, "Le fichier zip ou son contenu dépasse la taille maximum."),
    "zip_trop_de_fichiers": Code(B, Z, "Le fichier zip contient trop de fichiers."),
    "zip_taux_compression": Code(B, Z, "Un fichier du zip est anormalement compressé (bombe de décompression)."),
    "zip_chemin_interdit": Code(B, Z, "Un fichier du zip a un chemin absolu ou remontant (« .. »)."),
    "zip_lien": Code(B, Z, "Le zip contient un lien symbolique."),
    "zip_archive_imbriquee": Code(B, Z, "Le zip contient une autre archive."),
    "zip_chiffre": Code(B, Z, "Un fichier du zip est chiffré (protégé par un mot de passe)."),
    "zip_nom_en_double": Code(B, Z, "Deux fichiers du zip portent le même nom."),
    "piece_refusee": Code(B, Z, "Une pièce du zip ne passe pas les contrôles des pièces justificatives."),
    "piece_absente": Code(B, Z, "Une pièce citée par une ligne est absente du zip."),
    "piece_non_citee": Code(W, Z, "Un fichier du zip n'est cité par aucune ligne."),
    # The signed-in vendor (private simulator and filing)
    "fournisseur_different": Code(B, V, "Le fournisseur du fichier n'est pas l'enrôlement validé du compte."),
    "taux_tva_different": Code(B, V, "Le taux TVA n'est pas celui de l'enrôlement."),
    "beneficiaire_deja_finance": Code(B, V, "Un bénéficiaire est déjà financé dans la demande d'un autre fournisseur."),
    "guichet_ferme": Code(B, V, "Aucun guichet de dépôt n'est ouvert."),
}


@dataclass(frozen=True)
class Anomaly:
    code: str
    message: str
    path: str = ""  # beneficiaires[12].identifiant, or a file of the zip: zip:dossier/BC-1.pdf
    line: int | None = None  # syntax and encoding errors only
    column: int | None = None
    severity: Severity | None = None  # the code's own unless overridden

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"Code d'anomalie inconnu : {self.code}")
        if self.severity is None:
            object.__setattr__(self, "severity", CODES[self.code].severity)

    @property
    def scope(self) -> Scope:
        return CODES[self.code].scope

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.BLOCKING

    @property
    def position(self) -> str:
        if self.line is not None:
            return f"ligne {self.line}, colonne {self.column}"
        return ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Anomaly":
        return cls(**{**data, "severity": Severity(data["severity"])})
