from django.urls import path

from funding import views

app_name = "funding"

FORMAT = "format/segurnum-financement-sas/1.0/"
PRIVATE = "espace/demande-de-financement/"

urlpatterns = [
    # The published format (R-FIN-1)
    path(FORMAT, views.format_documentation, name="format"),
    path(f"{FORMAT}schema.json", views.format_schema, name="schema"),
    path(f"{FORMAT}modele-vierge.json", views.format_blank_model, name="blank_model"),
    path(f"{FORMAT}exemple.json", views.format_example, name="example"),
    path(f"{FORMAT}exemple-pieces.zip", views.format_example_zip, name="example_zip"),
    # The public simulator (R-FIN-3); its page is public:json_simulator
    path("simuler-fichier-json/rapport/<uuid:check_id>/", views.public_report, name="public_report"),
    path("simuler-fichier-json/rapport/<uuid:check_id>/rapport.csv", views.public_report_csv, name="public_report_csv"),
    path("simuler-fichier-json/api/v1/controle", views.api_check, name="api_check"),
    # The vendor's pages (R-FIN-4..6); the first page is portal:funding
    path(f"{PRIVATE}simuler/", views.private_simulator, name="simulator"),
    path(f"{PRIVATE}deposer/", views.file_request, name="file"),
    path(f"{PRIVATE}nouvelle-version/", views.send_version, name="new_version"),
    path(f"{PRIVATE}controle/<uuid:check_id>/", views.check_page, name="check"),
    path(f"{PRIVATE}controle/<uuid:check_id>/rapport.csv", views.check_csv, name="check_csv"),
    path(f"{PRIVATE}controle/<uuid:check_id>/recapitulatif/", views.recap, name="recap"),
    path(f"{PRIVATE}controle/<uuid:check_id>/envoyer-les-pieces/", views.complete, name="complete"),
    path(f"{PRIVATE}deposee/<str:number>/", views.filed, name="filed"),
    path(f"{PRIVATE}incompletes/", views.incomplete, name="incomplete"),
]
