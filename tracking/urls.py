from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("suivre-ma-demande/", views.status_check, name="status"),
    path("enrolement/demande-enregistree/<str:token>/", views.confirmation, name="confirmation"),
    path(
        "enrolement/demande-enregistree/<str:token>/accuse-de-depot.pdf",
        views.confirmation_receipt,
        name="confirmation_receipt",
    ),
    path("espace/enrolement/<str:enr_number>/accuse-de-depot.pdf", views.enrolment_receipt, name="enrolment_receipt"),
    path(
        "enrolement/<str:enr_number>/complements-<int:round_number>/accuse-de-depot.pdf",
        views.correction_receipt,
        name="correction_receipt",
    ),
    path(
        "espace/enrolement/<str:enr_number>/modification/<str:number>/accuse-de-depot.pdf",
        views.modification_receipt,
        name="modification_receipt",
    ),
    path(
        "espace/demande-de-financement/<str:number>/version-<int:version>/accuse-de-depot.pdf",
        views.funding_receipt,
        name="funding_receipt",
    ),
]
