"""Writes the « Modèle contrat de prestation » and « Modèle de mandat » PDFs of static/docs/.

Run once after editing the texts: `.venv/bin/python scripts/build_model_documents.py`.
A small PDF writer (text only, Helvetica, WinAnsi) keeps the project free of a PDF library.
"""

import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "static" / "docs"

CONTRACT = (
    "Modèle de contrat de prestation",
    [
        "Portail Ségur Numérique - Enrôlement des fournisseurs SAS",
        "",
        "Entre les soussignés :",
        "La société ........................................ (dénomination sociale), SIRET ..............,",
        "dont le siège est situé ......................................................,",
        "représentée par M./Mme ........................, en qualité de représentant légal,",
        "ci-après « le fournisseur SAS »,",
        "",
        "Et :",
        "Le cabinet / centre de gestion ........................................, SIRET ..............,",
        "représenté par M./Mme ........................, ci-après « le prestataire ».",
        "",
        "Article 1 - Objet",
        "Le fournisseur SAS confie au prestataire, qui l'accepte, la mission de déposer en son nom la "
        "demande d'enrôlement sur le Portail Ségur Numérique de l'Agence de services et de paiement (ASP) "
        "pour le logiciel référencé par l'Agence du numérique en santé sous le numéro ..................., "
        "et d'en assurer le suivi.",
        "",
        "Article 2 - Engagements du prestataire",
        "Le prestataire s'engage à saisir des informations exactes et sincères, à transmettre les pièces "
        "justificatives fournies par le fournisseur SAS et à l'informer de toute communication de l'ASP.",
        "",
        "Article 3 - Engagements du fournisseur SAS",
        "Le fournisseur SAS s'engage à communiquer au prestataire des informations exactes et à jour, "
        "notamment ses coordonnées bancaires et les pièces d'identité de son représentant légal.",
        "",
        "Article 4 - Durée",
        "Le présent contrat prend effet à sa signature et prend fin à la clôture de la demande d'enrôlement.",
        "",
        "Fait à ........................, le ....../....../..........",
        "",
        "Pour le fournisseur SAS (nom, qualité, signature)        Pour le prestataire (nom, qualité, signature)",
    ],
)

MANDATE = (
    "Modèle de mandat",
    [
        "Portail Ségur Numérique - Enrôlement des fournisseurs SAS",
        "",
        "Je soussigné(e), M./Mme ........................................,",
        "représentant légal de la société ........................................, SIRET ..............,",
        "",
        "donne mandat à M./Mme ........................................, salarié(e) de la société,",
        "occupant la fonction de ........................................,",
        "",
        "pour déposer en mon nom et pour le compte de la société la demande d'enrôlement sur le Portail "
        "Ségur Numérique de l'Agence de services et de paiement (ASP) pour le logiciel référencé par "
        "l'Agence du numérique en santé sous le numéro ..................., et pour en assurer le suivi.",
        "",
        "Le mandataire s'engage à saisir des informations exactes et sincères. Le mandant reste "
        "responsable des informations transmises en son nom.",
        "",
        "Le présent mandat est valable jusqu'à la clôture de la demande d'enrôlement.",
        "",
        "Fait à ........................, le ....../....../..........",
        "",
        "Le mandant (signature précédée de la mention « Bon pour mandat »)",
        "",
        "Le mandataire (signature précédée de la mention « Bon pour acceptation du mandat »)",
    ],
)


def escape(text: str) -> bytes:
    raw = text.replace("’", "'").encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def page_stream(title: str, paragraphs: list[str]) -> bytes:
    lines: list[tuple[int, str]] = [(16, title), (11, "")]
    for paragraph in paragraphs:
        wrapped = textwrap.wrap(paragraph, 95) or [""]
        lines.extend((10, line) for line in wrapped)
    out = [b"BT", b"56 790 Td"]
    for size, line in lines:
        out.append(f"/F1 {size} Tf".encode())
        out.append(b"(" + escape(line) + b") Tj")
        out.append(f"0 -{size + 5} Td".encode())
    out.append(b"ET")
    return b"\n".join(out)


def build_pdf(title: str, paragraphs: list[str]) -> bytes:
    stream = page_stream(title, paragraphs)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + escape(title) + b") /Producer (Portail Segur Numerique) >>",
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        body += f"{offset:010d} 00000 n \n".encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "modele-contrat-de-prestation.pdf").write_bytes(build_pdf(*CONTRACT))
    (DOCS / "modele-mandat.pdf").write_bytes(build_pdf(*MANDATE))


if __name__ == "__main__":
    main()
