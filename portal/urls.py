from django.urls import path

from enrolment import amendment_views
from funding import views as funding_views
from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("actualites/<int:pk>/", views.news_detail, name="news_detail"),
    path("enrolement/", views.enrolments, name="enrolments"),
    path("enrolement/<str:enr_number>/", views.enrolment_detail, name="enrolment_detail"),
    # R-AFT-2: « Demander une modification » of a validated enrolment.
    path("enrolement/<str:enr_number>/modification/", amendment_views.modification, name="modification"),
    path(
        "enrolement/<str:enr_number>/modification/recapitulatif/",
        amendment_views.modification_recap,
        name="modification_recap",
    ),
    path(
        "enrolement/<str:enr_number>/modification/enregistree/",
        amendment_views.modification_done,
        name="modification_done",
    ),
    path("demande-de-financement/", funding_views.funding_home, name="funding"),
    path("mon-compte/", views.account, name="account"),
    path("aide/", views.help_page, name="help"),
]
